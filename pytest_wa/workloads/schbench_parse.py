"""Reading schbench's output (2016 to today) and its usage text.

schbench prints percentile tables: a header naming what was measured, one
line per percentile (the highlighted one starred), then ``min=, max=``. Up to
2021 there is one table, ``Latency``: how late workers ran after their
wake-up. Since 2023 there are three, ``Wakeup Latencies``, ``Request
Latencies`` and ``RPS``, and each table may be printed many times: every
``-i`` seconds while the run goes on, and once more at the end over the whole
run. Only the last print of each table is the run's result; the earlier ones
are progress reports, so they are not metrics.

The usage text (``schbench --help``) says which options this schbench has:
2021's and today's differ (``-c`` went, ``-s`` changed meaning), so the
command line is built from what the program itself lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .tool import Reading

HEADER = re.compile(r"^(?P<label>\S.*?) percentiles \((?P<units>[^)]*)\) runtime \d+ \(s\) "
                    r"\((?P<samples>\d+) total samples\)\s*$")
PERCENTILE = re.compile(r"^\s*\*?\s*(?P<percent>\d+(?:\.\d+)?)th:\s*(?P<value>\d+)")
MIN_MAX = re.compile(r"^\s*min=(?P<min>\d+), max=(?P<max>\d+)\s*$")
AVERAGE_RPS = re.compile(r"^average rps: (?P<rps>\d+(?:\.\d+)?)\s*$", re.M)
TRANSFER = re.compile(r"^avg worker transfer: (?P<ops>\d+(?:\.\d+)?) ops/sec "
                      r"(?P<size>\d+(?:\.\d+)?)(?P<unit>[KMGTPE]?B)/s\s*$", re.M)
AUTO_ROUND = re.compile(r"^cputime \d+ threads (?P<threads>\d+) p99 \d+\s*$", re.M)
#: One option of the usage text: ``-m (--message-threads): ...``.
USAGE_OPTION = re.compile(r"^\s*-(?P<short>\w) \(--(?P<long>[\w-]+)\)", re.M)
#: schbench's pretty_size(): each step is 1024.
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4,
              "PB": 1024**5, "EB": 1024**6}


@dataclass(frozen=True)
class Naming:
    """How one table's figures are named: WA3's bare names for the wake-up latencies
    (its only table), a prefix for the tables schbench added in 2023."""

    section: str  # the classifier
    prefix: str
    units: str
    lower_is_better: bool
    starred: tuple[str, ...] = ()  # percentiles WA3 names with a leading '*'


WAKEUP = Naming("wakeup latency", "", "usec", True, starred=("99.0",))
#: Table label -> naming. "Latency" is 2016-2021's name for the wake-up latencies.
NAMINGS = {
    "Latency": WAKEUP,
    "Wakeup Latencies": WAKEUP,
    "Request Latencies": Naming("request latency", "request_latency_", "usec", True),
    "RPS": Naming("requests per second", "rps_", "requests/s", False),
}


@dataclass
class Table:
    """One print of a percentile table."""

    label: str
    units: str
    samples: int
    percentiles: dict[str, int] = field(default_factory=dict)  # "99.0" -> value
    minimum: int | None = None
    maximum: int | None = None


def final_tables(output: str) -> dict[str, Table]:
    """Each table's last complete print, by label, in the order first seen. A
    ``min=, max=`` line closes the open table; one with no table open is schbench's
    line for a table without samples, and belongs to none."""
    final: dict[str, Table] = {}
    table: Table | None = None
    for line in output.splitlines():
        if header := HEADER.match(line):
            table = Table(header["label"], header["units"], int(header["samples"]))
        elif table is not None and (row := PERCENTILE.match(line)):
            table.percentiles[row["percent"]] = int(row["value"])
        elif table is not None and (bounds := MIN_MAX.match(line)):
            table.minimum, table.maximum = int(bounds["min"]), int(bounds["max"])
            final[table.label] = table
            table = None
    return final


def naming_of(table: Table) -> Naming:
    """A table schbench may add later gets names from its label, e.g. ``foo_bar_50.0th``."""
    if table.label in NAMINGS:
        return NAMINGS[table.label]
    slug = re.sub(r"\W+", "_", table.label.strip().lower())
    return Naming(table.label.lower(), f"{slug}_", table.units, table.units == "usec")


def table_readings(table: Table) -> Iterator[Reading]:
    """A table's percentiles, min and max. A table of no samples measured nothing (its
    zeros are not latencies): it gives no metric."""
    if table.samples == 0:
        return
    naming = naming_of(table)
    classifiers = {"section": naming.section}
    for percent, value in table.percentiles.items():
        star = "*" if percent in naming.starred else ""
        yield Reading(f"{naming.prefix}{star}{percent}th", value, naming.units,
                      naming.lower_is_better, dict(classifiers))
    for name, bound in (("min", table.minimum), ("max", table.maximum)):
        if bound is not None:
            yield Reading(f"{naming.prefix}{name}", bound, naming.units,
                          naming.lower_is_better, dict(classifiers))


def summary_readings(output: str) -> Iterator[Reading]:
    """The one-line results after the tables: average RPS (2023+), the pipe test's
    transfer rate, and the thread count auto mode (2021's -a) stopped at."""
    if found := list(AVERAGE_RPS.finditer(output)):
        yield Reading("average_rps", float(found[-1]["rps"]), "requests/s",
                      classifiers={"section": "requests per second"})
    if found := list(TRANSFER.finditer(output)):
        last = found[-1]
        pipe = {"section": "pipe transfer"}
        yield Reading("worker_transfer_ops", float(last["ops"]), "ops/s", classifiers=pipe)
        rate = float(last["size"]) * SIZE_UNITS[last["unit"]]
        yield Reading("worker_transfer_rate", round(rate, 2), "bytes/s",
                      classifiers=dict(pipe))
    if found := list(AUTO_ROUND.finditer(output)):
        yield Reading("auto_threads", int(found[-1]["threads"]), "threads",
                      classifiers={"section": "auto"})


def parse_schbench(output: str) -> list[Reading]:
    """Every metric of a schbench run: its final tables, then its summary lines."""
    readings = [reading for table in final_tables(output).values()
                for reading in table_readings(table)]
    return readings + list(summary_readings(output))


def usage_options(text: str) -> dict[str, str]:
    """The options a schbench lists in its usage text: long name -> short letter."""
    return {found["long"]: found["short"] for found in USAGE_OPTION.finditer(text)}
