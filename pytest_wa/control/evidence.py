"""Evidence an Android job leaves: its logcat, and what the screen showed when it failed.

WA3 saves ``error.png`` and ``error.uix`` when a job fails, so that a failure
on a phone in a lab can be understood without the phone. The capture is taken
at the moment the stage fails, before teardown closes the app. A failed
capture is a job event, never a second failure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from ..model.errors import TargetError
from ..model.runlog import RUN_LOGGER
from ..targets.protocols import Logcat, Screens

if TYPE_CHECKING:
    from ..plugins.context import JobContext


class EvidenceTarget(Logcat, Screens, Protocol):
    """A device with a log and a screen, and its settings for keeping them."""

    capture_logcat: bool  # keep the job's logcat
    capture_on_failure: bool  # keep a screenshot and a UI dump of a failed stage


class AndroidJobEvidence:
    """A plugin the run registers when its target has a log and a screen (Android)."""

    def __init__(self, target: EvidenceTarget) -> None:
        self.target = target

    @pytest.hookimpl(tryfirst=True)
    def pytest_wa_job_start(self, job: JobContext) -> None:
        if self.target.capture_logcat:
            self._try(job, "clearing logcat", self.target.clear_logcat)

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_setup(self, job: JobContext) -> Generator[None, None, None]:
        return (yield from self._capture_failure(job))

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        return (yield from self._capture_failure(job))

    @pytest.hookimpl(trylast=True)
    def pytest_wa_job_end(self, job: JobContext) -> None:
        if not self.target.capture_logcat or job.output_directory is None:
            return
        path = job.output_directory / "logcat.log"

        def save() -> None:
            self.target.dump_logcat(str(path))
            job.add_artifact("logcat", path, kind="log",
                             description="the device's logcat during the job")

        self._try(job, "saving logcat", save)

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

    @staticmethod
    def _try(job: JobContext, what: str, action: object) -> None:
        try:
            action()  # type: ignore[operator]
        except (TargetError, OSError) as exc:
            RUN_LOGGER.warning("Job %s: %s failed: %s", job.output_id, what, exc)
            with contextlib.suppress(Exception):
                job.add_event(f"{what} failed: {exc}")
