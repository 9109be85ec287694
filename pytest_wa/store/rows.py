"""Rows of WA3's results tables, built from run and job records, for either database.

Values are plain Python (strings for uuids, times and JSON) so that both
databases take them; the two ways they differ (arrays, and where an
artifact's bytes go) are the ``Dialect``'s. The oids of runs, jobs and
augmentations are derived from the run's uuid, so writing the same run or job
again (a resumed run, an upload of a run already stored, two writers at once)
finds the same rows instead of adding new ones.
"""

from __future__ import annotations

import datetime
import io
import json
import tarfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.results import Artifact, Event, Metric
from ..output.statistics import COLUMNS as STATISTICS_FILE_COLUMNS
from .records import JobRecord, RunRecord, database_status

#: statistics.csv's columns, its ``id`` named as the Jobs table names it.
STATISTICS_COLUMNS = ("job_id", *STATISTICS_FILE_COLUMNS[1:])

#: The namespace of pytest-wa's derived oids (a fixed, arbitrary uuid).
NAMESPACE = uuid.UUID("6f1d2c3e-5b7a-4c1e-9a2d-7e0f3b8c4d51")

Row = tuple[Any, ...]


def derived(*parts: object) -> str:
    """A stable oid for what ``parts`` name (e.g. a run's uuid, a job id and iteration)."""
    return str(uuid.uuid5(NAMESPACE, "/".join(str(part) for part in parts)))


def run_oid(run_uuid: str) -> str:
    return derived("run", run_uuid)


def job_oid(run: str, job_id: str, iteration: int) -> str:
    return derived(run, "job", job_id, iteration)


def augmentation_oid(run: str, name: str) -> str:
    return derived(run, "augmentation", name)


def new_oid() -> str:
    return str(uuid.uuid4())


def naive_utc(moment: datetime.datetime | None) -> str | None:
    """An aware time as the naive UTC ISO text WA3's ``timestamp`` columns hold."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.isoformat()


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)


@dataclass
class Rows:
    """Rows per table, in the order they must be inserted (parents first)."""

    tables: dict[str, list[Row]] = field(default_factory=dict)
    #: LargeObjects rows: (oid, bytes) — the dialect turns bytes into its large object.
    blobs: list[tuple[str, bytes]] = field(default_factory=list)

    def add(self, table: str, row: Row) -> None:
        self.tables.setdefault(table, []).append(row)


@dataclass(frozen=True)
class Dialect:
    """How one database takes what WA3's PostgreSQL schema keeps as arrays."""

    array: Callable[[list[Any]], Any]


def _classifiers(rows: Rows, owner: str, oid: str, classifiers: dict[str, Any]) -> None:
    columns = {"artifact": 1, "metric": 2, "job": 3, "run": 4}
    for key, value in classifiers.items():
        row: list[Any] = [new_oid(), None, None, None, None, key, str(value)]
        row[columns[owner]] = oid
        rows.add("Classifiers", tuple(row))


def _events(rows: Rows, run: str, job: str | None, events: list[Event]) -> None:
    for event in events:
        rows.add("Events", (new_oid(), run, job, naive_utc(event.timestamp), event.message,
                            1, 1))


def _metrics(rows: Rows, run: str, job: str | None, metrics: list[Metric]) -> None:
    for metric in metrics:
        oid = new_oid()
        rows.add("Metrics", (oid, run, job, metric.name, float(metric.value), metric.units,
                             bool(metric.lower_is_better), 1, 1))
        _classifiers(rows, "metric", oid, metric.classifiers)


def artifact_bytes(directory: Path, artifact: Artifact) -> bytes:
    """A file's bytes, or a directory as a gzipped tar of its contents (as WA3 stores
    them); an artifact missing from the run directory is stored empty."""
    path = directory / artifact.path
    if artifact.is_dir and path.is_dir():
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            archive.add(path, arcname=".")
        return buffer.getvalue()
    return path.read_bytes() if path.is_file() else b""


