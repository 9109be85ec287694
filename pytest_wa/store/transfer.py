"""Runs into and out of a results database: upload, list, export.

Uploading reads a run directory (pytest-wa's or WA3's) and stores it whole,
in one transaction: an upload killed half-way leaves the database as it was,
and uploading a run again replaces its rows (the run is found by its uuid),
so ``db upload`` is the way to catch up with runs whose live writing failed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..output.reader import RunOutput, discover
from .base import Store
from .records import run_record, stored_jobs


@dataclass(frozen=True)
class Uploaded:
    uuid: str
    path: Path
    jobs: int


def run_directories(paths: list[str | os.PathLike[str]]) -> Iterator[RunOutput]:
    """Each run directory at or below each path (a run inside a run is not searched)."""
    for path in paths:
        yield from discover(path)


def upload(store: Store, run: RunOutput) -> Uploaded:
    """Store ``run`` with every job that ended, replacing what the database had of it."""
    record = run_record(run)
    jobs = stored_jobs(run)
    store.write_run(record, jobs)
    return Uploaded(record.uuid, run.path, len(jobs))


@dataclass(frozen=True)
class StoredRun:
    uuid: str
    run_name: str | None
    project: str | None
    status: str
    start_time: str | None
    end_time: str | None
    jobs: int
    device: str | None


def list_runs(store: Store) -> list[StoredRun]:
    """Every run in the database, oldest first, with its number of jobs."""
    rows = store.query(
        "SELECT r.run_uuid, r.run_name, r.project, r.status, r.start_time, r.end_time, "
        "(SELECT count(*) FROM Jobs j WHERE j.run_oid = r.oid), "
        "(SELECT t.target FROM Targets t WHERE t.run_oid = r.oid LIMIT 1) "
        "FROM Runs r ORDER BY r.start_time, r.run_uuid")
    return [StoredRun(str(u), n, p, str(s), _text(st), _text(et), int(c), d)
            for u, n, p, s, st, et, c, d in rows]


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
