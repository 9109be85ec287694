"""sysbench's report read into WA3's metric names, whichever sysbench printed it.

sysbench reworded its report twice. 0.4 prints "Test execution summary:" and the
latencies under "per-request statistics:", each with "ms" after it; 0.5 says
"General statistics:" and "response time:"; 1.0 keeps "General statistics:" but
lists the latencies as bare numbers under "Latency (ms):" and calls the
percentile "95th percentile". WA3 3.3.1 walks the report line by line expecting
0.5's words, so it stops with an error on every 1.0 report. Here each number is
found by its own label, wherever it is, so all three reports give the same names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .tool import Reading

NUMBER = r"(?P<value>\d+(?:\.\d+)?)"
TOTAL_TIME = re.compile(rf"^\s*total time:\s*{NUMBER}\s*(?P<units>[a-z]*)\s*$", re.M)
TOTAL_EVENTS = re.compile(rf"^\s*total number of events:\s*{NUMBER}\s*$", re.M)
LATENCY_HEADER = re.compile(
    r"^\s*(?:response time|per-request statistics|Latency \((?P<units>\w+)\)):\s*$")
LATENCY_LINE = re.compile(
    rf"^\s*(?P<label>min|avg|max|sum|approx\.\s+(?P<old>\d+) percentile|(?P<new>\d+)th "
    rf"percentile):\s*{NUMBER}\s*(?P<units>[a-z]*)\s*$")
FAIRNESS = re.compile(
    r"^\s*(?P<label>events|execution time) \(avg/stddev\):\s*"
    r"(?P<avg>\d+(?:\.\d+)?)/(?P<stddev>\d+(?:\.\d+)?)\s*$", re.M)

#: WA3's names that every sysbench report has; a report without one of them is incomplete.
REQUIRED = ("total time", "total number of events", "response time min", "response time avg",
            "response time max", "thread fairness events avg", "thread fairness events stddev",
            "thread fairness execution time avg", "thread fairness execution time stddev")


@dataclass(frozen=True)
class Rate:
    """A per-test throughput line that WA3 does not read (a pytest-wa addition)."""

    name: str
    regex: re.Pattern[str]
    units: str  # may name the regex's "unit" group: "{unit}/s"


RATES = (
    Rate("events per second", re.compile(rf"^\s*events per second:\s*{NUMBER}\s*$", re.M),
         "events/s"),
    Rate("operations per second", re.compile(
        rf"^(?:Total operations|Operations performed):\s*\d+\s*\(\s*{NUMBER} "
        r"(?:per second|ops/sec)\)", re.M), "ops/s"),
    Rate("transfer rate", re.compile(
        rf"(?:transferred|Total transferred \S+)\s+\(\s*{NUMBER}\s*"
        r"(?P<unit>[KMG]i?B|[KMG]?b)/sec\)"),
        "{unit}/s"),
    Rate("requests per second", re.compile(rf"^\s*{NUMBER} Requests/sec executed", re.M),
         "requests/s"),
    Rate("reads per second", re.compile(rf"^\s*reads/s:\s*{NUMBER}\s*$", re.M), "ops/s"),
    Rate("writes per second", re.compile(rf"^\s*writes/s:\s*{NUMBER}\s*$", re.M), "ops/s"),
    Rate("fsyncs per second", re.compile(rf"^\s*fsyncs/s:\s*{NUMBER}\s*$", re.M), "ops/s"),
    Rate("read throughput", re.compile(rf"^\s*read, MiB/s:\s*{NUMBER}\s*$", re.M), "MiB/s"),
    Rate("write throughput", re.compile(rf"^\s*written, MiB/s:\s*{NUMBER}\s*$", re.M),
         "MiB/s"),
)


def number(text: str) -> int | float:
    """A value as WA3 records it: an int when it is integral ("2.0000" is 2)."""
    value = float(text)
    return int(value) if value.is_integer() else value


def parse_report(output: str) -> list[Reading]:
    """Every metric in a sysbench report (0.4, 0.5 or 1.0+), named as WA3 names them."""
    return [*_totals(output), *_latencies(output), *_fairness(output), *_rates(output)]


def missing_metrics(readings: list[Reading]) -> list[str]:
    """WA3's names that a complete report has and these readings lack."""
    found = {reading.name for reading in readings}
    return [name for name in REQUIRED if name not in found]


def _totals(output: str) -> Iterator[Reading]:
    time = TOTAL_TIME.search(output)
    if time:
        yield Reading("total time", number(time["value"]), time["units"] or None,
                      lower_is_better=True)
    events = TOTAL_EVENTS.search(output)
    if events:
        yield Reading("total number of events", number(events["value"]))


def _latencies(output: str) -> Iterator[Reading]:
    """The latency lines after the header, up to the blank line that ends the block
    (1.0's "percentile stats: disabled", for --percentile=0, is skipped)."""
    lines = output.splitlines()
    headers = [(i, m) for i, m in enumerate(map(LATENCY_HEADER.match, lines)) if m]
    if not headers:
        return
    start, header = headers[0]
    for line in lines[start + 1:]:
        if not line.strip():
            return
        latency = LATENCY_LINE.match(line)
        name = _latency_name(latency) if latency else None
        if latency and name is not None:
            yield Reading(name, number(latency["value"]),
                          latency["units"] or header["units"], lower_is_better=True)


def _latency_name(latency: re.Match[str]) -> str | None:
    """WA3's name for a latency line: 'response time min', ..., 'approx.  95 percentile'
    (WA3 keeps 0.4's two spaces); None for 1.0's 'sum', which WA3 has no name for."""
    percentile = latency["old"] or latency["new"]
    if percentile:
        return f"approx.  {percentile} percentile"
    label = latency["label"]
    return None if label == "sum" else f"response time {label}"


def _fairness(output: str) -> Iterator[Reading]:
    for line in FAIRNESS.finditer(output):
        units = "s" if line["label"] == "execution time" else None
        yield Reading(f"thread fairness {line['label']} avg", number(line["avg"]), units)
        yield Reading(f"thread fairness {line['label']} stddev", number(line["stddev"]), units,
                      lower_is_better=True)


def _rates(output: str) -> Iterator[Reading]:
    for rate in RATES:
        found = rate.regex.search(output)
        if found:
            units = rate.units.format(unit=found.groupdict().get("unit") or "")
            yield Reading(rate.name, number(found["value"]), units)
