"""Evidence an Android job leaves: its logcat, and what the screen showed when it failed.

WA3 saves ``error.png`` and ``error.uix`` when a job fails, so that a failure
on a phone in a lab can be understood without the phone. The capture is taken
at the moment the stage fails, before teardown closes the app. A failed
capture is a job event, never a second failure; a device without ``logcat``
(an Android-based board) is told once, and its jobs go on without a log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from ..model.errors import CommandError, TargetError
from ..model.runlog import RUN_LOGGER
from ..targets.protocols import Logcat, Screens
from ..targets.remote_shell import COMMAND_NOT_FOUND

if TYPE_CHECKING:
    from ..plugins.context import JobContext

#: The instrument that keeps a job's logcat its own way (instruments/logcat.py).
LOGCAT_INSTRUMENT = "logcat"


class EvidenceTarget(Logcat, Screens, Protocol):
    """A device with a log and a screen, and its settings for keeping them."""

    capture_logcat: bool  # keep the job's logcat
    capture_on_failure: bool  # keep a screenshot and a UI dump of a failed stage


class AndroidJobEvidence:
    """A plugin the run registers when its target has a log and a screen (Android)."""

    def __init__(self, target: EvidenceTarget) -> None:
        self.target = target
        #: Found at the first job: the device has no ``logcat`` to clear or read.
        self.logcat_missing = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_wa_job_start(self, job: JobContext) -> None:
        if self._keeps_logcat(job):
            self._logcat_step(job, "clearing logcat", self.target.clear_logcat)

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_setup(self, job: JobContext) -> Generator[None, None, None]:
        return (yield from self._capture_failure(job))

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        return (yield from self._capture_failure(job))

    @pytest.hookimpl(trylast=True)
    def pytest_wa_job_end(self, job: JobContext) -> None:
        if not self._keeps_logcat(job) or job.output_directory is None:
            return
        path = job.output_directory / "logcat.log"

        def save() -> None:
            self.target.dump_logcat(str(path))
            job.add_artifact("logcat", path, kind="log",
                             description="the device's logcat during the job")

        self._logcat_step(job, "saving logcat", save)

    def _keeps_logcat(self, job: JobContext) -> bool:
        """A job that enables the ``logcat`` instrument has its log kept by it (with the
        buffers and filters its agenda chose), not a second time here."""
        return (self.target.capture_logcat and not self.logcat_missing
                and LOGCAT_INSTRUMENT not in job.spec.augmentations)

    def _logcat_step(self, job: JobContext, what: str, step: Callable[[], None]) -> None:
        """Like ``_try``; a device without ``logcat`` is told once, then never asked again
        (two round trips a job saved, and one warning instead of one a job)."""
        try:
            step()
        except (TargetError, OSError) as exc:
            if isinstance(exc, CommandError) and exc.exit_code == COMMAND_NOT_FOUND:
                self._give_up_logcat(job, what, exc)
            else:
                self._note_failure(job, what, exc)

    def _give_up_logcat(self, job: JobContext, what: str, exc: CommandError) -> None:
        self.logcat_missing = True
        said = exc.stderr.strip() or "command not found"
        RUN_LOGGER.warning("Job %s: the device has no logcat (%s: %s); no job's logcat is "
                           "saved from now on", job.output_id, what, said)
        with contextlib.suppress(Exception):
            job.add_event(f"{what} failed: the device has no logcat ({said}); no job's "
                          "logcat is saved from now on")

    def _capture_failure(self, job: JobContext) -> Generator[None, None, None]:
        try:
            return (yield)
        except Exception:
            if self.target.capture_on_failure and job.output_directory is not None:
                self._save_error_evidence(job)
            raise

    def _save_error_evidence(self, job: JobContext) -> None:
        assert job.output_directory is not None
        for name, take, kind, description in (
                ("error.png", self.target.screenshot, "data", "the screen when the job failed"),
                ("error.uix", self.target.ui_dump, "data",
                 "the UI hierarchy when the job failed")):
            path = job.output_directory / name
            if path.exists():
                continue

            def save(take: Any = take, path: Path = path, name: str = name, kind: str = kind,
                     description: str = description) -> None:
                take(str(path))
                job.add_artifact(name.replace(".", "_"), path, kind=kind,
                                 description=description)

            self._try(job, f"saving {name}", save)

    @classmethod
    def _try(cls, job: JobContext, what: str, action: Callable[[], None]) -> None:
        try:
            action()
        except (TargetError, OSError) as exc:
            cls._note_failure(job, what, exc)

    @staticmethod
    def _note_failure(job: JobContext, what: str, exc: Exception) -> None:
        """A failed capture is a warning and a job event, never a second failure."""
        RUN_LOGGER.warning("Job %s: %s failed: %s", job.output_id, what, exc)
        with contextlib.suppress(Exception):
            job.add_event(f"{what} failed: {exc}")
