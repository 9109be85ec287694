"""Reading run directories: ours and WA3 3.3.1's (the same format).

Follows WA3's own ``RunOutput`` where it matters to analysis: the jobs and
their statuses come from ``.run_state.json``; a job's or the run's
``result.json`` that cannot be read costs only that result (it becomes an
event), while an unreadable ``.run_state.json`` or ``__meta`` file makes the
run unreadable (``RunOutputError``). Two things differ on purpose: the run
status falls back to the state's while WA3 still has ``NEW`` in
``result.json`` (mid-run), and a NONCRITICAL job keeps that name.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.errors import WAError
from ..model.results import Artifact, Event, Metric
from ..model.status import JobStatus
from .pods import (
    ResultData,
    decode_status,
    decode_time,
    job_directory_name,
    result_from_pod,
    wa3_value,
)

STATE_FILE = ".run_state.json"
RESULT_FILE = "result.json"
META_DIR = "__meta"
FAILED_DIR = "__failed"

_WA3_NAMES = {status.name for status in JobStatus if status is not JobStatus.NONCRITICAL}


class RunOutputError(WAError):
    """A directory is not a run, or one of the files that define a run is corrupt."""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _load_json(path: Path) -> Any:
    """The JSON in ``path``; OSError or ValueError (one-line reason) otherwise."""
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid JSON: {error}") from None


def _load_meta(path: Path, *, required: bool = True) -> Any:
    """A file that defines the run: any problem is a RunOutputError naming it."""
    if not path.is_file():
        if required:
            raise RunOutputError(f"{path}: missing")
        return None
    try:
        return _load_json(path)
    except (OSError, ValueError) as error:
        raise RunOutputError(f"{path}: {error}") from None


def _load_result(path: Path) -> ResultData:
    """A ``result.json``; a problem becomes an UNKNOWN result with one event, as in WA3."""
    try:
        return result_from_pod(_load_json(path))
    except FileNotFoundError:
        reason = "missing"
    except (OSError, ValueError) as error:
        reason = str(error)
    return ResultData(JobStatus.UNKNOWN,
                      events=[Event(f"{path}: could not be read: {reason}", _now())])


class _ResultView:
    """Lookups shared by a run and its jobs (both have a result.json)."""

    path: Path
    metrics: list[Metric]
    artifacts: list[Artifact]

    def metric(self, name: str) -> Metric:
        """The first metric called ``name``; KeyError if there is none."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        known = ", ".join(sorted({m.name for m in self.metrics})) or "none"
        raise KeyError(f"no metric {name!r} in {self.path} (metrics: {known})")

    def artifact_path(self, name: str) -> Path:
        """Absolute path of the artifact called ``name``; KeyError if there is none."""
        for artifact in self.artifacts:
            if artifact.name == name:
                return self.path / artifact.path
        known = ", ".join(repr(a.name) for a in self.artifacts) or "none"
        raise KeyError(f"no artifact {name!r} in {self.path} (artifacts: {known})")


@dataclass(repr=False)
class JobOutput(_ResultView):
    """One job iteration as recorded: its state entry plus its ``result.json``.

    ``attempt`` is None for the final attempt, N for ``__failed/...-attemptNN``.
    """

    id: str
    label: str
    iteration: int
    status: JobStatus
    retries: int
    timestamp: datetime.datetime | None
    path: Path
    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    classifiers: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] | None = None
    attempt: int | None = None

    @property
    def name(self) -> str:
        """The directory name WA3 derives from the state: ``id-label-iteration``."""
        return job_directory_name(self.id, self.label, self.iteration)

    def __repr__(self) -> str:
        attempt = f" attempt={self.attempt}" if self.attempt is not None else ""
        return (f"<JobOutput {self.name} status={self.status.name} retries={self.retries}"
                f"{attempt} metrics={len(self.metrics)}>")


@dataclass
class RunInfo:
    """``__meta/run_info.json``: times are aware UTC, ``duration`` in seconds."""

    uuid: str | None = None
    run_name: str | None = None
    project: str | None = None
    project_stage: Any = None
    start_time: datetime.datetime | None = None
    end_time: datetime.datetime | None = None
    duration: float | None = None


