"""``hackbench``: WA3's hackbench workload (rt-tests' hackbench), a scheduler benchmark.

Groups of senders and receivers pass messages over sockets or pipes; the time
the lot takes measures how the scheduler copes with many runnable tasks. WA3
3.3.1 declares ``fds`` but never passes it, so hackbench ran with its own
default of 20; here ``-f`` is always given.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model.parameters import Parameter, integer, string
from .resources import Tool
from .tool import BINARY, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

#: Seconds allowed past ``timeout`` before the run is killed (WA3's margin).
TIMEOUT_MARGIN = 10
DEFAULT_TIMEOUT = 30


@dataclass(frozen=True)
class Figure:
    """One number hackbench prints, with WA3's name and units for it."""

    name: str
    regex: re.Pattern[str]
    units: str
    lower_is_better: bool = False


FIGURES = (
    Figure("total_groups", re.compile(r"(\d+) groups"), "groups"),
    Figure("total_fd", re.compile(r"(\d+) file descriptors"), "file_descriptors"),
    Figure("total_messages", re.compile(r"(\d+) messages"), "messages"),
    Figure("total_bytes", re.compile(r"(\d+) bytes"), "bytes"),
    Figure("test_time", re.compile(r"^Time:\s*(\d+(?:\.\d+)?)", re.M), "seconds",
           lower_is_better=True),
)


def parse_hackbench(output: str) -> Iterator[Reading]:
    """WA3's five metrics, each from the first line that has it."""
    for figure in FIGURES:
        found = figure.regex.search(output)
        if found:
            text = found.group(1)
            value = float(text) if "." in text else int(text)
            yield Reading(figure.name, value, figure.units, figure.lower_is_better)


class Hackbench(ToolWorkload):
    name = "hackbench"
    description = """
        Run hackbench (rt-tests): groups of tasks pass messages; report the time taken.

        A scheduler benchmark: each group has senders and receivers talking over
        sockets (or pipes, with -p in extra_params), so many tasks are runnable at once.
        """
    tool = Tool("hackbench", debian="rt-tests")
    parameters = (
        Parameter("timeout", integer, DEFAULT_TIMEOUT,
                  "Expected test duration in seconds; the run is killed 10 s after it "
                  "(alias: duration).",
                  aliases=("duration",)),
        Parameter("datasize", integer, 100, "Message size in bytes (-s)."),
        Parameter("groups", integer, 10, "Number of groups (-g)."),
        Parameter("loops", integer, 100, "Messages each sender sends (-l)."),
        Parameter("fds", integer, 40,
                  "Senders per group, and as many receivers (-f): 2 x fds tasks a group."),
        Parameter("extra_params", string, "",
                  "More hackbench options, as written (see hackbench --help)."),
        BINARY,
    )

    timeout: int
    datasize: int
    groups: int
    loops: int
    fds: int
    extra_params: str

    def validate(self) -> None:
        for name in ("datasize", "groups", "loops", "fds"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout:g}")

    def command_line(self, context: JobContext) -> str:
        return (f"{shlex.quote(self.program)} -s {self.datasize} -g {self.groups} "
                f"-l {self.loops} -f {self.fds} {self.extra_params}").rstrip()

    def time_limit(self) -> float:
        return self.timeout + TIMEOUT_MARGIN

    def parse(self, output: str) -> list[Reading]:
        return list(parse_hackbench(output))
