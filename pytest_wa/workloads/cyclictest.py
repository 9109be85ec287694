"""``cyclictest``: rt-tests' timer wake-up latency test (WA2's cyclictest workload).

WA3 3.3.1 has no cyclictest workload, though its agenda documentation uses
one in every example; WA2 had it, so its parameters are WA2's. The program is
rt-tests' own ``cyclictest`` (the device's, or one from a resource
directory). Each thread sleeps for its interval again and again and records
how late it woke; the metrics are each thread's minimum, average and maximum
latency (microseconds) and cycle count, and the same over all threads. The
latency histogram (``--histfile``) is kept as an artifact.

With ``quiet`` and a histogram, cyclictest prints no per-thread summary
("T: 0 ... Min: ... Avg: ... Max: ..."); the histogram file's footer
("# Min Latencies: ...") has the same numbers, so both are read.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model.errors import (
    CommandTimeoutError,
    TargetError,
    TargetNotRespondingError,
)
from ..model.parameters import Parameter, boolean, integer, string
from ..model.runlog import RUN_LOGGER
from .resources import Tool
from .tool import BINARY, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

HISTOGRAM_FILE = "cyclictest_histogram.txt"
THREAD_LINE = re.compile(r"^T:\s*(\d+)\s*\(\s*\d+\)\s*P:\s*-?\d+\s*I:\s*\d+\s*C:\s*(\d+)\s*"
                         r"Min:\s*(\d+)\s*Act:\s*\d+\s*Avg:\s*(\d+)\s*Max:\s*(\d+)", re.MULTILINE)
FOOTER_LINE = re.compile(r"^# (Total|Min Latencies|Avg Latencies|Max Latencies|Histogram "
                         r"Overflows):((?: +\d+)+)", re.MULTILINE)


@dataclass(frozen=True)
class ThreadLatency:
    """One thread's summary: wake-ups counted, and their latencies in microseconds."""

    cycles: int
    min: int
    avg: int
    max: int


class Cyclictest(ToolWorkload):
    name = "cyclictest"
    description = """
    Measure timer wake-up latency with rt-tests' cyclictest; keep the histogram.

    The latency is the time between when a timer expires and when the thread
    that set it runs. Reports each thread's min, avg and max latency
    (microseconds).

    Needs root (real-time priorities, /dev/cpu_dma_latency, dropping caches).
    """
    tool = Tool("cyclictest", debian="rt-tests")
    needs_root = True
    parameters = (
        Parameter("clock", string, default="realtime", allowed_values=("monotonic", "realtime"),
                  description="The clock the threads sleep on."),
        Parameter("duration", integer, default=30, description="Seconds the test runs."),
        Parameter("quiet", boolean, default=True,
                  description="Print only a summary at the end (--quiet)."),
        Parameter("thread", integer, default=8, description="Number of measuring threads."),
        Parameter("latency", integer, default=1000000,
                  description="Value written to /dev/cpu_dma_latency while the test runs "
                              "(microseconds; 1000000 leaves idle states alone)."),
        Parameter("extra_parameters", string, default="",
                  description="More cyclictest options, appended to the command line "
                              "(see cyclictest --help), e.g. '-m -a'."),
        Parameter("clear_file_cache", boolean, default=True,
                  description="Drop the page cache (sync; echo 3 > drop_caches) before the "
                              "test; where the device refuses, an event says so."),
        Parameter("screen_off", boolean, default=True,
                  description="Android: turn the screen off for the test (back on after); "
                              "other devices have none to turn off."),
        Parameter("priority", integer, default=None,
                  description="Real-time (SCHED_FIFO) priority of the threads, 1-99 (-p); "
                              "unset: cyclictest's default. A pytest-wa addition."),
        Parameter("histogram", integer, default=1000,
                  description="Histogram buckets (one per microsecond) kept in the artifact "
                              "cyclictest_histogram.txt; 0 for none. A pytest-wa addition."),
        BINARY,
    )

    clock: str
    duration: int
    quiet: bool
    thread: int
    latency: int
    extra_parameters: str
    clear_file_cache: bool
    screen_off: bool
    priority: int | None
    histogram: int

    def validate(self) -> None:
        if self.duration < 1 or self.thread < 1:
            raise ValueError(f"duration and thread must be 1 or more, got {self.duration} and "
                             f"{self.thread}")
        if self.priority is not None and not 1 <= self.priority <= 99:
            raise ValueError(f"priority must be 1-99, got {self.priority}")
        if self.histogram < 0:
            raise ValueError(f"histogram must be 0 or more buckets, got {self.histogram}")

    def setup(self, context: JobContext) -> None:
        if self.clear_file_cache:
            _drop_caches(context)
        if self.screen_off and context.target.properties.os == "android":
            context.target.execute("input keyevent KEYCODE_SLEEP", timeout=30, check=True)

    def command_line(self, context: JobContext) -> str:
        options = [f"--clock={0 if self.clock == 'monotonic' else 1}",
                   f"--duration={self.duration}s", f"--thread={self.thread}",
                   f"--latency={self.latency}"]
        options += ["--quiet"] if self.quiet else []
        options += [f"-p {self.priority}"] if self.priority is not None else []
        command = f"{shlex.quote(self.program)} {' '.join(options)}"
        if self.histogram:
            histfile = shlex.quote(self._histogram_on_target(context))
            command = (f"rm -f {histfile}; {command} --histogram={self.histogram} "
                       f"--histfile={histfile}")
        return f"{command} {self.extra_parameters}".strip()

    def time_limit(self) -> float:
        return self.duration * 2 + 30

    def results_text(self, context: JobContext) -> str:
        """The per-thread lines, and the histogram file's footer (with --quiet and a
        histogram, cyclictest prints no per-thread lines: the footer has them)."""
        assert self.result is not None
        footer = self._pull_histogram(context) if self.histogram else ""
        return f"{self.result.stdout}\n{footer}"

    def teardown(self, context: JobContext) -> None:
        if self.screen_off and context.target.properties.os == "android":
            context.target.execute("input keyevent KEYCODE_WAKEUP", timeout=30, check=True)

    def parse(self, output: str) -> Iterable[Reading]:
        return latency_readings(parse_cyclictest(output))

    def _histogram_on_target(self, context: JobContext) -> str:
        return f"{context.target.working_directory.rstrip('/')}/{HISTOGRAM_FILE}"

    def _pull_histogram(self, context: JobContext) -> str:
        """The histogram file, kept as an artifact; its text ('' if cyclictest wrote none)."""
        if context.output_directory is None:
            return ""
        local = context.output_directory / HISTOGRAM_FILE
        try:
            context.target.pull(self._histogram_on_target(context), str(local), timeout=60)
        except (CommandTimeoutError, TargetNotRespondingError):
            raise
        except (OSError, TargetError) as exc:  # none was written: the run failed early
            RUN_LOGGER.warning("%s: no cyclictest histogram to keep: %s", context.name, exc)
            return ""
        if not local.is_file():
            return ""
        context.add_artifact("cyclictest_histogram", HISTOGRAM_FILE, "data",
                             "Latency histogram: one line per microsecond, a column per "
                             "thread (cyclictest --histfile).")
        return local.read_text(encoding="utf-8", errors="replace")