def artifact_oid(owner: str, name: str) -> str:
    """Stable, so that writing a job again updates its artifacts in place: WA3's rule
    that deletes an artifact's large object makes deleting artifacts fail."""
    return derived(owner, "artifact", name)


def _artifacts(rows: Rows, run: str, job: str | None, directory: Path,
               artifacts: list[Artifact]) -> None:
    for artifact in artifacts:
        oid = artifact_oid(job or run, artifact.name)
        large_object = derived(oid, "content")
        rows.blobs.append((large_object, artifact_bytes(directory, artifact)))
        rows.add("Artifacts", (oid, run, job, artifact.name, large_object,
                               artifact.description, artifact.kind, 2, 2, artifact.is_dir))
        _classifiers(rows, "artifact", oid, artifact.classifiers)


def _parameters(rows: Rows, run: str, job: str | None, kind: str, values: dict[str, Any],
                augmentation: str | None = None) -> None:
    for name, value in values.items():
        rows.add("Parameters", (new_oid(), run, job, augmentation, None, name, dumps(value),
                                str(type(value)), kind))


def job_rows(record: JobRecord, run: str) -> Rows:
    """Everything stored for one job: its row, classifiers, events, metrics,
    artifacts, parameters and its links to the run's augmentations."""
    rows = Rows()
    oid = job_oid(run, record.id, record.iteration)
    rows.add("Jobs", (oid, run, database_status(record.status), record.retries, record.label,
                      record.id, record.iteration, record.workload_name,
                      dumps(with_paths(record.metadata, record.artifacts)), 1, 1))
    _classifiers(rows, "job", oid, record.classifiers)
    _events(rows, run, oid, record.events)
    _metrics(rows, run, oid, record.metrics)
    _artifacts(rows, run, oid, record.directory, record.artifacts)
    _parameters(rows, run, oid, "workload", record.workload_parameters)
    _parameters(rows, run, oid, "runtime", record.runtime_parameters)
    for name in record.augmentations:
        rows.add("Augmentations", (augmentation_oid(run, name), run, name))
        rows.add("Jobs_Augs", (new_oid(), oid, augmentation_oid(run, name)))
    return rows


#: Where each artifact was in the run directory (WA3's tables keep only its name).
ARTIFACT_PATHS_KEY = "pytest_wa_artifact_paths"


def with_paths(metadata: dict[str, Any], artifacts: list[Artifact]) -> dict[str, Any]:
    if not artifacts:
        return metadata
    return {**metadata, ARTIFACT_PATHS_KEY: {a.name: a.path for a in artifacts}}


def run_row(record: RunRecord, dialect: Dialect) -> Row:
    """The ``Runs`` row (its oid derived from the run's uuid)."""
    config = record.run_config
    retry_on = [database_status_name(name) for name in config.get("retry_on_status") or ()]
    stage = record.project_stage
    return (run_oid(record.uuid), record.event_summary, str(record.directory),
            database_status(record.status), naive_utc(datetime.datetime.now(datetime.timezone.utc)),
            record.run_name, record.project,
            dumps(stage) if isinstance(stage, dict) else stage, dialect.array(retry_on),
            config.get("max_retries"), config.get("bail_on_init_failure"),
            config.get("allow_phone_home"), record.uuid, naive_utc(record.start_time),
            naive_utc(record.end_time), record.duration,
            dumps(with_paths(record.metadata, record.artifacts)),
            dumps(record.state), 1, 1)


def database_status_name(encoded: str) -> str:
    """``LEVEL:FAILED:9`` (config.json) or ``FAILED`` as the enum's ``FAILED(9)``."""
    from ..model.status import JobStatus

    name = str(encoded).split(":")[-2] if ":" in str(encoded) else str(encoded)
    return database_status(JobStatus[name.upper()])


