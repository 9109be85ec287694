"""WA3's SQLite results database (schema 0.0.2): created, checked and written job by job.

WA3's ``sqlite`` processor keeps runs, workload specs and metrics in three
tables joined by SQLite's implicit rowid (``OID``), and a ``results`` view over
them; ``__meta`` holds the schema version. The same tables are written here so
queries written for WA3's files work on ours. Unlike WA3, every write is one
transaction that is idempotent: a job's rows are replaced whole (a retry or a
resumed run never duplicates them), a run is found by its uuid, and a
database of another schema version is refused, never altered.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: The version of WA3's schema written (WA3 3.3's ``SCHEMA_VERSION``).
SCHEMA_VERSION = "0.0.2"
#: WA3's statements, verbatim in meaning: the column names and types its users query.
SCHEMA = (
    """CREATE TABLE runs (
        uuid text,
        start_time datetime,
        end_time datetime,
        duration integer
    )""",
    """CREATE TABLE workload_specs (
        id text,
        run_oid text,
        number_of_iterations integer,
        label text,
        workload_name text,
        boot_parameters text,
        runtime_parameters text,
        workload_parameters text
    )""",
    """CREATE TABLE metrics (
        spec_oid int,
        iteration integer,
        metric text,
        value text,
        units text,
        lower_is_better integer
    )""",
    """CREATE VIEW results AS
       SELECT uuid AS run_uuid, spec_id, label AS workload, iteration, metric, value,
              units, lower_is_better
       FROM metrics AS m INNER JOIN (
            SELECT ws.OID AS spec_oid, ws.id AS spec_id, uuid, label
            FROM workload_specs AS ws INNER JOIN runs AS r ON ws.run_oid = r.OID
       ) AS wsr ON wsr.spec_oid = m.spec_oid""",
    "CREATE TABLE __meta (schema_version text)",
)
#: Indexes for the lookups made for each job (its run, its spec, its earlier rows),
#: which would otherwise scan whole tables: a run of N jobs would cost N squared.
#: Added to the files created here only; WA3's queries do not see them.
INDEXES = (
    "CREATE INDEX runs_uuid ON runs (uuid)",
    "CREATE INDEX workload_specs_run ON workload_specs (run_oid, id)",
    "CREATE INDEX metrics_job ON metrics (spec_oid, iteration)",
)
#: How long a writer waits for another one (sessions sharing the file) before failing.
BUSY_TIMEOUT = 60.0
#: One metric as stored: name, value, units, lower_is_better.
MetricRow = tuple[str, Any, "str | None", bool]


class SchemaError(ValueError):
    """The file is not a WA3 results database of the version written here."""


#: The open connection to each database written in this process. Kept open for the
#: session: closing the last connection checkpoints the WAL, a cost per job otherwise.
_connections: dict[Path, sqlite3.Connection] = {}


def connection(path: Path) -> sqlite3.Connection:
    """This process's connection to ``path``, opened on first use."""
    conn = _connections.get(path)
    if conn is None:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None,
                               check_same_thread=False)  # hooks may come from any thread
        # In WAL mode a commit is then written (a killed process loses nothing) but
        # not synced each time: a power cut may lose the last jobs, never half of one.
        conn.execute("PRAGMA synchronous=NORMAL")
        _connections[path] = conn
    return conn


def close(path: Path) -> None:
    """Close this process's connection to ``path`` (when the run's output is closed)."""
    conn = _connections.pop(path, None)
    if conn is not None:
        conn.close()


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (BEGIN IMMEDIATE) so that concurrent
    sessions queue on the busy timeout instead of failing mid-way; committed
    whole or not at all."""
    conn = connection(path)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection, path: Path) -> str | None:
    """The file's schema version, None for an empty file; SchemaError if it is
    something else (tables, but no ``__meta``)."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if not tables:
        return None
    if "__meta" not in tables:
        raise SchemaError(f"{path} does not appear to be a WA results database "
                          "(it has no __meta table); pytest-wa leaves it as it is")
    row = conn.execute("SELECT schema_version FROM __meta").fetchone()
    return None if row is None else str(row[0])


def check(path: Path) -> None:
    """Refuse a database of another schema version (read only: nothing is changed),
    or a path whose directory is missing (the file is created, not its directory)."""
    if not path.exists():
        if not path.parent.is_dir():
            raise ValueError(f"the directory of {path} does not exist")
        return
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True,
                           timeout=BUSY_TIMEOUT)
    try:
        _require_version(conn, path)
    finally:
        conn.close()