def _drop_caches(context: JobContext) -> None:
    """WA2's clear_file_cache; a device that refuses (a container) is noted, not fatal."""
    result = context.target.execute("sync && echo 3 > /proc/sys/vm/drop_caches", timeout=120,
                                    as_root=True)
    if not result.ok:
        why = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no reason given"]
        context.add_event(f"clear_file_cache: the page cache was not dropped: {why[0]}")


def parse_cyclictest(output: str) -> dict[int, ThreadLatency]:
    """Each thread's summary: from its last "T:" line, else from a histogram's footer."""
    threads = {int(m[1]): ThreadLatency(int(m[2]), int(m[3]), int(m[4]), int(m[5]))
               for m in THREAD_LINE.finditer(output)}
    return threads or _footer_latencies(output)


def _footer_latencies(output: str) -> dict[int, ThreadLatency]:
    """The histogram file's footer: its Total counts only the wake-ups inside the
    histogram, so the overflows are added back to make the cycles."""
    columns = {m[1]: [int(v) for v in m[2].split()] for m in FOOTER_LINE.finditer(output)}
    if not {"Total", "Min Latencies", "Avg Latencies", "Max Latencies"} <= set(columns):
        return {}
    overflows = columns.get("Histogram Overflows") or [0] * len(columns["Total"])
    rows = zip(columns["Total"], overflows, columns["Min Latencies"],
               columns["Avg Latencies"], columns["Max Latencies"], strict=False)
    return {n: ThreadLatency(inside + over, low, mean, high)
            for n, (inside, over, low, mean, high) in enumerate(rows)}


def latency_readings(threads: dict[int, ThreadLatency]) -> list[Reading]:
    """Per thread min/avg/max (us) and cycles, then the same over all threads."""
    readings: list[Reading] = []
    for n, thread in sorted(threads.items()):
        readings += _latencies(f"thread {n} ", thread, {"thread": n})
    if threads:
        summaries = list(threads.values())
        cycles = sum(t.cycles for t in summaries)
        average = (sum(t.avg * t.cycles for t in summaries) / cycles if cycles
                   else sum(t.avg for t in summaries) / len(summaries))
        overall = ThreadLatency(cycles, min(t.min for t in summaries), round(average),
                                max(t.max for t in summaries))
        readings += _latencies("", overall, {})
    return readings


def _latencies(prefix: str, thread: ThreadLatency, classifiers: dict[str, int]) -> list[Reading]:
    return [Reading(f"{prefix}min latency", thread.min, "microseconds", True, classifiers),
            Reading(f"{prefix}avg latency", thread.avg, "microseconds", True, classifiers),
            Reading(f"{prefix}max latency", thread.max, "microseconds", True, classifiers),
            Reading(f"{prefix}cycles", thread.cycles, None, False, classifiers)]
