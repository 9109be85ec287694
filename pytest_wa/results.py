"""Stored results from Python: runs, jobs and metrics as plain rows, or a DataFrame.

    from pytest_wa import results

    with results.connect("results.sqlite") as db:      # or "postgresql://..."
        rows = db.metrics(workload="dhrystone", device="pixel", since="2026-12-01")
        frame = db.dataframe(metric="time")           # needs pandas

Rows are dicts with plain values (times as aware UTC datetimes), the same
from SQLite and PostgreSQL. Filters: ``workload`` (name or label), ``device``
(the pytest-wa device the job ran on, or the target's hostname), ``run``
(uuid), ``since``/``until`` (the run's start, a datetime or ISO text),
``classifiers`` (every key must match, job's or metric's), and ``metric``.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .store import Store, open_store
from .store.rows import STATISTICS_COLUMNS

_JOB_COLUMNS = ("r.run_uuid, r.run_name, r.project, r.start_time, j.oid, j.job_id, j.label, "
                "j.workload_name, j.iterations, j.status, j.metadata, "
                "(SELECT t.hostname FROM Targets t WHERE t.run_oid = r.oid LIMIT 1)")


def _time(value: Any) -> datetime.datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime.datetime) else \
        datetime.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _naive(value: datetime.datetime | str) -> str:
    moment = _time(value)
    assert moment is not None
    return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None).isoformat()


class Results:
    """A results database opened for reading (``connect``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Results:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    def runs(self, *, since: datetime.datetime | str | None = None,
             until: datetime.datetime | str | None = None) -> list[dict[str, Any]]:
        """Every run (oldest first): uuid, name, project, status, times, jobs."""
        from .store.transfer import list_runs

        low, high = _time(since), _time(until)
        found = []
        for run in list_runs(self.store):
            start = _time(run.start_time)
            if (low and (start is None or start < low)) or \
                    (high and (start is None or start > high)):
                continue
            found.append({"uuid": run.uuid, "run_name": run.run_name, "project": run.project,
                          "status": run.status.split("(")[0], "start_time": start,
                          "end_time": _time(run.end_time), "jobs": run.jobs})
        return found

    def _job_rows(self, workload: str | None, run: str | None, since: Any, until: Any
                  ) -> list[tuple[Any, ...]]:
        mark = self.store.mark
        conditions, parameters = ["j.run_oid = r.oid"], []
        if workload:
            conditions.append(f"(j.workload_name = {mark} OR j.label = {mark})")
            parameters += [workload, workload]
        if run:
            conditions.append(f"CAST(r.run_uuid AS TEXT) = {mark}")
            parameters.append(run)
        for value, operator in ((since, ">="), (until, "<=")):
            if value:
                conditions.append(f"r.start_time {operator} {mark}")
                parameters.append(_naive(value))
        return self.store.query(f"SELECT {_JOB_COLUMNS} FROM Runs r, Jobs j WHERE "
                                f"{' AND '.join(conditions)} ORDER BY r.start_time, "
                                f"j.iterations, j.job_id", parameters)

    def _classifiers(self, column: str, oids: Sequence[Any]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = defaultdict(dict)
        for start in range(0, len(oids), 400):
            chunk = [str(oid) for oid in oids[start:start + 400]]
            marks = ", ".join([self.store.mark] * len(chunk))
            for owner, key, value in self.store.query(
                    f"SELECT {column}, key, value FROM Classifiers WHERE {column} IN ({marks})",
                    chunk):
                found[str(owner)][key] = value
        return found

    def jobs(self, **filters: Any) -> list[dict[str, Any]]:
        """Job iterations: run, id, label, workload, iteration, status, device, classifiers
        (filters: workload, device, run, since, until, classifiers)."""
        return [{k: v for k, v in job.items() if k != "_oid"}
                for job in self._jobs(**filters)]

    def _jobs(self, *, workload: str | None = None, device: str | None = None,
             run: str | None = None, since: datetime.datetime | str | None = None,
             until: datetime.datetime | str | None = None,
             classifiers: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        rows = self._job_rows(workload, run, since, until)
        labels = self._classifiers("job_oid", [row[4] for row in rows])
        jobs = []
        for (uuid, name, project, start, oid, job_id, label, workload_name, iteration,
             status, metadata, hostname) in rows:
            meta = json.loads(metadata) if isinstance(metadata, str) else (metadata or {})
            job = {"run_uuid": str(uuid), "run_name": name, "project": project,
                   "start_time": _time(start), "job_id": job_id, "label": label,
                   "workload": workload_name, "iteration": iteration,
                   "status": str(status).split("(")[0],
                   "device": meta.get("device") or hostname,
                   "classifiers": labels.get(str(oid), {}), "_oid": str(oid)}
            if device and device not in (job["device"], hostname):
                continue
            if classifiers and not _matches(job["classifiers"], classifiers):
                continue
            jobs.append(job)
        return jobs

    def metrics(self, *, metric: str | None = None, classifiers: dict[str, Any] | None = None,
                **job_filters: Any) -> list[dict[str, Any]]:
        """One row per metric of each job matching the filters (see the module doc)."""
        jobs = {job["_oid"]: job for job in self._jobs(**job_filters)}
        order = {oid: index for index, oid in enumerate(jobs)}
        found: list[tuple[int, dict[str, Any]]] = []
        oids = list(jobs)
        for start in range(0, len(oids), 400):
            chunk = oids[start:start + 400]
            marks = ", ".join([self.store.mark] * len(chunk))
            rows = self.store.query(f"SELECT oid, job_oid, name, value, units, "
                                    f"lower_is_better FROM Metrics WHERE job_oid IN ({marks})"
                                    + (f" AND name = {self.store.mark}" if metric else ""),
                                    [*chunk, *([metric] if metric else [])])
            labels = self._classifiers("metric_oid", [row[0] for row in rows])
            for oid, job_oid, name, value, units, lower in rows:
                job = {k: v for k, v in jobs[str(job_oid)].items() if k != "_oid"}
                merged = {**job["classifiers"], **labels.get(str(oid), {})}
                if classifiers and not _matches(merged, classifiers):
                    continue
                found.append((order[str(job_oid)], {
                    **job, "classifiers": merged, "metric": name, "value": value,
                    "units": units, "lower_is_better": bool(lower)}))
        found.sort(key=lambda pair: pair[0])  # stable: a job's metrics in stored order
        return [row for _, row in found]

    def statistics(self, *, run: str | None = None, workload: str | None = None,
                   metric: str | None = None, since: datetime.datetime | str | None = None,
                   until: datetime.datetime | str | None = None) -> list[dict[str, Any]]:
        """Each metric's statistics over its job's OK iterations (the run's
        statistics.csv as rows; docs/statistics.md), oldest run first. ``workload``
        matches the job's label. Empty for runs in a database WA3 created."""
        if not self.store.has_statistics:
            return []
        mark = self.store.mark
        conditions, parameters = ["s.run_oid = r.oid"], []
        for value, condition in ((run, f"CAST(r.run_uuid AS TEXT) = {mark}"),
                                 (workload, f"s.label = {mark}"), (metric, f"s.metric = {mark}"),
                                 (since and _naive(since), f"r.start_time >= {mark}"),
                                 (until and _naive(until), f"r.start_time <= {mark}")):
            if value:
                conditions.append(condition)
                parameters.append(value)
        columns = STATISTICS_COLUMNS
        rows = self.store.query(
            f"SELECT r.run_uuid, r.run_name, r.start_time, "
            f"{', '.join('s.' + c for c in columns)} FROM Runs r, Statistics s WHERE "
            f"{' AND '.join(conditions)} ORDER BY r.start_time, s.job_id, s.metric",
            parameters)
        found = []
        for uuid, name, start, *values in rows:
            row = {"run_uuid": str(uuid), "run_name": name, "start_time": _time(start),
                   **dict(zip(columns, values, strict=True))}
            classifiers = row["classifiers"]
            row["classifiers"] = json.loads(classifiers) if isinstance(classifiers, str) \
                else dict(classifiers or {})
            row["lower_is_better"] = bool(row["lower_is_better"])
            found.append(row)
        return found

    def dataframe(self, **filters: Any) -> Any:
        """``metrics(**filters)`` as a pandas DataFrame, classifiers as columns."""
        try:
            import pandas
        except ImportError:
            raise ImportError("results.dataframe needs pandas (pip install pandas); "
                              "results.metrics gives the same rows as dicts") from None
        rows = [{**{k: v for k, v in row.items() if k != "classifiers"},
                 **row["classifiers"]} for row in self.metrics(**filters)]
        return pandas.DataFrame(rows)


def _matches(found: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(str(found.get(key)) == str(value) for key, value in wanted.items())


def connect(db: str) -> Results:
    """The results database ``db`` (an SQLite path or a ``postgresql://`` URL)."""
    return Results(open_store(db))
