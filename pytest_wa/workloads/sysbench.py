"""``sysbench``: WA3's sysbench workload, for sysbench 0.4, 0.5 and 1.0+.

WA3 3.3.1 reads only sysbench 0.5's report and fails on 1.0's, the sysbench of
current distributions; it never prepares the fileio test's files either, so
every fileio mode but seqwr fails. Here the report is read by its labels
(sysbench_parse.py), the options are spelled for the installed version
(sysbench_options.py), and fileio's files are made in setup and removed in
teardown, in a directory of the job's own on the target.
"""

from __future__ import annotations

import contextlib
import posixpath
import shlex
from typing import TYPE_CHECKING, Any

from ..model.errors import WorkloadError
from ..model.parameters import Parameter, integer, string
from .common import cpu_mask
from .resources import Tool
from .sysbench_options import Invocation, command, version_of
from .sysbench_parse import missing_metrics, parse_report
from .tool import BINARY, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

TESTS = ("fileio", "cpu", "memory", "threads", "mutex")
FILE_TEST_MODES = ("seqwr", "seqrewr", "seqrd", "rndrd", "rndwr", "rndrw")
DEFAULT_TIMEOUT = 300
DEFAULT_MAX_TIME = 30


class Sysbench(ToolWorkload):
    name = "sysbench"
    description = """
        Run one sysbench test (cpu, memory, threads, mutex or fileio); report its timings.

        sysbench is a multi-threaded benchmark of the things a database leans on: CPU,
        memory, thread scheduling, mutexes and file I/O. Works with sysbench 0.4, 0.5
        and 1.0+ (https://github.com/akopytov/sysbench).
        """
    tool = Tool("sysbench", debian="sysbench")
    parameters = (
        Parameter("timeout", integer, DEFAULT_TIMEOUT,
                  "Seconds the run may take before it is killed (raised to max_time + 10)."),
        Parameter("test", string, "cpu", "The sysbench test to run.", allowed_values=TESTS),
        Parameter("threads", integer, 8, "How many threads sysbench starts (alias: num_threads).",
                  aliases=("num_threads",)),
        Parameter("max_requests", integer, None,
                  "Stop after this many events; 0: no limit (alias: events, sysbench 1.0's "
                  "name).",
                  aliases=("events",)),
        Parameter("max_time", integer, None,
                  "Stop after this many seconds; 0: no limit; 30 when neither max_time nor "
                  "max_requests is given (alias: time, sysbench 1.0's name).", aliases=("time",)),
        Parameter("file_test_mode", string, None,
                  "fileio only: the file test mode (default seqwr).",
                  allowed_values=FILE_TEST_MODES),
        Parameter("cmd_params", string, "",
                  "More sysbench options, as one string (e.g. --file-total-size=64M)."),
        Parameter("cpus", cpu_mask, 0,
                  "Pin sysbench to these CPUs with taskset: a mask (0x3), CPU ranges "
                  "('0-1') or a list of CPU numbers; 0: not pinned (alias: taskset_mask).",
                  aliases=("taskset_mask",)),
        BINARY,
    )

    timeout: float
    test: str
    threads: int
    max_requests: int | None
    max_time: int | None
    file_test_mode: str | None
    cmd_params: str
    cpus: int

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.version: tuple[int, int] | None = None
        self.readings: list[Reading] = []
        self.directory = ""

    def validate(self) -> None:
        """WA3's rules: 30 s when no limit is given; the timeout covers max_time."""
        if self.max_requests is None and self.max_time is None:
            self.max_time = DEFAULT_MAX_TIME
        if (self.max_requests or 0) < 0 or (self.max_time or 0) < 0:
            raise ValueError("max_requests and max_time cannot be negative")
        if not (self.max_requests or self.max_time):
            raise ValueError("sysbench would never stop: give max_requests or max_time above 0")
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")
        if self.max_time and self.max_time + 10 > float(self.timeout):
            self.timeout = self.max_time + 10
        if self.test == "fileio" and not self.file_test_mode:
            self.file_test_mode = "seqwr"
        elif self.test != "fileio" and self.file_test_mode:
            raise ValueError("file_test_mode is for test 'fileio' only; "
                             f"this test is {self.test!r}")

    def initialize(self, context: JobContext) -> None:
        """Install sysbench, then ask its version: 1.0 renamed the options."""
        super().initialize(context)
        answer = context.target.execute(f"{shlex.quote(self.program)} --version", timeout=30)
        self.version = version_of(answer.stdout + answer.stderr)

    def invocation(self) -> Invocation:
        return Invocation(self.test, self.threads, self.max_requests or 0, self.max_time or 0,
                          self.file_test_mode, self.cmd_params or "")

    def setup(self, context: JobContext) -> None:
        """A directory of the job's own; fileio's files are prepared in it."""
        target = context.target
        self.directory = posixpath.join(
            target.working_directory, f"sysbench-{context.output_id}-{context.iteration}")
        target.execute(f"mkdir -p {shlex.quote(self.directory)}", timeout=30, check=True)
        if self.test != "fileio":
            return
        try:
            self._step(context, "prepare")
        except Exception:
            with contextlib.suppress(Exception):  # teardown does not run after a failed setup
                self._remove_directory(context)
            raise

    def command_line(self, context: JobContext) -> str:
        return command(self.program, self.directory,
                       self.invocation().arguments(self.version, "run"), self.cpus)

    def time_limit(self) -> float:
        return float(self.timeout)

    def parse(self, output: str) -> list[Reading]:
        self.readings = parse_report(output)
        return self.readings

    def extract_results(self, context: JobContext) -> None:
        """The metrics found; then a report without all of WA3's metrics is an error."""
        self.readings = []
        super().extract_results(context)
        missing = missing_metrics(self.readings)
        if self.readings and missing:
            raise WorkloadError(f"sysbench's report lacks {', '.join(missing)} "
                                f"(kept as {self.name}.out)")

    def teardown(self, context: JobContext) -> None:
        """fileio's own cleanup, then the job's directory goes, whatever happened."""
        if not self.directory:
            return
        try:
            if self.test == "fileio":
                self._step(context, "cleanup")
        finally:
            self._remove_directory(context)

    def _step(self, context: JobContext, step: str) -> None:
        """fileio's prepare or cleanup, with the run's file options (cmd_params)."""
        arguments = self.invocation().arguments(self.version, step)
        result = context.target.execute(command(self.program, self.directory, arguments),
                                        timeout=self.time_limit())
        context.add_output(result)
        if not result.ok:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise WorkloadError(f"sysbench fileio {step} exited with code {result.exit_code}"
                                + ("\n" + "\n".join(tail) if tail else ""))

    def _remove_directory(self, context: JobContext) -> None:
        context.target.execute(f"rm -rf {shlex.quote(self.directory)}", timeout=120, check=True)
        self.directory = ""