def _require_version(conn: sqlite3.Connection, path: Path) -> bool:
    """True if the schema must still be created (an empty file)."""
    found = schema_version(conn, path)
    if found is not None and found != SCHEMA_VERSION:
        raise SchemaError(f"schema version in {path} ({found}) does not match the version "
                          f"written by pytest-wa and WA3 3.3 ({SCHEMA_VERSION}); use another "
                          "file, or overwrite: true to replace it")
    return found is None


def open_database(path: Path, overwrite: bool) -> None:
    """Create the file and its schema, or check an existing one's version.

    WAL lets readers and several writers share the file; ``overwrite`` removes a
    file first, as WA3 does (the caller never asks for it when resuming)."""
    if overwrite:
        close(path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    connection(path).execute("PRAGMA journal_mode=WAL")
    with transaction(path) as conn:
        if _require_version(conn, path):
            for statement in (*SCHEMA, *INDEXES):
                conn.execute(statement)
            conn.execute("INSERT INTO __meta VALUES (?)", (SCHEMA_VERSION,))


def run_oid(conn: sqlite3.Connection, uuid: str) -> int:
    """The run's row, added the first time its uuid is seen (one row per run)."""
    row = conn.execute("SELECT OID FROM runs WHERE uuid=?", (uuid,)).fetchone()
    if row is not None:
        return int(row[0])
    return int(conn.execute("INSERT INTO runs (uuid) VALUES (?)", (uuid,)).lastrowid or 0)


def update_run(path: Path, uuid: str, start: str | None, end: str | None,
               duration: float | None) -> None:
    """The run's row, with its times (end and duration None while it runs)."""
    with transaction(path) as conn:
        oid = run_oid(conn, uuid)
        conn.execute("UPDATE runs SET start_time=?, end_time=?, duration=? WHERE OID=?",
                     (start, end, duration, oid))


def spec_oid(conn: sqlite3.Connection, run: int, spec: dict[str, Any]) -> int:
    """The spec's row in this run, added the first time one of its jobs is written."""
    row = conn.execute("SELECT OID FROM workload_specs WHERE run_oid=? AND id=?",
                       (run, spec["id"])).fetchone()
    if row is not None:
        return int(row[0])
    values = (spec["id"], run, spec.get("iterations"), spec.get("label"),
              spec.get("workload_name"),
              *(json.dumps(spec.get(name) or {}, sort_keys=True, default=str)
                for name in ("boot_parameters", "runtime_parameters",
                             "workload_parameters")))
    cursor = conn.execute("INSERT INTO workload_specs VALUES (?,?,?,?,?,?,?,?)", values)
    return int(cursor.lastrowid or 0)


def write_job(path: Path, uuid: str, spec: dict[str, Any], iteration: int,
              metrics: Iterable[MetricRow]) -> None:
    """One job's metrics in one transaction, replacing any rows it had (a retry,
    or a job a resumed run writes again): never half a job, never one twice."""
    with transaction(path) as conn:
        oid = spec_oid(conn, run_oid(conn, uuid), spec)
        conn.execute("DELETE FROM metrics WHERE spec_oid=? AND iteration=?", (oid, iteration))
        conn.executemany("INSERT INTO metrics VALUES (?,?,?,?,?,?)",
                         [(oid, iteration, name, str(value), units, int(bool(lower)))
                          for name, value, units, lower in metrics])


def write_run_metrics(path: Path, uuid: str, metrics: Iterable[MetricRow]) -> None:
    """The run's own metrics: ``spec_oid`` is the text ``run:<the run's OID>`` and
    the iteration NULL. WA3 files them under the last spec written, as if a job
    had measured them; here they stay the run's, and the ``results`` view (which
    joins specs) leaves them out. Replaced whole, as a job's are."""
    with transaction(path) as conn:
        oid = run_oid(conn, uuid)
        marker = f"run:{oid}"
        conn.execute("DELETE FROM metrics WHERE spec_oid=? AND iteration IS NULL", (marker,))
        conn.executemany("INSERT INTO metrics VALUES (?,?,?,?,?,?)",
                         [(marker, None, name, str(value), units, int(bool(lower)))
                          for name, value, units, lower in metrics])
