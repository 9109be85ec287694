"""What both results databases do alike: write a run and its jobs idempotently.

A job is written in one transaction that first removes whatever an earlier
write left of it (its rows are found by its derived oid), so a job is never
in a database twice nor half; writers of the same job (a pool worker and the
controller, two uploads at once) are serialised by the database's locks. The
run's row is created by whichever writer comes first and updated by the run's
end (or an upload), never duplicated.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .records import JobRecord, RunRecord
from .rows import (
    COLUMNS,
    INSERT_ORDER,
    Dialect,
    Row,
    Rows,
    dumps,
    job_oid,
    job_rows,
    run_level_rows,
    run_oid,
    run_row,
)

#: Tables whose rows keep their oid when written again (see rows.artifact_oid).
UPDATED_IN_PLACE = ("Jobs", "Artifacts")
#: How many jobs go into one statement's list of oids (SQLite's limit on parameters).
CHUNK = 400


class StoreError(Exception):
    """The database cannot be used (unreachable, of another schema, refused a write)."""


class Store:
    """A results database with WA3's schema. Subclasses connect and speak the dialect."""

    #: The placeholder of the database's driver.
    mark = "?"
    dialect: Dialect
    #: What the user named (a path, or a URL with its password hidden).
    where: str
    #: False in a database whose schema WA3 created (see _delete_stale_artifacts).
    artifacts_deletable = True
    #: False in a database without pytest-wa's Statistics table (WA3 created it).
    has_statistics = True
    #: Runs whose row this connection made or found (no need to check again).
    _runs_seen: set[str]

    def prefer_speed_to_server_durability(self) -> None:
        """Commits that return before the server flushes them to its disk (a live run:
        a server crash may lose its last moments, which the run directory still has)."""

    # --- what a dialect provides -------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def lock_run(self, cursor: Any, run: str) -> None:
        """Serialise writers of the same run until the transaction ends (one lock, not
        one a job: a run of 10,000 jobs would exhaust PostgreSQL's lock table)."""

    def insert_blobs(self, cursor: Any, blobs: list[tuple[str, bytes]]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # --- shared -------------------------------------------------------------

    def insert_sql(self, table: str, ignore_existing: bool = False) -> str:
        columns = COLUMNS[table]
        marks = ", ".join([self.mark] * len(columns.split(", ")))
        conflict = " ON CONFLICT (oid) DO NOTHING" if ignore_existing else ""
        return f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflict}"

    def insert_many_sql(self, table: str, count: int) -> str:
        """One INSERT of ``count`` rows, with the conflict handling of ``_insert_rows``."""
        columns = COLUMNS[table]
        row = "(" + ", ".join([self.mark] * len(columns.split(", "))) + ")"
        sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * count)}"
        if table in UPDATED_IN_PLACE:
            return sql + _update_on_conflict(table)
        return sql + (" ON CONFLICT (oid) DO NOTHING" if table == "Augmentations" else "")

    def upsert_sql(self, table: str) -> str:
        """INSERT that updates every column of the row already there (same oid)."""
        return self.insert_sql(table) + _update_on_conflict(table)

    def _insert_rows(self, cursor: Any, rows: Rows) -> None:
        self.insert_blobs(cursor, rows.blobs)
        for table in INSERT_ORDER:
            found = rows.tables.get(table)
            if not found:
                continue
            if table in UPDATED_IN_PLACE:
                sql = self.upsert_sql(table)
            else:
                sql = self.insert_sql(table, ignore_existing=table == "Augmentations")
            cursor.executemany(sql, found)

    def _in(self, oids: Sequence[str]) -> str:
        return "(" + ", ".join([self.mark] * len(oids)) + ")"

    def _clear_jobs(self, cursor: Any, oids: Sequence[str], kept: list[str]) -> None:
        """Every row hanging off these jobs, children first (no reliance on cascades);
        the jobs' own rows and the artifacts in ``kept`` are updated in place instead."""
        where = self._in(oids)
        for statement in (
            f"DELETE FROM Classifiers WHERE metric_oid IN "
            f"(SELECT oid FROM Metrics WHERE job_oid IN {where})",
            f"DELETE FROM Classifiers WHERE artifact_oid IN "
            f"(SELECT oid FROM Artifacts WHERE job_oid IN {where})",
            f"DELETE FROM Classifiers WHERE job_oid IN {where}",
            f"DELETE FROM Metrics WHERE job_oid IN {where}",
            f"DELETE FROM Events WHERE job_oid IN {where}",
            f"DELETE FROM Parameters WHERE job_oid IN {where}",
            f"DELETE FROM Jobs_Augs WHERE job_oid IN {where}",
        ):
            cursor.execute(statement, list(oids) * statement.count(where))
        self._delete_stale_artifacts(cursor, f"job_oid IN {where}", list(oids), kept)

    def _delete_stale_artifacts(self, cursor: Any, owned: str, parameters: list[Any],
                                kept: list[str]) -> None:
        """Artifacts a job (or run) no longer has; not in a database made by WA3,
        whose rule makes any deletion of an artifact fail."""
        if not self.artifacts_deletable:
            return
        cursor.execute(f"SELECT oid FROM Artifacts WHERE {owned}", parameters)
        stale = [row[0] for row in cursor.fetchall() if str(row[0]) not in set(kept)]
        for start in range(0, len(stale), CHUNK):
            chunk = stale[start:start + CHUNK]
            cursor.execute(f"DELETE FROM Artifacts WHERE oid IN {self._in(chunk)}", chunk)

    def _delete_run_level(self, cursor: Any, run: str, kept: list[str]) -> None:
        mark = self.mark
        for statement in (
            f"DELETE FROM Classifiers WHERE metric_oid IN "
            f"(SELECT oid FROM Metrics WHERE run_oid = {mark} AND job_oid IS NULL)",
            f"DELETE FROM Classifiers WHERE artifact_oid IN "
            f"(SELECT oid FROM Artifacts WHERE run_oid = {mark} AND job_oid IS NULL)",
            f"DELETE FROM Classifiers WHERE run_oid = {mark}",
            f"DELETE FROM Metrics WHERE run_oid = {mark} AND job_oid IS NULL",
            f"DELETE FROM Events WHERE run_oid = {mark} AND job_oid IS NULL",
            f"DELETE FROM Parameters WHERE run_oid = {mark} AND job_oid IS NULL",
            f"DELETE FROM Targets WHERE run_oid = {mark}",
            *([f"DELETE FROM Statistics WHERE run_oid = {mark}"] if self.has_statistics
              else []),
        ):
            cursor.execute(statement, (run,))
        self._delete_stale_artifacts(cursor, f"run_oid = {mark} AND job_oid IS NULL", [run],
                                     kept)

    def _existing(self, cursor: Any, oids: Sequence[str]) -> list[str]:
        cursor.execute(f"SELECT oid FROM Jobs WHERE oid IN {self._in(oids)}", list(oids))
        return [str(row[0]) for row in cursor.fetchall()]

    def _write_jobs(self, cursor: Any, run: str, jobs: Sequence[JobRecord]) -> None:
        self.lock_run(cursor, run)
        for start in range(0, len(jobs), CHUNK):
            chunk = jobs[start:start + CHUNK]
            oids = sorted({job_oid(run, job.id, job.iteration) for job in chunk})
            existing = self._existing(cursor, oids)  # a new job has nothing to clear
            merged = Rows()
            for job in chunk:
                rows = job_rows(job, run)
                merged.blobs += rows.blobs
                for table, found in rows.tables.items():
                    merged.tables.setdefault(table, []).extend(found)
            if existing:
                self._clear_jobs(cursor, existing, artifact_oids(merged))
            self._insert_rows(cursor, merged)

    def _run_row(self, record: RunRecord) -> Row:
        return run_row(record, self.dialect)

    def start_run(self, record: RunRecord) -> None:
        """The run's row and its run-level rows, replaced (a run starting or resumed)."""
        self.write_run(record, ())

    def write_jobs(self, record: RunRecord, jobs: Sequence[JobRecord]) -> None:
        """These jobs, in one transaction (the run's row is made if it is missing)."""
        with self.transaction() as cursor:
            if record.uuid not in self._runs_seen:
                cursor.execute(self.insert_sql("Runs", ignore_existing=True),
                               self._run_row(record))
            self._write_jobs(cursor, run_oid(record.uuid), jobs)
        self._runs_seen.add(record.uuid)

    def write_run(self, record: RunRecord, jobs: Sequence[JobRecord]) -> None:
        """The run's row and run-level rows replaced, and ``jobs``, in one transaction."""
        run = run_oid(record.uuid)
        with self.transaction() as cursor:
            cursor.execute(self.upsert_sql("Runs"), self._run_row(record))
            rows = run_level_rows(record, self.dialect)
            if not self.has_statistics:
                rows.tables.pop("Statistics", None)
            self._delete_run_level(cursor, run, artifact_oids(rows))
            self._insert_rows(cursor, rows)
            self._write_jobs(cursor, run, jobs)
        self._runs_seen.add(record.uuid)

    def update_state(self, run_uuid: str, state: dict[str, Any]) -> None:
        """The run's state (its jobs' statuses, which WA3's reader lists) while jobs go on."""
        with self.transaction() as cursor:
            cursor.execute(f"UPDATE Runs SET state = {self.mark} WHERE oid = {self.mark}",
                           (dumps(state), run_oid(run_uuid)))

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query (``?`` or ``%s`` placeholders as the driver wants)."""
        with self.transaction() as cursor:
            cursor.execute(sql, list(parameters))
            return list(cursor.fetchall())

    def read_blob(self, large_object: str) -> bytes:
        raise NotImplementedError

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _update_on_conflict(table: str) -> str:
    """The clause that makes an INSERT update every column of the row with its oid."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[table].split(", ")
                        if c != "oid")
    return f" ON CONFLICT (oid) DO UPDATE SET {updates}"


def artifact_oids(rows: Rows) -> list[str]:
    return [str(row[0]) for row in rows.tables.get("Artifacts", ())]