def _run_info(path: Path) -> RunInfo:
    pod = _load_meta(path)
    try:
        if not isinstance(pod, dict):
            raise ValueError(f"expected an object, not {type(pod).__name__}")
        duration = pod.get("duration")
        if duration is not None and (isinstance(duration, bool)
                                     or not isinstance(duration, (int, float))):
            raise ValueError(f"duration is not a number of seconds: {duration!r}")
        return RunInfo(uuid=pod.get("uuid"), run_name=pod.get("run_name"),
                       project=pod.get("project"), project_stage=pod.get("project_stage"),
                       start_time=decode_time(pod.get("start_time")),
                       end_time=decode_time(pod.get("end_time")),
                       duration=None if duration is None else float(duration))
    except ValueError as error:
        raise RunOutputError(f"{path}: {error}") from None


@dataclass
class _StateEntry:
    id: str
    label: str
    iteration: int
    status: JobStatus
    retries: int
    timestamp: datetime.datetime | None


def _state_entry(pod: Any, index: int) -> _StateEntry:
    where = f"jobs[{index}]"
    if not isinstance(pod, dict):
        raise ValueError(f"{where} is not an object")
    missing = [k for k in ("id", "label", "iteration", "status", "retries") if k not in pod]
    if missing:
        raise ValueError(f"{where} is missing {', '.join(repr(k) for k in missing)}")
    for key in ("iteration", "retries"):
        if isinstance(pod[key], bool) or not isinstance(pod[key], int):
            raise ValueError(f"{where}: {key} is not an integer: {pod[key]!r}")
    try:
        return _StateEntry(str(pod["id"]), str(pod["label"]), pod["iteration"],
                           decode_status(pod["status"]), pod["retries"],
                           decode_time(pod.get("timestamp")))
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def _run_state(path: Path) -> tuple[JobStatus, list[_StateEntry]]:
    """The run status and job entries; a duplicate (id, iteration) replaces the first, as WA3."""
    pod = _load_meta(path)
    try:
        if not isinstance(pod, dict) or "status" not in pod or "jobs" not in pod:
            raise ValueError("expected an object with 'status' and 'jobs'")
        if not isinstance(pod["jobs"], list):
            raise ValueError("'jobs' is not a list")
        status = decode_status(pod["status"])
        entries: dict[tuple[str, int], _StateEntry] = {}
        for index, job in enumerate(pod["jobs"]):
            entry = _state_entry(job, index)
            entries[(entry.id, entry.iteration)] = entry
    except ValueError as error:
        raise RunOutputError(f"{path}: {error}") from None
    return status, list(entries.values())


def _job_specs(path: Path) -> list[dict[str, Any]]:
    pod = _load_meta(path, required=False)
    if pod is None:
        return []
    if not isinstance(pod, dict) or not isinstance(pod.get("jobs"), list) or not all(
            isinstance(spec, dict) and "id" in spec for spec in pod["jobs"]):
        raise RunOutputError(f"{path}: expected {{\"jobs\": [...]}}, each job with an 'id'")
    return list(pod["jobs"])


def _optional_object(path: Path) -> dict[str, Any] | None:
    pod = _load_meta(path, required=False)
    if pod is not None and not isinstance(pod, dict):
        raise RunOutputError(f"{path}: expected an object, not {type(pod).__name__}")
    return pod


def _job_status(state: JobStatus, result: ResultData) -> JobStatus:
    """The state's status, unless result.json names a status WA3 lacks with the same number.

    The writer records NONCRITICAL as ``NONCRITICAL(7)`` so that WA3 reads OK;
    any tool that rewrote the state as ``OK(7)`` loses the name, result.json keeps it.
    """
    named = result.status
    if named.name not in _WA3_NAMES and wa3_value(named) == wa3_value(state):
        return named
    return state


def _job_output(path: Path, entry: _StateEntry, status: JobStatus, retries: int,
                result: ResultData, spec: dict[str, Any] | None,
                attempt: int | None = None) -> JobOutput:
    return JobOutput(id=entry.id, label=entry.label, iteration=entry.iteration,
                     status=status, retries=retries, timestamp=entry.timestamp, path=path,
                     metrics=result.metrics, artifacts=result.artifacts, events=result.events,
                     classifiers=result.classifiers, metadata=result.metadata, spec=spec,
                     attempt=attempt)


