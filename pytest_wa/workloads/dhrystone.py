"""``dhrystone``: WA3's Dhrystone integer benchmark, with pytest-wa's own program.

The program (``src/dhrystone.c``) is a Dhrystone 2.1 written for pytest-wa,
with the command line and result lines of the one WA3 ships, so a WA3 user's
binary in a resource directory runs here unchanged, and ours reads the same.
Each thread prints its score (Dhrystones per second) and DMIPS (the score over
1757); the metrics are WA3's: ``thread N score``, ``thread N DMIPS``, their
totals, and ``time``. WA3's program prints no score when run for a
``duration`` (its totals are then 0); ours runs until the time is up and
reports the rate it reached.

``cpus`` (alias ``taskset_mask``) pins the program with ``taskset``, as WA3
does. The kind that reads it (WA3's ``cpu_mask``) and WA3's ``uninstall`` live
here, and memcpy uses them too.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..model.parameters import Parameter, integer
from .common import UNINSTALL, cpu_mask, remove_pushed
from .resources import Tool
from .tool import BINARY, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

DEFAULT_MLOOPS = 100
SCORE = re.compile(r"This machine benchmarks at (\d+)")
DMIPS = re.compile(r"(\d+) DMIPS")
RUN_TIME = re.compile(r"Total dhrystone run time: ([0-9.]+)")


class Dhrystone(ToolWorkload):
    name = "dhrystone"
    description = """
    Run the Dhrystone 2.1 integer benchmark; report scores and DMIPS per thread.

    Each of THREADS threads reports its score (Dhrystones per second) and DMIPS,
    and their totals are reported too.

    The program is pytest-wa's own (built from its C source for this host), or
    a 'dhrystone' from --wa-resources, WA3's dependencies directory or the
    device's PATH. Give either mloops or duration (neither: mloops 100).
    """
    tool = Tool("dhrystone", source="dhrystone.c")
    parameters = (
        Parameter("duration", integer, default=0,
                  description="Seconds to run for (each thread runs until then and reports "
                              "the rate it reached). Either this or mloops, not both."),
        Parameter("mloops", integer, default=0,
                  description="Millions of loops to run, shared between the threads. Either "
                              f"this or duration; if neither is given, {DEFAULT_MLOOPS}."),
        Parameter("threads", integer, default=4,
                  description="Number of threads running Dhrystone at once."),
        Parameter("delay", integer, default=0,
                  description="Seconds between starting one thread and the next."),
        Parameter("cpus", cpu_mask, default=0, aliases=("taskset_mask",),
                  description="CPUs to run on (taskset): a mask (0x0f), CPU numbers and "
                              "ranges ('0-3,6') or a list of CPU numbers; 0 is any CPU. "
                              "Alias: taskset_mask."),
        UNINSTALL,
        BINARY,
    )

    duration: int
    mloops: int
    threads: int
    delay: int
    cpus: int
    uninstall: bool

    def validate(self) -> None:
        if self.mloops and self.duration:
            raise ValueError("give mloops or duration, not both")
        if self.mloops < 0 or self.duration < 0 or self.delay < 0:
            raise ValueError("mloops, duration and delay must be 0 or more")
        if self.threads < 1:
            raise ValueError(f"threads must be 1 or more, got {self.threads}")
        if not self.duration and not self.mloops:
            self.mloops = DEFAULT_MLOOPS

    def command_line(self, context: JobContext) -> str:
        mode = f"-r {self.duration}" if self.duration else f"-l {self.mloops}"
        command = f"{shlex.quote(self.program)} {mode} -t {self.threads} -d {self.delay}"
        return f"taskset {hex(self.cpus)} {command}" if self.cpus else command

    def time_limit(self) -> float:
        started_last = self.delay * (self.threads - 1)
        return (self.duration + 30 if self.duration else 300) + started_last

    def parse(self, output: str) -> Iterable[Reading]:
        return parse_dhrystone(output)

    def finalize(self, context: JobContext) -> None:
        if self.uninstall:
            remove_pushed(context, self.program)


def parse_dhrystone(output: str) -> list[Reading]:
    """Each thread's score and DMIPS, their totals and the run time, under WA3's names;
    nothing if no thread printed a score (WA3's own program run for a duration)."""
    scores = [int(m.group(1)) for m in SCORE.finditer(output)]
    dmips = [int(m.group(1)) for m in DMIPS.finditer(output)]
    if not scores:
        return []
    readings = [Reading(f"thread {n} score", value) for n, value in enumerate(scores)]
    readings += [Reading(f"thread {n} DMIPS", value) for n, value in enumerate(dmips)]
    run_time = RUN_TIME.search(output)
    if run_time:
        readings.append(Reading("time", float(run_time.group(1)), "seconds",
                                lower_is_better=True))
    return [*readings, Reading("total DMIPS", sum(dmips)), Reading("total score", sum(scores))]
