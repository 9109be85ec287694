"""Live progress: which job, which stage, how long so far, and how long it should take.

A benchmark job can run for minutes with nothing on the screen. On a
terminal, the line pytest is writing gets a status after its dots
(``[wk1-dhrystone#2 run 12 s, expected ~15 s]``), rewritten every second and
erased before pytest writes the job's outcome. In a CI log (not a terminal)
nothing is rewritten: a job that runs longer than a third of
``wa_progress_every`` (30 s) gets a plain line then, and again every 30 s.
The expected time is the mean of the spec's earlier iterations in this
session. Under ``-q`` nothing extra is shown. (A pool's controller shows its
devices' jobs: pool/progress.py, with the ``Screen`` below. The time per
device at the end is the summary's: session/report.py.)
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from typing import Any

import pytest

TICK_S = 1.0
#: Seconds between progress lines in a CI log (the ini option wa_progress_every).
HEARTBEAT_S = 30.0


def job_title(job: Any) -> str:
    """How progress names a job: ``wk1-dhrystone#2`` (output id, label, iteration)."""
    return f"{job.output_id}-{job.label}#{job.iteration}"


def describe(title: str, stage: str, elapsed: float, expected: float | None) -> str:
    """``wk1-dhrystone#2 run 12 s, expected ~15 s``."""
    text = f"{title} {stage} {elapsed:.0f} s"
    if expected is not None:
        text += f", expected ~{expected:.0f} s"
    return text


class Screen:
    """Writes progress into pytest's terminal from a thread of ours.

    pytest's capture owns fd 1 while a job runs, so each write suspends it for
    that moment (as pytest's own live logging does). Whatever is rewritten in
    place (backspaces, cursor moves) goes straight to the stream, not through
    pytest's writer: that writer counts every character it is given as part
    of the line, and would misplace the ``[100%]`` it aligns at the right
    edge. Plain lines go through pytest's writer, after ending an unfinished
    line of dots.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.terminal = config.pluginmanager.getplugin("terminalreporter")
        self.capture = config.pluginmanager.getplugin("capturemanager")
        self.writer = config.get_terminal_writer()
        self.stream = sys.stdout  # the terminal reporter's (capture is off at session start)
        #: Whether a status may be rewritten in place (with backspaces): a terminal.
        self.interactive = bool(self.terminal.isatty() and self.stream.isatty())
        #: Whether the terminal takes ANSI cursor moves too (not TERM=dumb).
        self.ansi = self.interactive and os.environ.get("TERM") != "dumb"

    def _uncaptured(self) -> contextlib.AbstractContextManager[Any]:
        return (self.capture.global_and_fixture_disabled() if self.capture is not None
                else contextlib.nullcontext())

    def raw(self, text: str) -> None:
        with self._uncaptured():
            self.stream.write(text)
            self.stream.flush()

    def line(self, text: str) -> None:
        with self._uncaptured():
            self.terminal.ensure_newline()
            if self.writer.width_of_current_line:  # xdist's dots: no file name tracked
                self.terminal.write("\n")
            self.terminal.write_line(text)
            self.terminal.flush()


class LiveProgress:
    def __init__(self, screen: Screen, heartbeat: float = HEARTBEAT_S) -> None:
        self.screen = screen
        self.heartbeat = heartbeat
        self.tick = min(TICK_S, heartbeat / 3)
        self.durations: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        self._shown = ""
        self._job: tuple[str, str, float] | None = None  # (name, stage, started)
        self._expected: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- what the job is doing (main thread) ---

    def _stage(self, job: Any, stage: str) -> None:
        with self._lock:
            if self._job is not None:
                self._job = (self._job[0], stage, self._job[2])

    def pytest_wa_job_start(self, job: Any) -> None:
        with self._lock:
            self._job = (job_title(job), "start", time.monotonic())
            self._expected = self._expectation(job.spec.id)
        self._stop.clear()
        self._thread = threading.Thread(target=self._tick, name="pytest-wa-progress",
                                        daemon=True)
        self._thread.start()

    def pytest_wa_job_setup(self, job: Any) -> None:
        self._stage(job, "setup")

    def pytest_wa_job_execute(self, job: Any) -> None:
        self._stage(job, "run")

    def pytest_wa_job_extract_results(self, job: Any) -> None:
        self._stage(job, "extract")

    def pytest_wa_job_teardown(self, job: Any) -> None:
        self._stage(job, "teardown")

    @pytest.hookimpl(tryfirst=True)
    def pytest_wa_job_end(self, job: Any) -> None:
        """Stop and erase the status before pytest writes the job's outcome."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._erase()
            self._job = None
        self.durations[job.spec.id].append(job.duration)

    def _expectation(self, spec_id: str) -> float | None:
        earlier = self.durations.get(spec_id)
        return statistics.fmean(earlier) if earlier else None

    # --- what the terminal shows (ticker thread) ---

    def status(self, now: float) -> str:
        """``[job stage elapsed, expected ~T]`` for the job running now (or "")."""
        if self._job is None:
            return ""
        name, stage, started = self._job
        return f"[{describe(name, stage, now - started, self._expected)}]"

    def _tick(self) -> None:
        last_line = float("-inf")
        while not self._stop.wait(self.tick):
            with self._lock:
                now = time.monotonic()
                if self.screen.interactive:
                    self._erase()
                    self._shown = " " + self.status(now)
                    self.screen.raw(self._shown)
                elif self._job and now - self._job[2] >= self.heartbeat / 3 \
                        and now - last_line >= self.heartbeat:
                    last_line = now
                    self.screen.line(f"pytest-wa: {self.status(now)}")

    def _erase(self) -> None:
        if self._shown:
            size = len(self._shown)
            self.screen.raw("\b" * size + " " * size + "\b" * size)
            self._shown = ""


def progress_every(config: pytest.Config) -> float:
    """The ini option wa_progress_every: seconds between progress lines in a log."""
    try:
        every = float(config.getini("wa_progress_every"))
    except ValueError:
        raise pytest.UsageError("wa_progress_every: a number of seconds, e.g. 30") from None
    return max(every, 0.1)


def shows_progress(config: pytest.Config) -> bool:
    """Whether progress reaches a reader: a terminal reporter, and not -q."""
    return config.pluginmanager.getplugin("terminalreporter") is not None \
        and config.get_verbosity() >= 0


def start_live_progress(config: pytest.Config) -> None:
    """Show live progress in this process if it runs jobs in front of a reader: not
    under -q, not in a pool worker (xdist hides its output; pool/progress.py shows its
    jobs on the controller)."""
    if not shows_progress(config) or config.pluginmanager.has_plugin("pytest-wa-pool-worker"):
        return
    config.pluginmanager.register(LiveProgress(Screen(config), progress_every(config)),
                                  "pytest-wa-live-progress")
