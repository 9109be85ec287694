"""Live progress of a pool, on its controller: each device's job, stage and times.

In a pool the jobs run in the workers, whose output xdist hides; the
controller shows them instead, one device a line, from what the workers
write at each stage of a job (status_files.py says why a file each):

- on a terminal, a block of lines below the line pytest is writing (its
  dots), redrawn every second, each line cut to the terminal's width::

      ..
        a: wk1-dhrystone#3 run 12 s, expected ~15 s
        b: wk1-dhrystone#4 setup 1 s, expected ~15 s
        c: idle

- in a CI log, nothing is redrawn: a device's job still running after a
  third of ``wa_progress_every`` gets a line, and again every
  ``wa_progress_every`` seconds, as in a single process:
  ``pytest-wa: [a: wk1-dhrystone#3 run 10 s, expected ~15 s]``;
- under ``-q``, nothing: workers are not even asked to write.

The expected time is the mean of the spec's earlier jobs on that device, or
on any device of the pool while that device has run none: devices of one
pool may differ (a phone and a board), and the first job on each still gets
an estimate.

xdist's controller writes to the terminal from its main thread, in the
reporting hooks (a job's start, reports, finish, a worker down); the
progress thread writes only under a lock that those hooks hold too, and on
a terminal the block is erased before they write and redrawn after. The
block is drawn with relative cursor moves (down by new lines, back up, to
the column pytest's writer says it is at), so a screen that scrolls does not
misplace it, and erased with "clear to the end of the screen" from that
spot, which also wipes what is left of a block that a line of xdist's own
(a crashed worker) wrote over.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ..session.progress_line import (
    TICK_S,
    Screen,
    describe,
    progress_every,
    shows_progress,
)
from . import PROGRESS_DIR_KEY
from .status_files import StatusReader, WorkerStatus

#: ANSI: clear from the cursor to the end of the screen.
CLEAR_BELOW = "\x1b[J"


class PoolProgress:
    """Registered on the xdist controller with PoolController (pool/__init__.py)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.directory: Path | None = None  # set once the first worker is configured
        self.reader: StatusReader | None = None
        self.screen: Screen | None = None
        self.heartbeat = 0.0
        self.gone: set[str] = set()  # workers xdist said are down
        self.statuses: list[WorkerStatus] = []
        self._lock = threading.RLock()
        self._shown = False
        self._logged: dict[str, tuple[float, float]] = {}  # worker: (job started, last line)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def pytest_configure_node(self, node: Any) -> None:
        """Name the workers' status directory, if progress is shown at all."""
        if self.directory is None and shows_progress(self.config):
            self.heartbeat = progress_every(self.config)
            self.screen = Screen(self.config)
            name = f"pytest-wa-progress-{secrets.token_hex(8)}"
            self.directory = Path(tempfile.gettempdir()) / name
            self.reader = StatusReader(self.directory)
        if self.directory is not None:
            node.workerinput[PROGRESS_DIR_KEY] = str(self.directory)

    # --- the main thread's reporting, kept apart from the progress thread ---

    def _around(self) -> Generator[None, Any, Any]:
        """Erase the block before pytest or xdist writes, draw it again after."""
        with self._lock:
            self._show("")
            try:
                return (yield)
            finally:
                if self._shows_block():  # what a report ended is read at once
                    self.statuses = self.reader.read()  # type: ignore[union-attr]
                self._show(self._frame())

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> Generator[None, Any, Any]:
        if self._thread is None and self.directory is not None \
                and nodeid.split("::", 1)[0].endswith((".yaml", ".yml")):
            self._start()
        return (yield from self._around())

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logreport(self, report: Any) -> Generator[None, Any, Any]:
        return (yield from self._around())

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> Generator[None, Any, Any]:
        return (yield from self._around())

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> Generator[None, Any, Any]:
        with self._lock:
            self.gone.add(node.gateway.id)
            return (yield from self._around())

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        """Stop before the summary; the workers are down, their files go."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._show("")
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    # --- the progress thread ---

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._tick, name="pytest-wa-pool-progress",
                                        daemon=True)
        self._thread.start()

    def _tick(self) -> None:
        assert self.reader is not None and self.screen is not None
        while not self._stop.wait(min(TICK_S, self.heartbeat / 3)):
            with self._lock:
                self.statuses = self.reader.read()
                if self.screen.ansi:
                    self._show(self._frame())
                else:
                    self._log(time.time())

    def _running(self) -> list[WorkerStatus]:
        """The workers still up that said something, in worker order (gw0, gw1...)."""
        up = [s for s in self.statuses if s.worker not in self.gone]
        return sorted(up, key=lambda s: [int(p) if p.isdigit() else p
                                         for p in re.split(r"(\d+)", s.worker)])

    def lines(self, now: float) -> list[str]:
        """One line per device: its job, stage, time so far and expected, or idle."""
        running = self._running()
        labels = device_labels(running)
        width = max((len(label) for label in labels.values()), default=0) + 1
        return [f"  {labels[s.worker] + ':':<{width}} " + (
                    describe(s.job, s.stage, now - s.started, expected(self.statuses, s))
                    if s.job else "idle")
                for s in running]

    def _log(self, now: float) -> None:
        """In a log: a line per device whose job has run long enough since its last."""
        running = self._running()
        labels = device_labels(running)
        for status in running:
            started, last = self._logged.get(status.worker, (0.0, float("-inf")))
            if started != status.started:
                last = float("-inf")
            self._logged[status.worker] = (status.started, last)
            if status.job is None or now - status.started < self.heartbeat / 3 \
                    or now - last < self.heartbeat:
                continue
            self._logged[status.worker] = (status.started, now)
            text = describe(status.job, status.stage, now - status.started,
                            expected(self.statuses, status))
            assert self.screen is not None
            self.screen.line(f"pytest-wa: [{labels[status.worker]}: {text}]")

    # --- the terminal block ---

    def _shows_block(self) -> bool:
        return self.screen is not None and self.screen.ansi and self._thread is not None

    def _frame(self) -> str:
        """The block below pytest's line, the cursor put back where pytest left it."""
        if not self._shows_block():
            return ""
        assert self.screen is not None
        writer = self.screen.writer
        column, width = writer.width_of_current_line, writer.fullwidth - 1
        lines = self.lines(time.time())
        if not lines or not 0 <= column < width:  # pytest is rewriting a line ("\r")
            return ""
        return "".join("\n" + line[:width] for line in lines) \
            + f"\x1b[{len(lines)}A\r" + (f"\x1b[{column}C" if column else "")

    def _show(self, frame: str) -> None:
        """Replace the block shown (if any) with ``frame`` ("" erases it)."""
        if self.screen is None or not (frame or self._shown):
            return
        self.screen.raw((CLEAR_BELOW if self._shown else "") + frame)
        self._shown = bool(frame)


def device_labels(statuses: list[WorkerStatus]) -> dict[str, str]:
    """Each worker's name on screen: its device, with the worker id when several
    workers share a device (``-n 2`` without a pool)."""
    devices = [s.device for s in statuses]
    return {s.worker: s.device if devices.count(s.device) == 1 else f"{s.device} ({s.worker})"
            for s in statuses}


def expected(statuses: list[WorkerStatus], status: WorkerStatus) -> float | None:
    """The mean time of the spec's earlier jobs on this device, else on any device."""
    for device in (status.device, None):
        runs = [s.done[status.spec] for s in statuses
                if status.spec in s.done and device in (None, s.device)]
        count = sum(n for n, _ in runs)
        if count:
            return sum(seconds for _, seconds in runs) / count
    return None
