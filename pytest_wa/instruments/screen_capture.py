"""``screen_capture``: screenshots of the device every ``period`` seconds while the workload runs.

WA3's instrument. A thread of this host asks the target for a screenshot
(its ``Screens`` ability: ``screencap`` on Android) at the start of the
workload and then every ``period`` seconds until it ends; a screenshot that
takes longer than the period is followed by the next at once. They land in
the job's ``screen-capture`` directory as ``screencap_<UTC time>.png``. A
screenshot that fails is told at the end: the job is PARTIAL, with how many
failed and why.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..model.errors import ConfigError, InstrumentError
from ..model.parameters import Parameter, integer
from ..targets.protocols import Screens
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

DIRECTORY = "screen-capture"
#: How long the last screenshot may take once the workload is over.
STOP_TIMEOUT = 60.0


class ScreenCapture(Instrument):
    name = "screen_capture"
    description = """Screenshots of the device every period seconds while the workload runs.

    They are saved in the job's screen-capture directory (artifact screen_capture)."""
    priority = Priority.NORMAL
    parameters = (
        Parameter("period", integer, 10,
                  "Seconds between two screenshots; when one takes longer, the next is "
                  "taken at once (0: as fast as the device allows)."),
        OPTIONAL,
    )

    period: int

    def check(self, target: Target) -> None:
        if self.period < 0:
            raise ConfigError(f"instrument 'screen_capture': period must be 0 or more "
                              f"seconds, got {self.period}")
        if not isinstance(target, Screens):
            raise InstrumentUnavailable(
                "it takes screenshots, and this device has no screen to capture (it lacks "
                "the Screens ability of an Android device: screencap)")

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        if job.output_directory is None:
            raise InstrumentError("the job has no output directory")
        directory = job.output_directory / DIRECTORY
        directory.mkdir(exist_ok=True)
        poller = ScreenPoller(job.target, directory, self.period)
        poller.start()
        try:
            return (yield)
        finally:
            self._finish(job, poller)

    @staticmethod
    def _finish(job: JobContext, poller: ScreenPoller) -> None:
        """Wait for the screenshot in flight; record the directory; tell what failed."""
        poller.finish()
        if poller.taken:
            job.add_artifact("screen_capture", DIRECTORY, "data",
                             f"{len(poller.taken)} screenshots taken while the workload ran")
        if poller.is_alive():
            raise InstrumentError(f"a screenshot was still being taken {STOP_TIMEOUT:g} s "
                                  "after the workload ended")
        if poller.failures:
            first = poller.failures[0]
            raise InstrumentError(
                f"{len(poller.failures)} of {len(poller.failures) + len(poller.taken)} "
                f"screenshots failed; the first: {type(first).__name__}: {first}")


class ScreenPoller(threading.Thread):
    """Takes a screenshot, then one every ``period`` seconds, until ``finish``."""

    def __init__(self, target: Any, directory: Path, period: float) -> None:
        super().__init__(name="pytest-wa-screen-capture", daemon=True)
        self.target = target
        self.directory = directory
        self.period = period
        self.taken: list[Path] = []
        self.failures: list[Exception] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            started = time.monotonic()
            self._take()
            left = self.period - (time.monotonic() - started)
            if self._stop_event.wait(max(left, 0.0)):
                return

    def _take(self) -> None:
        """One screenshot; a failure is kept and told when the capture ends."""
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        path = self.directory / f"screencap_{stamp}.png"
        try:
            self.target.screenshot(str(path))
        except Exception as exc:  # noqa: BLE001 (told by ScreenCapture._finish)
            self.failures.append(exc)
            return
        self.taken.append(path)

    def finish(self) -> None:
        self._stop_event.set()
        self.join(STOP_TIMEOUT)
