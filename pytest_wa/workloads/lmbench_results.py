"""What lmbench's ``lat_mem_rd`` and ``bw_mem`` printed, as metrics.

WA3 3.3.1 keeps their output as one file and reports nothing from it; here
every number becomes a metric. Both programs print their results on stderr,
which the workload's command sends to stdout, after a marker line of its own
(``lmbench: TEST size=SIZE stride=N`` or ``... category=C``) before each run
of a program, so that every number is read with what was asked for:

- ``lat_mem_rd`` prints a ``"stride=N`` line, then ``ARRAY_MB LATENCY_NS`` per
  array size walked (512 bytes up to the run's size; MB of 2^20 bytes, as
  ``%.5f``), then a blank line. Each becomes ``latency_<ARRAY_MB>MB_stride_<N>``
  (nanoseconds per load, lower is better).
- ``bw_mem`` prints one ``MB MB_PER_SECOND`` line (MB of 10^6 bytes, as lmbench
  counts them for bandwidth). It becomes ``bandwidth_<category>_<size>``, with
  the size as the agenda wrote it (MB/s, higher is better).

A run of a program that printed nothing (its usage, an error) adds no metric;
its words are in the raw output the workload keeps. Nor does a latency of 0:
lat_mem_rd prints ``0.000`` for an array it did not walk (with ``-t``, a stride
larger than the page size leaves some arrays without a single pointer), and no
load takes no time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .tool import Reading

MARKER = re.compile(r"^lmbench: (?P<test>lat_mem_rd|bw_mem) size=(?P<size>\S+) "
                    r"(?P<key>stride|category)=(?P<value>\S+)$")
STRIDE = re.compile(r'^"stride=(\d+)$')
PAIR = re.compile(r"^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class Run:
    """One program run the workload's command announced, and what it printed after."""

    test: str
    size: str  # the agenda's size, as passed to the program
    setting: str  # lat_mem_rd: the stride asked for; bw_mem: the category
    lines: tuple[str, ...]


def marker(test: str, size: str, setting: str) -> str:
    """The line the workload's command echoes before running ``test`` once."""
    key = "stride" if test == "lat_mem_rd" else "category"
    return f"lmbench: {test} size={size} {key}={setting}"


def split_runs(output: str) -> Iterator[Run]:
    """The output cut at the markers (lines before the first belong to no run)."""
    current: tuple[str, str, str] | None = None
    lines: list[str] = []
    for line in output.splitlines():
        found = MARKER.match(line.strip())
        if found is None:
            lines.append(line.strip())
            continue
        if current is not None:
            yield Run(*current, tuple(lines))
        current, lines = (found["test"], found["size"], found["value"]), []
    if current is not None:
        yield Run(*current, tuple(lines))


def megabytes(text: str) -> str:
    """A size as the program printed it, without trailing zeros (``1.00000`` -> ``1``)."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def lat_mem_rd_readings(lines: Iterable[str], size: str) -> Iterator[Reading]:
    """One latency per array size, per ``"stride=`` block."""
    stride: int | None = None
    for line in lines:
        header = STRIDE.match(line)
        if header:
            stride = int(header.group(1))
            continue
        pair = PAIR.match(line)
        if pair is None or stride is None:
            continue
        array, latency = pair.groups()
        if float(latency) == 0:
            continue  # nothing was walked (thrash with a stride over the page size)
        yield Reading(f"latency_{megabytes(array)}MB_stride_{stride}", float(latency), "ns",
                      lower_is_better=True,
                      classifiers={"size": size, "array_mb": float(array), "stride": stride})


def bw_mem_readings(lines: Iterable[str], size: str,
                    category: str) -> Iterator[Reading]:
    """The bandwidth of one category (bw_mem prints one line per run)."""
    for line in lines:
        pair = PAIR.match(line)
        if pair:
            mb, rate = pair.groups()
            yield Reading(f"bandwidth_{category}_{size}", float(rate), "MB/s",
                          classifiers={"size": size, "size_mb": float(mb),
                                       "category": category})
            return


def parse_lmbench(output: str) -> list[Reading]:
    """Every run's metrics, in the order the runs were made."""
    readings: list[Reading] = []
    for run in split_runs(output):
        if run.test == "lat_mem_rd":
            readings += lat_mem_rd_readings(run.lines, run.size)
        else:
            readings += bw_mem_readings(run.lines, run.size, run.setting)
    return readings
