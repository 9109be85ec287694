"""The metrics of one run, gathered for comparison: from a run directory or a database.

A metric is keyed on (job id, metric name, classifiers): a job may report
several metrics of one name told apart by classifiers (one a core, say). The
classifiers are the job's merged with the metric's, as the results database
stores them, so a run directory and the same run in a database give the same
keys. Only OK and NONCRITICAL iterations count: a FAILED or PARTIAL
iteration's metrics may be half-measured, so they are left out and listed in
``RunMetrics.left_out`` for the report to say so.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..output.reader import RunOutput

COUNTED = frozenset({"OK", "NONCRITICAL"})

#: (job id, metric name, sorted (key, value) classifier pairs as text)
Key = tuple[str, str, tuple[tuple[str, str], ...]]


class CompareError(Exception):
    """A run cannot be loaded or compared; the message is one line for the user."""


@dataclass
class Series:
    """One metric's values over the counted iterations, in iteration order."""

    values: list[float] = field(default_factory=list)
    units: str | None = None
    lower_is_better: bool = False


@dataclass
class RunMetrics:
    """Every metric of a run's counted iterations, and what was left out."""

    name: str
    series: dict[Key, Series] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)  # "job a iteration 2 (FAILED)"
    jobs: set[str] = field(default_factory=set)
    #: The agenda's ``thresholds`` of each job (job id -> metric -> %), as its run kept
    #: them in the jobs' metadata: a comparison with this run as *this* run uses them.
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, job: str, name: str, classifiers: dict[str, Any], value: Any,
            units: str | None, lower_is_better: bool) -> None:
        """One metric of one counted iteration."""
        key = (job, name, tuple(sorted((str(k), str(v)) for k, v in classifiers.items())))
        series = self.series.setdefault(key, Series(units=units,
                                                    lower_is_better=lower_is_better))
        series.values.append(float(value))


def _status_name(status: Any) -> str:
    """A JobStatus or a database's status text (``OK`` or ``OK(7)``) as ``OK``."""
    return str(getattr(status, "name", status)).split("(")[0]


def from_directory(path: str | os.PathLike[str]) -> RunMetrics:
    """A run directory's job metrics (ours or WA3's); CompareError if it is no run."""
    from ..output.reader import RunOutput, RunOutputError

    if not Path(path).is_dir():
        raise CompareError(f"no run directory {os.fspath(path)!r}")
    try:
        run = RunOutput(path)
    except RunOutputError as error:
        raise CompareError(str(error)) from None
    return from_output(run, os.fspath(path))


def from_output(run: RunOutput, name: str) -> RunMetrics:
    """A loaded run directory's job metrics (the HTML report has it loaded already)."""
    found = RunMetrics(name)
    for job in sorted(run.jobs, key=lambda job: job.iteration):
        found.jobs.add(job.id)
        if job.metadata.get("thresholds"):
            found.thresholds[job.id] = dict(job.metadata["thresholds"])
        status = _status_name(job.status)
        if status not in COUNTED:
            found.left_out.append(f"job {job.id} iteration {job.iteration} ({status})")
            continue
        for metric in job.metrics:
            found.add(job.id, metric.name, {**job.classifiers, **metric.classifiers},
                      metric.value, metric.units, metric.lower_is_better)
    return found


def from_rows(name: str, rows: Iterable[dict[str, Any]]) -> RunMetrics:
    """``pytest_wa.results`` metric rows of one run (in iteration order)."""
    found = RunMetrics(name)
    seen: set[tuple[str, int]] = set()
    for row in sorted(rows, key=lambda row: row["iteration"]):
        job, iteration, status = str(row["job_id"]), row["iteration"], row["status"]
        found.jobs.add(job)
        if _status_name(status) not in COUNTED:
            if (job, iteration) not in seen:
                found.left_out.append(f"job {job} iteration {iteration} "
                                      f"({_status_name(status)})")
            seen.add((job, iteration))
            continue
        found.add(job, row["metric"], row["classifiers"], row["value"], row["units"],
                  bool(row["lower_is_better"]))
    return found


def from_database(db: str, uuid: str) -> RunMetrics:
    """Run ``uuid`` of results database ``db``; CompareError if it holds no such run.

    ``pytest_wa.results`` is imported here, not at the top: the database is
    optional, and the store it opens sits beside this package's layer.
    """
    from .. import results
    from ..store import StoreError, is_postgres, sqlite_path

    if not is_postgres(db) and not sqlite_path(db, Path.cwd()).is_file():
        raise CompareError(f"no results database {db} (looking up run {uuid})")
    try:
        with results.connect(db) as database:
            if not any(run["uuid"] == uuid for run in database.runs()):
                raise CompareError(f"no run {uuid} in {db}")
            rows = database.metrics(run=uuid)
            statuses = {(job["job_id"], job["iteration"]): job["status"]
                        for job in database.jobs(run=uuid)}
    except StoreError as error:
        raise CompareError(str(error).splitlines()[0]) from None
    found = from_rows(uuid, rows)
    _note_jobs_without_metrics(found, statuses)
    return found


def _note_jobs_without_metrics(found: RunMetrics,
                               statuses: dict[tuple[str, int], str]) -> None:
    """A failed iteration may have no metric row at all: still say it was left out."""
    for (job, iteration), status in sorted(statuses.items()):
        found.jobs.add(job)
        note = f"job {job} iteration {iteration} ({_status_name(status)})"
        if _status_name(status) not in COUNTED and note not in found.left_out:
            found.left_out.append(note)


def load(run: str, db: str | None = None) -> RunMetrics:
    """``run`` is a run directory, or a run uuid when ``db`` names a results database."""
    if db and not Path(run).is_dir():
        return from_database(db, run)
    return from_directory(run)
