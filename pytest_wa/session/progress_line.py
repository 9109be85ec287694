"""Live progress: which job, which stage, how long so far, and how long it should take.

A benchmark job can run for minutes with nothing on the screen. On a
terminal, the line pytest is writing gets a status after its dots
(``[wk1-dhrystone#2 run 12 s, expected ~15 s]``), rewritten every second and
erased before pytest writes the job's outcome. In a CI log (not a terminal)
nothing is rewritten: a job that runs longer than a third of
``wa_progress_every`` (30 s) gets a plain line then, and again every 30 s.
The expected time is the mean of the spec's earlier iterations in this
session. Under ``-q`` nothing extra is
shown. (The time per device at the end is the summary's: session/report.py.)
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections import defaultdict
from typing import Any

import pytest

TICK_S = 1.0
#: Seconds between progress lines in a CI log (the ini option wa_progress_every).
HEARTBEAT_S = 30.0


class LiveProgress:
    def __init__(self, terminal: Any, capture: Any = None,
                 heartbeat: float = HEARTBEAT_S) -> None:
        self.terminal = terminal
        self.heartbeat = heartbeat
        self.tick = min(TICK_S, heartbeat / 3)
        #: pytest's capture manager: fd 1 is captured while a job runs, so each write
        #: suspends it for that moment (as pytest's own live logging does)
        self.capture = capture
        self.interactive = bool(getattr(terminal, "isatty", False))
        self.durations: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        self._shown = ""
        self._job: tuple[str, str, float] | None = None  # (name, stage, started)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- what the job is doing (main thread) ---

    def _stage(self, job: Any, stage: str) -> None:
        with self._lock:
            if self._job is not None:
                self._job = (self._job[0], stage, self._job[2])

    def pytest_wa_job_start(self, job: Any) -> None:
        with self._lock:
            self._job = (f"{job.output_id}-{job.label}#{job.iteration}", "start",
                         time.monotonic())
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
        text = f"{name} {stage} {now - started:.0f} s"
        if self._expected is not None:
            text += f", expected ~{self._expected:.0f} s"
        return f"[{text}]"

    def _tick(self) -> None:
        last_line = float("-inf")
        while not self._stop.wait(self.tick):
            with self._lock:
                now = time.monotonic()
                if self.interactive:
                    self._erase()
                    self._shown = " " + self.status(now)
                    self._write(self._shown)
                elif self._job and now - self._job[2] >= self.heartbeat / 3 \
                        and now - last_line >= self.heartbeat:
                    last_line = now
                    self._write(f"pytest-wa: {self.status(now)}", line=True)

    def _write(self, text: str, line: bool = False) -> None:
        context = (self.capture.global_and_fixture_disabled() if self.capture is not None
                   else contextlib.nullcontext())
        with context:
            if line:
                self.terminal.write_line(text, flush=True)
            else:
                self.terminal.write(text, flush=True)

    def _erase(self) -> None:
        if self._shown:
            size = len(self._shown)
            self._write("\b" * size + " " * size + "\b" * size)
            self._shown = ""


def start_live_progress(config: pytest.Config) -> None:
    """Show live progress in this process if it runs jobs in front of a reader: not
    under -q, not in a pool worker (xdist hides its output; pool/ registers it)."""
    terminal = config.pluginmanager.getplugin("terminalreporter")
    if terminal is None or config.get_verbosity() < 0 \
            or config.pluginmanager.has_plugin("pytest-wa-pool-worker"):
        return
    capture = config.pluginmanager.getplugin("capturemanager")
    try:
        every = float(config.getini("wa_progress_every"))
    except ValueError:
        raise pytest.UsageError("wa_progress_every: a number of seconds, e.g. 30") from None
    config.pluginmanager.register(LiveProgress(terminal, capture, max(every, 0.1)),
                                  "pytest-wa-live-progress")
