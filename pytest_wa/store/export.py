"""A stored run written back out as a run directory (``python -m pytest_wa db export``).

The directory is WA3's format, as pytest-wa writes it: WA3, ``wa show``,
pytest-wa's reader and ``--wa-resume`` all open it. Each job comes from its
own row (WA3's reader matches jobs by id only, so iterations of one spec
read as the first); artifacts are written back from their stored bytes.
"""

from __future__ import annotations

import datetime
import io
import json
import tarfile
from pathlib import Path
from typing import Any

from ..model.results import Artifact, Event, Metric
from ..model.status import JobStatus
from ..output.atomic import write_json
from ..output.pods import (
    decode_status,
    encode_status,
    encode_time,
    job_directory_name,
    pod_header,
    result_pod,
)
from .base import Store, StoreError
from .records import STATUS_NAME_KEY
from .rows import ARTIFACT_PATHS_KEY


def _time(value: Any) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class Exporter:
    def __init__(self, store: Store, run_uuid: str, directory: Path) -> None:
        self.store = store
        self.directory = directory
        self.mark = store.mark
        found = store.query(f"SELECT oid, run_name, project, project_stage, status, "
                            f"start_time, end_time, duration, metadata FROM Runs "
                            f"WHERE run_uuid = {self.mark}", (run_uuid,))
        if not found:
            raise StoreError(f"no run {run_uuid} in {store.where}")
        self.uuid = run_uuid
        self.run = found[0]

    def _classifiers(self, column: str, oid: Any) -> dict[str, str]:
        rows = self.store.query(f"SELECT key, value FROM Classifiers WHERE {column} = "
                                f"{self.mark}", (str(oid),))
        return dict(rows)

    def _metrics(self, condition: str, oid: Any) -> list[Metric]:
        rows = self.store.query(f"SELECT oid, name, value, units, lower_is_better FROM "
                                f"Metrics WHERE {condition} ORDER BY ctid" if self._pg else
                                f"SELECT oid, name, value, units, lower_is_better FROM "
                                f"Metrics WHERE {condition} ORDER BY rowid", (str(oid),))
        return [Metric(name, value, units, bool(lower),
                       self._classifiers("metric_oid", metric)) for metric, name, value,
                units, lower in rows]

    @property
    def _pg(self) -> bool:
        return self.mark == "%s"

    def _artifacts(self, condition: str, oid: Any, where: Path,
                   paths: dict[str, str]) -> list[Artifact]:
        rows = self.store.query(f"SELECT oid, name, large_object_uuid, description, kind, "
                                f"is_dir FROM Artifacts WHERE {condition}", (str(oid),))
        artifacts = []
        for artifact, name, large_object, description, kind, is_dir in rows:
            content = self.store.read_blob(str(large_object))
            path = _write_artifact(where, paths.get(name) or name, content, bool(is_dir))
            artifacts.append(Artifact(name, path, kind or "data", description,
                                      self._classifiers("artifact_oid", artifact),
                                      bool(is_dir)))
        return artifacts

    def _events(self, condition: str, oid: Any) -> list[Event]:
        rows = self.store.query(f"SELECT message, timestamp FROM Events WHERE {condition} "
                                f"ORDER BY timestamp", (str(oid),))
        return [Event(message, _time(moment)) for message, moment in rows]

    def _jobs(self) -> list[dict[str, Any]]:
        run_oid = self.run[0]
        rows = self.store.query(f"SELECT oid, job_id, label, iterations, status, retry, "
                                f"workload_name, metadata FROM Jobs WHERE run_oid = "
                                f"{self.mark}", (str(run_oid),))
        jobs = []
        for oid, job_id, label, iteration, status, retry, workload, metadata in rows:
            metadata = _json(metadata) or {}
            named = metadata.pop(STATUS_NAME_KEY, None)
            jobs.append({"oid": oid, "id": job_id, "label": label, "iteration": iteration,
                         "status": JobStatus[named] if named else decode_status(str(status)),
                         "retries": retry or 0, "workload_name": workload,
                         "metadata": metadata})
        return sorted(jobs, key=lambda job: (job["iteration"], job["id"]))

    def _write_job(self, job: dict[str, Any]) -> None:
        where = self.directory / job_directory_name(job["id"], job["label"], job["iteration"])
        where.mkdir(parents=True, exist_ok=True)
        condition = f"job_oid = {self.mark}"
        pod = result_pod(job["status"], self._metrics(condition, job["oid"]),
                         self._artifacts(condition, job["oid"], where,
                                         job["metadata"].pop(ARTIFACT_PATHS_KEY, {})),
                         self._events(condition, job["oid"]),
                         self._classifiers("job_oid", job["oid"]), job["metadata"])
        write_json(where / "result.json", pod)

    def _specs(self, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        specs: dict[str, dict[str, Any]] = {}
        for job in jobs:
            if job["id"] in specs:
                specs[job["id"]]["iterations"] += 1
                continue
            parameters = self.store.query(
                f"SELECT name, value, type FROM Parameters WHERE job_oid = {self.mark}",
                (str(job["oid"]),))
            augmentations = self.store.query(
                f"SELECT a.name FROM Jobs_Augs j, Augmentations a WHERE j.job_oid = "
                f"{self.mark} AND j.augmentation_oid = a.oid", (str(job["oid"]),))
            specs[job["id"]] = {
                **pod_header(), "id": job["id"], "workload_name": job["workload_name"],
                "label": job["label"], "iterations": 1,
                "workload_parameters": {n: json.loads(v) for n, v, t in parameters
                                        if str(t) == "workload"},
                "runtime_parameters": {n: json.loads(v) for n, v, t in parameters
                                       if str(t) == "runtime"},
                "augmentations": [name for (name,) in augmentations],
                "classifiers": {}, "boot_parameters": {}}
        return list(specs.values())

    def write(self) -> Path:
        """Write the run directory; it must not exist yet (nothing is overwritten)."""
        self.directory.mkdir(parents=True, exist_ok=False)
        meta = self.directory / "__meta"
        meta.mkdir()
        oid, name, project, stage, status, start, end, duration, metadata = self.run
        metadata = _json(metadata) or {}
        paths = metadata.pop(ARTIFACT_PATHS_KEY, {})
        jobs = self._jobs()
        for job in jobs:
            self._write_job(job)
        write_json(meta / "jobs.json", {"jobs": self._specs(jobs)})
        write_json(meta / "run_info.json", {
            **pod_header(), "uuid": self.uuid, "start_time": encode_time(_time(start)),
            "end_time": encode_time(_time(end)), "duration": duration, "run_name": name,
            "project": project, "project_stage": _json(stage) if stage else None})
        write_json(self.directory / ".run_state.json", {
            **pod_header(), "status": str(status), "timestamp": encode_time(_time(end)),
            "jobs": [{**pod_header(), "id": j["id"], "label": j["label"],
                      "iteration": j["iteration"], "status": encode_status(j["status"]),
                      "retries": j["retries"], "timestamp": None} for j in jobs]})
        condition = f"run_oid = {self.mark} AND job_oid IS NULL"
        write_json(self.directory / "result.json", result_pod(
            decode_status(str(status)), self._metrics(condition, oid),
            self._artifacts(condition, oid, self.directory, paths),
            self._events(condition, oid), self._classifiers("run_oid", oid), metadata))
        return self.directory


def _write_artifact(where: Path, path: str, content: bytes, is_dir: bool) -> str:
    """The artifact's file (or directory, from its gzipped tar) at ``path`` under
    ``where`` (never outside it); the path."""
    target = (where / path).resolve()
    if not target.is_relative_to(where.resolve()):
        raise StoreError(f"artifact path {path!r} leads outside the run directory")
    if is_dir:
        target.mkdir(parents=True, exist_ok=True)
        if content:
            with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
                archive.extractall(target, filter="data")
        return path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return path


def export(store: Store, run_uuid: str, directory: Path) -> Path:
    """Write the stored run ``run_uuid`` as a run directory at ``directory`` (new)."""
    return Exporter(store, run_uuid, directory).write()
