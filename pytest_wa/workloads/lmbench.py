"""``lmbench``: WA3's lmbench workload, memory latency (lat_mem_rd) and bandwidth (bw_mem).

One job runs one of the two programs (``test``), once per size and stride
(lat_mem_rd) or per size and category (bw_mem), in WA3's order, all of it
``loops`` times, as one shell command on the target, so a timeout or Ctrl-C
stops the whole sequence. WA3 3.3.1 appends everything to a file and reports
no metrics; here each program run is announced by a marker line, its output
follows it, and lmbench_results.py turns every number into a metric.

lmbench is not in Debian: the programs come from a resource directory, WA3's
dependencies directory, the device's PATH or ``binary``; the hint of a missing
one says how to build them from lmbench 3's sources.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model.parameters import (
    Kind,
    Parameter,
    ParameterValueError,
    boolean,
    integer,
    list_of_strings,
    string,
)
from .common import UNINSTALL, cpu_mask, remove_pushed
from .lmbench_results import marker, parse_lmbench
from .resources import Tool
from .tool import BINARY, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

TESTS = ("lat_mem_rd", "bw_mem")
#: What bw_mem measures (its usage line); WA3's default leaves out rdwr.
CATEGORIES = ("rd", "wr", "rdwr", "cp", "frd", "fwr", "fcp", "bzero", "bcopy")
WA3_CATEGORIES = ["rd", "wr", "cp", "frd", "fwr", "fcp", "bzero", "bcopy"]
#: A size as lmbench reads it: bytes, or k/m for KiB/MiB (lat_mem_rd: megabytes only).
SIZE = re.compile(r"^(\d+)([kKmM]?)$")
BUILD = ("build it from lmbench 3's sources (e.g. https://github.com/intel/lmbench; needs "
         "libtirpc-dev): cd src && CFLAGS='-O -I/usr/include/tirpc' ../scripts/build "
         "../bin/$(../scripts/os)/{name}")


@dataclass(frozen=True)
class LmbenchTool(Tool):
    """An lmbench program: not in Debian, so the hint says how to build it."""

    def hint(self) -> str:
        return (f"lmbench is not packaged by Debian: {BUILD.format(name=self.name)}, then "
                "put it in a --wa-resources directory or give its path as 'binary'")


TOOLS = {test: LmbenchTool(test) for test in TESTS}


def _sizes(value: Any) -> list[str]:
    """WA3's list_or_string, also taking a number (``size: 4``), which WA3 cannot."""
    values = value if isinstance(value, list) else [value]
    if any(isinstance(item, bool) or not isinstance(item, str | int) for item in values):
        raise ParameterValueError(f"expected a size or a list of sizes, got {value!r}")
    return [str(item).strip() for item in values]


def _strides(value: Any) -> list[int]:
    """WA3's list_or_integer: one integer or a list of them."""
    return [integer(item) for item in (value if isinstance(value, list) else [value])]


sizes = Kind("size or list of sizes", _sizes)
strides = Kind("integer or list of integers", _strides)


def size_problem(test: str, size: str) -> str | None:
    """Why ``test`` would misread ``size`` (None: it reads it as meant). lat_mem_rd reads
    whole megabytes with atoi (``512k`` would be 512 MB); bw_mem reads bytes, KiB (k) or
    MiB (m), and refuses fewer than 512 bytes."""
    found = SIZE.match(size)
    if test == "lat_mem_rd":
        if found is None or found.group(2) in ("k", "K") or int(found.group(1)) < 1:
            return f"lat_mem_rd takes whole megabytes ('4m' or 4), got {size!r}"
        return None
    if found is None:
        return f"bw_mem takes bytes, or k or m for KiB or MiB ('4m'), got {size!r}"
    scale = {"": 1, "k": 1024, "m": 1024 * 1024}[found.group(2).lower()]
    if int(found.group(1)) * scale < 512:
        return f"bw_mem needs at least 512 bytes, got {size!r} (bytes without k or m)"
    return None