class RunOutput(_ResultView):
    """A run directory (written by pytest-wa or by WA3), loaded.

    ``status`` is the run's, from ``result.json`` (or ``.run_state.json`` while
    the run is going); ``metrics``, ``artifacts``, ``events``, ``classifiers`` and
    ``metadata`` are run-level; ``jobs`` are in ``.run_state.json`` order.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).absolute()
        if not self.path.is_dir():
            raise RunOutputError(f"{self.path}: no such directory")
        missing = [name for name in (STATE_FILE, f"{META_DIR}/run_info.json")
                   if not (self.path / name).is_file()]
        if missing:
            raise RunOutputError(
                f"{self.path}: not a run directory (no {' and no '.join(missing)})")
        self.run_info = _run_info(self.path / META_DIR / "run_info.json")
        state_status, entries = _run_state(self.path / STATE_FILE)
        self.config = _optional_object(self.path / META_DIR / "config.json")
        self.target_info = _optional_object(self.path / META_DIR / "target_info.json")
        self.job_specs = _job_specs(self.path / META_DIR / "jobs.json")

        result = _load_result(self.path / RESULT_FILE)
        self.status = self._run_status(result.status, state_status)
        self.metrics = result.metrics
        self.artifacts = result.artifacts
        self.events = result.events
        self.classifiers = result.classifiers
        self.metadata = result.metadata
        self.jobs = [self._load_job(entry) for entry in entries]

    @staticmethod
    def _run_status(result: JobStatus, state: JobStatus) -> JobStatus:
        """result.json's, unless UNKNOWN (unreadable) or NEW (WA3 mid-run) and the state later."""
        if result in (JobStatus.UNKNOWN, JobStatus.NEW) and state > result:
            return state
        return result

    def _spec(self, job_id: str) -> dict[str, Any] | None:
        return next((spec for spec in self.job_specs if spec.get("id") == job_id), None)

    def _load_job(self, entry: _StateEntry) -> JobOutput:
        path = self.path / job_directory_name(entry.id, entry.label, entry.iteration)
        # WA3 writes no directory for a job that never started (SKIPPED, failed
        # in initialize): not an error, just an empty result.
        result = _load_result(path / RESULT_FILE) if path.is_dir() else ResultData(entry.status)
        return _job_output(path, entry, _job_status(entry.status, result), entry.retries,
                           result, self._spec(entry.id))

    def job(self, job_id: str, iteration: int) -> JobOutput:
        """The job with that id and iteration; KeyError (listing the jobs) otherwise."""
        for job in self.jobs:
            if job.id == job_id and job.iteration == iteration:
                return job
        known = ", ".join(f"{j.id}#{j.iteration}" for j in self.jobs) or "none"
        raise KeyError(f"no job {job_id!r} iteration {iteration} in {self.path} (jobs: {known})")

    def failed_attempts(self, job: JobOutput) -> list[JobOutput]:
        """The earlier attempts of a retried job (``__failed/<name>-attemptNN``), oldest first.

        They have no state entry: each one's status is its own result.json's.
        """
        pattern = re.compile(re.escape(job.name) + r"-attempt(\d+)")
        found = []
        folder = self.path / FAILED_DIR
        for child in folder.iterdir() if folder.is_dir() else ():
            match = pattern.fullmatch(child.name)
            if match and child.is_dir():
                found.append((int(match.group(1)), child))
        entry = _StateEntry(job.id, job.label, job.iteration, JobStatus.UNKNOWN, 0, None)
        attempts = []
        for number, path in sorted(found):
            result = _load_result(path / RESULT_FILE)
            attempts.append(_job_output(path, entry, result.status, number - 1, result,
                                        job.spec, attempt=number))
        return attempts

    def __repr__(self) -> str:
        return f"<RunOutput {str(self.path)!r} status={self.status.name} jobs={len(self.jobs)}>"


def is_run_directory(path: Path) -> bool:
    """Whether ``path`` has the two files WA3 needs to open a run."""
    return (path / STATE_FILE).is_file() and (path / META_DIR / "run_info.json").is_file()


def discover(root: str | os.PathLike[str]) -> list[RunOutput]:
    """Every run at or below ``root``, sorted by path; runs are not searched inside."""
    top = Path(root)
    if not top.is_dir():
        raise RunOutputError(f"{top}: no such directory")
    found: list[Path] = []
    for folder, subdirs, _files in os.walk(top):
        here = Path(folder)
        if is_run_directory(here):
            found.append(here)
            subdirs[:] = []
        else:
            subdirs[:] = [name for name in subdirs if name != FAILED_DIR]
    return [RunOutput(path) for path in sorted(found)]
