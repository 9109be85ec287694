"""``trace-cmd``: an ftrace trace of each job (WA3's instrument), as ``trace.dat`` and text.

The trace is taken in a tracefs instance of the instrument's own, switched on
just before the workload and off just after it (one command each side), so
other tracers on the device are left alone. When the device has the
``trace-cmd`` program it makes the binary ``trace.dat`` of that instance and
its text report (``trace.txt``); without it, the kernel's own text of the
trace is saved as ``trace.txt``. A trace that failed or holds no events makes
the job PARTIAL: an empty trace is never passed off as a result.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..model.errors import ConfigError, InstrumentError, TargetError
from ..model.parameters import Parameter, boolean, integer, list_of_strings, string
from ..model.runlog import RUN_LOGGER
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .tracefs import (
    TraceSetup,
    TraceStop,
    Tracing,
    discovery_script,
    match_events,
    parse_discovery,
    parse_stop,
    start_script,
    stop_script,
)

if TYPE_CHECKING:
    from ..plugins.context import JobContext, RunView
    from ..targets.protocols import Target

TRACE_FILE = "trace.dat"
TEXT_FILE = "trace.txt"
#: Seconds a trace may take to stop, be written out or reported (WA3: 180).
TIMEOUT = 180.0
METHODS = ("auto", "trace-cmd", "tracefs")


class TraceCmd(Instrument):
    name = "trace-cmd"
    description = """
    An ftrace trace of each job's workload (trace.dat with trace-cmd, trace.txt).

    The kernel events (and functions) asked for, recorded from just before the
    workload starts to just after it ends, between a TRACE_MARKER_START and a
    TRACE_MARKER_STOP line, in a tracefs instance of its own. With trace-cmd
    on the device the trace is saved as trace.dat (its text report as
    trace.txt); without it, through tracefs directly, as trace.txt. Needs root;
    tracefs is mounted if it is not. A trace that failed or holds no events
    makes the job PARTIAL.
    """
    priority = Priority.VERY_SLOW
    parameters = [
        Parameter("events", list_of_strings, ["sched*", "irq*", "power*", "thermal*"],
                  "Events to trace, as trace-cmd -e takes them: system:event (globs allowed) "
                  "or one word matching event or system names. Patterns that match no event "
                  "of the device are left out with a note; none matching at all is an "
                  "error before the first job."),
        Parameter("functions", list_of_strings, None,
                  "Kernel functions to trace (the function tracer, filtered to these); "
                  "each must be in the device's available_filter_functions."),
        Parameter("buffer_size", integer, None,
                  "Size of the trace's per-CPU ring buffer in KB. When the device refuses "
                  "it, smaller sizes are tried in steps of buffer_size_step."),
        Parameter("buffer_size_step", integer, 1000,
                  "How much smaller (KB) each next try of buffer_size is, down to 1000 KB."),
        Parameter("report", boolean, True,
                  "Whether to make the text report (trace.txt) of trace.dat."),
        Parameter("no_install", boolean, False,
                  "Accepted for WA3 agendas: pytest-wa ships no trace-cmd, it always uses "
                  "the device's (or tracefs)."),
        Parameter("report_on_target", boolean, False,
                  "Make trace.txt on the device instead of on this host (it is made on the "
                  "device anyway when this host has no trace-cmd)."),
        Parameter("method", string, "auto", allowed_values=METHODS,
                  description="How to get the trace: trace-cmd (trace.dat and its report), "
                  "tracefs (the kernel's text, no program needed), or auto: trace-cmd when "
                  "the device has it. A pytest-wa addition."),
        OPTIONAL,
    ]

    events: list[str]
    functions: list[str] | None
    buffer_size: int | None
    buffer_size_step: int
    report: bool
    report_on_target: bool
    method: str

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.notes: list[str] = []
        self._tracing: Tracing | None = None
        self._selected: tuple[str, ...] = ()
        self._stop: TraceStop | None = None
        self._active: TraceSetup | None = None  # the job's trace, while it may be on

    # --- before the first job ---

    def validate(self) -> None:
        """The values together (called when the agenda is read, and again by ``check``)."""
        if not self.events and not self.functions:
            raise ValueError("nothing to trace: events and functions are both empty")
        if self.buffer_size is not None and self.buffer_size <= 0:
            raise ValueError(f"buffer_size must be a positive size in KB, got {self.buffer_size}")
        if self.buffer_size_step <= 0:
            raise ValueError(f"buffer_size_step must be positive, got {self.buffer_size_step}")

    def check(self, target: Target) -> None:
        """Root, tracefs (mounted here if need be), instances, trace-cmd if asked for, and
        at least one of the events; read in one command."""
        try:
            self.validate()
        except ValueError as exc:
            raise ConfigError(f"instrument 'trace-cmd': {exc}") from None
        functions = tuple(self.functions or ())
        tracing = self._discover(target, functions)
        self._method_for(tracing)
        selected, unmatched = match_events(self.events or (), tracing.events)
        if self.events and not selected:
            raise InstrumentUnavailable(
                f"none of the events {', '.join(self.events)} exists on this device (its "
                f"events are listed in {tracing.path}/available_events)")
        if unmatched:
            self.notes.append(f"trace-cmd: no event of this device matches "
                              f"{', '.join(unmatched)}; traced without them")
        self._check_functions(tracing, functions)
        self._tracing, self._selected = tracing, tuple(selected)

    def _discover(self, target: Target, functions: tuple[str, ...]) -> Tracing:
        try:
            result = target.execute(discovery_script(functions), as_root=True, timeout=60)
        except TargetError as exc:
            raise InstrumentUnavailable(f"tracing needs root, and running as root "
                                        f"failed: {exc}") from exc
        tracing = parse_discovery(result.stdout)
        if not result.ok or not tracing.root:
            raise InstrumentUnavailable(
                "tracing needs root: commands as root do not run as root on this device "
                f"({(result.stderr or result.stdout).strip()[:200] or 'no id'})")
        if not tracing.path:
            raise InstrumentUnavailable(
                "the kernel has no tracefs (a kernel built with CONFIG_FTRACE mounts it at "
                "/sys/kernel/tracing), and it could not be mounted there")
        if not tracing.instances:
            raise InstrumentUnavailable(f"{tracing.path} has no instances/ directory "
                                        "(tracefs instances need Linux 3.10 or later)")
        return tracing

    def _method_for(self, tracing: Tracing) -> None:
        if self.method == "trace-cmd" and not tracing.trace_cmd:
            raise InstrumentUnavailable(
                "method: trace-cmd, and the device has no trace-cmd program (install it, "
                "e.g. apt-get install trace-cmd, or use method: tracefs)")

    def _check_functions(self, tracing: Tracing, functions: tuple[str, ...]) -> None:
        if not functions:
            return
        if "function" not in tracing.tracers:
            raise InstrumentUnavailable("functions: the kernel has no function tracer "
                                        "(CONFIG_FUNCTION_TRACER)")
        if tracing.functions_error:
            raise InstrumentUnavailable(f"functions: the kernel does not let functions be "
                                        f"traced here ({tracing.functions_error})")
        if tracing.missing_functions:
            raise InstrumentUnavailable(
                f"functions: {', '.join(tracing.missing_functions)} cannot be traced (not in "
                f"{tracing.path}/available_filter_functions)")

    @property
    def uses_trace_cmd(self) -> bool:
        return self._tracing is not None and self.method != "tracefs" \
            and bool(self._tracing.trace_cmd)

    @property
    def reports_on_target(self) -> bool:
        return self.report_on_target or shutil.which("trace-cmd") is None

    def pytest_wa_run_start(self, run: RunView) -> None:
        if self._tracing is not None and self._tracing.mounted:
            self.notes.append(f"trace-cmd: mounted tracefs at {self._tracing.path}")
        for note in self.notes:
            RUN_LOGGER.warning("%s", note)
            run.notes.append(note)

    # --- each job ---

    def _setup(self, target: Target) -> TraceSetup:
        if self._tracing is None:  # not checked (a user's own run): find out now
            self.check(target)
        assert self._tracing is not None
        return TraceSetup(self._tracing.path, f"pytest-wa-{os.getpid()}", self._selected,
                          self.buffer_size, self.buffer_size_step,
                          tuple(self.functions or ()))

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        self._stop = None
        setup = self._active = self._setup(job.target)
        try:
            started = job.target.execute(start_script(setup), as_root=True, timeout=TIMEOUT)
        except BaseException:
            self._abandon(job)
            raise
        if not started.ok:
            self._abandon(job)
            raise InstrumentError(f"the trace did not start: {_said(started)}")
        try:
            return (yield)
        finally:
            if self._active is not None:
                self._stop = self._stop_trace(job, setup)

    def pytest_wa_job_teardown(self, job: JobContext) -> None:
        """Ctrl-C passes the execute wrapper by: its ``finally`` runs only once Python drops
        it, maybe at exit; so teardown (which runs then too) removes a trace still on."""
        if self._active is not None:
            self._abandon(job)

    def _abandon(self, job: JobContext) -> None:
        """The job's trace switched off and its instance removed, unsaved."""
        setup, self._active = self._active, None
        if setup is not None:
            directory = shlex.quote(setup.directory)
            job.run.target.execute(f"echo 0 > {directory}/tracing_on; rmdir {directory}; true",
                                   as_root=True, timeout=TIMEOUT)

    def _stop_trace(self, job: JobContext, setup: TraceSetup) -> TraceStop:
        """Stopped through the run's target, not the job's: after a job_timeout too."""
        self._active = None
        workdir = job.run.target.working_directory
        files, extract, report = self._extraction(setup, workdir)
        result = job.run.target.execute(stop_script(setup, workdir, extract, report),
                                        as_root=True, timeout=TIMEOUT)
        if not result.ok:
            raise InstrumentError(f"the trace could not be stopped and saved: {_said(result)}")
        return parse_stop(result.stdout, setup.instance, files)

    def _extraction(self, setup: TraceSetup, workdir: str
                    ) -> tuple[dict[str, str], str, str]:
        """The files the job's trace is saved as on the device, and the commands that
        save and (on the device) report it."""
        w = f"{workdir}/"
        if not self.uses_trace_cmd:
            return ({TEXT_FILE: w + TEXT_FILE},
                    'cat "$I/trace" > "$W/trace.txt" || fail "cannot read $I/trace"', "")
        assert self._tracing is not None
        program = shlex.quote(self._tracing.trace_cmd)
        log = '"$W/trace-cmd.log"'
        extract = (f'(cd "$W" && {program} extract -B {shlex.quote(setup.instance)} '
                   f'-o "$W/trace.dat") > {log} 2>&1 || {{ cat {log} >&2; '
                   'fail "trace-cmd extract failed"; }')
        files = {TRACE_FILE: w + TRACE_FILE}
        if not (self.report and self.reports_on_target):
            return files, extract, ""
        files[TEXT_FILE] = w + TEXT_FILE
        report = (f'{program} report "$W/trace.dat" > "$W/trace.txt" 2> {log} || '
                  f'{{ cat {log} >&2; fail "trace-cmd report failed"; }}')
        return files, extract, report

    def pytest_wa_job_extract_results(self, job: JobContext) -> None:
        stop, self._stop = self._stop, None
        if stop is None:  # the trace failed to start or stop: already reported
            return
        directory = job.output_directory
        assert directory is not None
        for name, remote in stop.files.items():
            job.target.pull(remote, str(directory / name), timeout=TIMEOUT)
        where = f"tracefs instance {stop.instance}"
        if TRACE_FILE in stop.files:
            job.add_artifact("trace-cmd-bin", TRACE_FILE, "data",
                             f"The job's trace (trace-cmd extract of {where}).")
            if self.report and TEXT_FILE not in stop.files:
                _report_here(directory / TRACE_FILE, directory / TEXT_FILE)
        if (directory / TEXT_FILE).exists():
            how = "trace-cmd report of trace.dat" if TRACE_FILE in stop.files else where
            job.add_artifact("trace-cmd-txt", TEXT_FILE, "export", f"The trace as text ({how}).")
        self._judge(job, stop)

    def _judge(self, job: JobContext, stop: TraceStop) -> None:
        """A trace cut short or empty is a failure; lost events are worth an event."""
        if stop.lost:
            job.add_event(f"trace-cmd: {stop.lost} events were lost (the ring buffer was "
                          "full); a larger buffer_size keeps them")
        if not stop.tracing_on:
            raise InstrumentError("tracing was switched off during the job by something "
                                  "else; the trace ends early")
        if stop.events == 0:
            asked = ", ".join([*self._selected, *(self.functions or ())])
            raise InstrumentError(f"the trace holds no events, though it traced {asked}")


def _report_here(trace: Path, text: Path) -> None:
    """``trace-cmd report`` on this host (WA3's default), into ``text``."""
    with open(text, "wb") as out:
        try:
            done = subprocess.run(["trace-cmd", "report", str(trace)], stdout=out,
                                  stderr=subprocess.PIPE, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InstrumentError(f"trace-cmd report failed on this host: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()[-500:]
        raise InstrumentError(f"trace-cmd report failed on this host: {message}")


def _said(result: Any) -> str:
    return (result.stderr or result.stdout or f"exit code {result.exit_code}").strip()[-500:]