class Lmbench(ToolWorkload):
    name = "lmbench"
    description = """
        Run lmbench's lat_mem_rd (memory read latency) or bw_mem (memory bandwidth).

        lat_mem_rd walks arrays from 512 bytes up to SIZE megabytes with each stride and
        reports nanoseconds per load for every array size: caches and memory show as
        plateaus. bw_mem reads, writes or copies SIZE bytes in each mem_category and
        reports MB/s. lmbench 3: https://github.com/intel/lmbench (not in Debian).
        """
    tool = TOOLS["lat_mem_rd"]
    parameters = (
        Parameter("test", string, "lat_mem_rd", "The lmbench program to run.",
                  allowed_values=TESTS),
        Parameter("stride", strides, [128],
                  "lat_mem_rd: stride(s) in bytes, one run of lat_mem_rd per size and stride."),
        Parameter("thrash", boolean, True,
                  "lat_mem_rd: walk the array's pages in random order (-t); then keep "
                  "strides at most the page size (lmbench walks nothing beyond it)."),
        Parameter("size", sizes, ["4m"],
                  "Size(s): lat_mem_rd's largest array, in whole megabytes ('4m' or 4); "
                  "bw_mem's data, in bytes or with k or m ('512k'). One run per size."),
        Parameter("mem_category", list_of_strings, WA3_CATEGORIES,
                  "bw_mem: what to measure, one run per size and category.",
                  allowed_values=CATEGORIES),
        Parameter("parallelism", integer, None, "Copies running at once (-P)."),
        Parameter("warmup", integer, None, "Microseconds of warm-up before timing (-W)."),
        Parameter("repetitions", integer, None,
                  "Timed repetitions, summed up by lmbench in one result (-N; its default "
                  "11)."),
        Parameter("force_abi", string, None,
                  "WA3's choice of another ABI's program; here only with 'binary', which "
                  "names that program."),
        Parameter("run_timeout", integer, 900,
                  "Seconds each program run may take; the job's command gets this times "
                  "the number of runs."),
        Parameter("loops", integer, 1,
                  "Times the whole sequence of runs is repeated in the job, with no setup "
                  "between (unlike repetitions, each loop gives its own metrics)."),
        Parameter("cpus", cpu_mask, 0,
                  "Pin the program to these CPUs with taskset: a mask (0x3), CPU ranges "
                  "('0-1') or a list of CPU numbers; 0: not pinned (alias: taskset_mask).",
                  aliases=("taskset_mask",)),
        UNINSTALL,
        BINARY,
    )

    test: str
    stride: list[int]
    thrash: bool
    size: list[str]
    mem_category: list[str]
    parallelism: int | None
    warmup: int | None
    repetitions: int | None
    force_abi: str | None
    run_timeout: int
    loops: int
    cpus: int
    uninstall: bool

    @classmethod
    def tools_for(cls, parameters: Mapping[str, Any]) -> tuple[Tool, ...]:
        """Only the program ``test`` names (lat_mem_rd when the agenda says nothing)."""
        return (TOOLS.get(str(parameters.get("test") or "lat_mem_rd"), TOOLS["lat_mem_rd"]),)

    def validate(self) -> None:
        if self.force_abi and not self.values.get("binary"):
            raise ValueError(f"force_abi {self.force_abi!r}: pytest-wa looks for the program "
                             "of the device's ABI; give the path of the "
                             f"{self.force_abi} {self.test} as 'binary'")
        for size in self.size:
            problem = size_problem(self.test, size)
            if problem:
                raise ValueError(problem)
        self._check_at_least(1, stride=min(self.stride, default=1), loops=self.loops,
                             run_timeout=self.run_timeout, parallelism=self.parallelism,
                             repetitions=self.repetitions)
        self._check_at_least(0, warmup=self.warmup)
        if not self.size or not self.stride or not self.mem_category:
            raise ValueError("size, stride and mem_category cannot be empty lists")

    @staticmethod
    def _check_at_least(least: int, **values: int | None) -> None:
        for name, value in values.items():
            if value is not None and value < least:
                raise ValueError(f"{name} must be at least {least}, got {value}")

    def runs(self) -> list[tuple[str, str]]:
        """(size, stride or category) of each program run, in WA3's order."""
        settings = ([str(s) for s in self.stride] if self.test == "lat_mem_rd"
                    else self.mem_category)
        return [(size, setting) for size in self.size for setting in settings]

    def options(self) -> str:
        """-P, -W, -N as given (else lmbench's defaults), and lat_mem_rd's -t."""
        words = [f"-{flag} {value}" for flag, value in
                 (("P", self.parallelism), ("W", self.warmup), ("N", self.repetitions))
                 if value is not None]
        if self.test == "lat_mem_rd" and self.thrash:
            words.append("-t")
        return " ".join(words)

    def command_line(self, context: JobContext) -> str:
        """Each run: its marker, then the program with stderr (its results) on stdout;
        a failed run stops the rest with its exit code."""
        program = (f"taskset {hex(self.cpus)} " if self.cpus else "") + shlex.quote(self.program)
        options = f" {self.options()}" if self.options() else ""
        body = " && ".join(
            f"echo {shlex.quote(marker(self.test, size, setting))} && "
            f"{program}{options} {shlex.quote(size)} {shlex.quote(setting)} 2>&1"
            for size, setting in self.runs())
        if self.loops == 1:
            return body
        return (f"i=0; while [ $i -lt {self.loops} ]; do i=$((i + 1)); "
                f"{{ {body}; }} || exit; done")

    def time_limit(self) -> float:
        return float(self.run_timeout * len(self.runs()) * self.loops)

    def parse(self, output: str) -> list[Reading]:
        return parse_lmbench(output)

    def finalize(self, context: JobContext) -> None:
        if self.uninstall:
            remove_pushed(context, self.program)