def run_level_rows(record: RunRecord, dialect: Dialect) -> Rows:
    """The run's target, augmentations (with their parameters), its own
    classifiers, events, metrics and artifacts (those of no job), and the
    statistics of every job's metrics."""
    rows = Rows()
    run = run_oid(record.uuid)
    if record.target_info:
        rows.add("Targets", target_row(record.target_info, run, dialect))
    for name, values in (record.run_config.get("augmentations") or {}).items():
        rows.add("Augmentations", (augmentation_oid(run, name), run, name))
        _parameters(rows, run, None, "augmentation", values or {},
                    augmentation=augmentation_oid(run, name))
    _classifiers(rows, "run", run, record.classifiers)
    _events(rows, run, None, record.events)
    _metrics(rows, run, None, record.metrics)
    _artifacts(rows, run, None, record.directory, record.artifacts)
    for statistics in record.statistics:
        rows.add("Statistics", (new_oid(), run, *(
            statistics.get(column) for column in ("id", *STATISTICS_FILE_COLUMNS[1:]))))
    return rows


def target_row(pod: dict[str, Any], run: str, dialect: Dialect) -> Row:
    """``Targets``: WA3 keeps each cpu as JSON text and the kernel config as a
    two-row array (names, values)."""
    config = pod.get("kernel_config") or {}
    kernel_config = [list(config), [str(v) for v in config.values()]] if config else []
    return (derived(run, "target"), run, pod.get("target"),
            dialect.array(list(pod.get("modules") or [])),
            dialect.array([dumps(cpu) for cpu in pod.get("cpus") or []]), pod.get("os"),
            dumps(pod.get("os_version") or {}), pod.get("hostid"), pod.get("hostname"),
            pod.get("abi"), pod.get("is_rooted"), pod.get("kernel_version"),
            pod.get("kernel_release"), pod.get("kernel_sha1"), dialect.array(kernel_config),
            dialect.array(list(pod.get("sched_features") or [])), pod.get("page_size_kb"),
            dialect.array(list(pod.get("screen_resolution") or [])),
            dumps(pod.get("prop")) if pod.get("prop") is not None else None,
            pod.get("android_id"), pod.get("_pod_version"),
            pod.get("_pod_serialization_version"), pod.get("system_id"))


COLUMNS: dict[str, str] = {
    "Runs": ("oid, event_summary, basepath, status, timestamp, run_name, project, "
             "project_stage, retry_on_status, max_retries, bail_on_init_failure, "
             "allow_phone_home, run_uuid, start_time, end_time, duration, metadata, state, "
             "_pod_version, _pod_serialization_version"),
    "Targets": ("oid, run_oid, target, modules, cpus, os, os_version, hostid, hostname, abi, "
                "is_rooted, kernel_version, kernel_release, kernel_sha1, kernel_config, "
                "sched_features, page_size_kb, screen_resolution, prop, android_id, "
                "_pod_version, _pod_serialization_version, system_id"),
    "Jobs": ("oid, run_oid, status, retry, label, job_id, iterations, workload_name, "
             "metadata, _pod_version, _pod_serialization_version"),
    "Augmentations": "oid, run_oid, name",
    "Classifiers": "oid, artifact_oid, metric_oid, job_oid, run_oid, key, value",
    "Events": ("oid, run_oid, job_oid, timestamp, message, _pod_version, "
               "_pod_serialization_version"),
    "Metrics": ("oid, run_oid, job_oid, name, value, units, lower_is_better, _pod_version, "
                "_pod_serialization_version"),
    "Artifacts": ("oid, run_oid, job_oid, name, large_object_uuid, description, kind, "
                  "_pod_version, _pod_serialization_version, is_dir"),
    "Parameters": ("oid, run_oid, job_oid, augmentation_oid, resource_getter_oid, name, "
                   "value, value_type, type"),
    "Jobs_Augs": "oid, job_oid, augmentation_oid",
    "Statistics": ("oid, run_oid, " + ", ".join(STATISTICS_COLUMNS)),
}
#: Parents before children: the order rows are inserted in.
INSERT_ORDER = ("Targets", "Jobs", "Augmentations", "Events", "Metrics", "Artifacts",
                "Classifiers", "Parameters", "Jobs_Augs", "Statistics")
