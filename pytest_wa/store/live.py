"""Writing a run into a results database while it runs (``--wa-db`` / the ``db`` setting).

Each job is stored in its own transaction once its files are written, so the
database holds every finished job even if the run is killed; the run's row
is stored when the run starts and completed when it ends. The database is
opened before the first job: one that cannot be reached stops the run there,
with one clear error. A database that fails later costs nothing on disk: a
warning and a run event say so, writing stops, and the run's end tries once
to catch up with every job (``python -m pytest_wa db upload`` does it later).
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..model.status import JobStatus
from ..output.pods import decode_time
from .base import Store, StoreError
from .records import STATUS_NAME_KEY, JobRecord, RunRecord
from .transfer import upload

if TYPE_CHECKING:
    from ..plugins.context import JobContext, RunView

#: The run's row (its state, for WA3's reader) is refreshed at most this often.
STATE_EVERY_S = 10.0


class DatabaseWarning(UserWarning):
    """The results database failed during a run; the run directory has everything."""


def job_record(job: JobContext) -> JobRecord:
    """What the database keeps of a job that just ended (as written to its directory)."""
    spec = job.spec
    metadata: dict[str, Any] = {"workload": spec.workload_name, "device": job.run.device,
                                "duration": job.duration}
    if job.status is JobStatus.NONCRITICAL:
        metadata[STATUS_NAME_KEY] = job.status.name
    assert job.output_directory is not None
    return JobRecord(
        id=job.output_id, label=job.label, iteration=job.iteration, status=job.status,
        retries=job.retries, workload_name=spec.workload_name,
        directory=job.output_directory, metrics=list(job.metrics),
        artifacts=list(job.artifacts), events=list(job.events),
        classifiers=dict(job.classifiers), metadata=metadata,
        workload_parameters=dict(spec.workload_parameters),
        runtime_parameters=dict(spec.runtime_parameters),
        augmentations=[a for a in spec.augmentations if not a.startswith("~")])


class DatabaseWriter:
    """The plugin that stores this process's jobs, and (if it owns the run) the run."""

    def __init__(self, store: Store, directory: Path, owns_run: bool) -> None:
        self.store = store
        # each job is committed without waiting for the server's disk: a few ms a job
        # saved; a crash of the server itself may lose its last moments, which the run
        # directory has (db upload stores them again); a crash of this run loses nothing
        store.prefer_speed_to_server_durability()
        self.directory = directory
        self.owns_run = owns_run
        self.failed: str | None = None
        self._run: RunRecord | None = None
        self._state_written = 0.0

    def _record(self) -> RunRecord:
        """The run's identity, from its run_info.json (in a pool the controller writes
        it before any worker's first job)."""
        if self._run is None:
            info = json.loads((self.directory / "__meta" / "run_info.json").read_text())
            self._run = RunRecord(uuid=str(info["uuid"]), directory=self.directory,
                                  status=JobStatus.RUNNING, run_name=info.get("run_name"),
                                  project=info.get("project"),
                                  start_time=decode_time(info.get("start_time")))
        return self._run

    def _guarded(self, run: RunView | None, action: Any) -> None:
        if self.failed:
            return
        try:
            action()
        except StoreError as error:
            self.failed = str(error)
            message = (f"results database failed, the run goes on without it: {error}; "
                       f"every job is in {self.directory} (python -m pytest_wa db upload "
                       f"{self.directory} stores it later)")
            warnings.warn(DatabaseWarning(message), stacklevel=2)
            if run is not None:
                run.add_event(message)

    def pytest_wa_run_start(self, run: RunView) -> None:
        if self.owns_run:  # a resumed run's earlier jobs are stored again, idempotently
            self._guarded(run, lambda: upload(self.store, self._reader()))

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_output(self, job: JobContext) -> Any:
        result = yield  # after every other implementation: the job's files are written
        self._guarded(job.run, lambda: self.store.write_jobs(self._record(),
                                                             [job_record(job)]))
        if self.owns_run and time.monotonic() - self._state_written > STATE_EVERY_S:
            self._state_written = time.monotonic()
            self._guarded(job.run, self._update_state)
        return result

    def pytest_wa_run_output(self, run: RunView) -> None:
        """The run's final rows; after a failure, one try at storing everything."""
        try:
            if self.owns_run:
                self._finish_run(run)
        finally:
            self.store.close()

    def _finish_run(self, run: RunView) -> None:
        if self.failed:
            self.failed = None
            self._guarded(run, lambda: upload(self.store, self._reader()))
        else:
            self._guarded(run, lambda: self.store.write_run(self._reader_record(), ()))
        if not self.failed:
            from ..model.runlog import RUN_LOGGER

            RUN_LOGGER.info("Results stored in %s", self.store.where)

    def _update_state(self) -> None:
        state = json.loads((self.directory / ".run_state.json").read_text(encoding="utf-8"))
        self.store.update_state(self._record().uuid, state)

    def _reader(self) -> Any:
        from ..output.reader import RunOutput

        return RunOutput(self.directory)

    def _reader_record(self) -> RunRecord:
        from .records import run_record

        return run_record(self._reader())
