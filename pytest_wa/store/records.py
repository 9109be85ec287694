"""What a database keeps of a run and of a job, gathered from a run directory.

A database is written from the run directory, never from the live objects of
a run: the files are what pytest-wa guarantees to keep (crash-safe, resumable),
so storing a run as it goes, storing it after a resume and uploading it later
(``python -m pytest_wa db upload``) all store the same thing, and a run written
by WA3 uploads like one of ours.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.results import Artifact, Event, Metric
from ..model.status import JobStatus
from ..output.pods import encode_status, wa3_value
from ..output.reader import JobOutput, RunOutput
from ..output.statistics import statistics_rows

#: WA3's enum has no NONCRITICAL: it is stored as OK(7) and its name kept here.
STATUS_NAME_KEY = "pytest_wa_status"


@dataclass
class JobRecord:
    """One job iteration's rows (``Jobs`` and what hangs off it)."""

    id: str
    label: str
    iteration: int
    status: JobStatus
    retries: int
    workload_name: str
    directory: Path
    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    classifiers: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    workload_parameters: dict[str, Any] = field(default_factory=dict)
    runtime_parameters: dict[str, Any] = field(default_factory=dict)
    augmentations: list[str] = field(default_factory=list)


@dataclass
class RunRecord:
    """The run's own rows (``Runs``, ``Targets``, run-level metrics and events)."""

    uuid: str
    directory: Path
    status: JobStatus
    run_name: str | None = None
    project: str | None = None
    project_stage: Any = None
    start_time: datetime.datetime | None = None
    end_time: datetime.datetime | None = None
    duration: float | None = None
    state: dict[str, Any] = field(default_factory=dict)
    target_info: dict[str, Any] = field(default_factory=dict)
    run_config: dict[str, Any] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    classifiers: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    #: statistics.csv's rows (output/statistics.py), computed from the jobs on disk
    statistics: list[dict[str, Any]] = field(default_factory=list)

    @property
    def event_summary(self) -> str:
        """WA3's summary of the run's events: the first one and how many more."""
        if not self.events:
            return ""
        more = len(self.events) - 1
        return self.events[0].message + (f" (+{more} more)" if more else "")


def database_status(status: JobStatus) -> str:
    """``NAME(value)`` within WA3's enum (NONCRITICAL is stored as OK(7))."""
    return encode_status(JobStatus(wa3_value(status)))


def run_record(run: RunOutput) -> RunRecord:
    """The run's rows from its directory (``run.jobs`` are stored with ``job_record``)."""
    info = run.run_info
    if not info.uuid:
        raise ValueError(f"{run.path}: the run has no uuid (__meta/run_info.json)")
    state = json.loads((run.path / ".run_state.json").read_text(encoding="utf-8"))
    config = run.config or {}
    return RunRecord(
        uuid=str(info.uuid), directory=run.path, status=run.status, run_name=info.run_name,
        project=info.project, project_stage=info.project_stage, start_time=info.start_time,
        end_time=info.end_time, duration=info.duration, state=state,
        target_info=run.target_info or {}, run_config=config.get("run_config") or {},
        metrics=run.metrics, artifacts=run.artifacts, events=run.events,
        classifiers=run.classifiers, metadata=run.metadata,
        statistics=statistics_rows(run))


def job_record(job: JobOutput) -> JobRecord:
    """A job's rows from its directory and its spec in ``__meta/jobs.json``."""
    spec = job.spec or {}
    metadata = dict(job.metadata)
    if wa3_value(job.status) != int(job.status):
        metadata[STATUS_NAME_KEY] = job.status.name
    return JobRecord(
        id=job.id, label=job.label, iteration=job.iteration, status=job.status,
        retries=job.retries, workload_name=str(spec.get("workload_name") or job.label),
        directory=job.path, metrics=job.metrics, artifacts=job.artifacts, events=job.events,
        classifiers=job.classifiers, metadata=metadata,
        workload_parameters=dict(spec.get("workload_parameters") or {}),
        runtime_parameters=dict(spec.get("runtime_parameters") or {}),
        augmentations=[a for a in spec.get("augmentations") or () if not a.startswith("~")])


def stored_jobs(run: RunOutput) -> list[JobRecord]:
    """The jobs worth a row: those that ended (a job still pending has nothing yet)."""
    return [job_record(job) for job in run.jobs if job.status.is_final]
