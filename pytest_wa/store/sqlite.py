"""The embedded results database: one SQLite file gathering many runs.

WAL journaling lets readers query while a run writes; every write is an
``IMMEDIATE`` transaction, so writers (pool workers, sessions at once) take
turns instead of failing, waiting up to a minute for each other.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import schema
from .base import Store, StoreError
from .rows import Dialect, new_oid

BUSY_TIMEOUT_MS = 60_000


def _json_array(values: list[Any]) -> str:
    return json.dumps(values)


class SqliteStore(Store):
    mark = "?"
    dialect = Dialect(array=_json_array)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._runs_seen: set[str] = set()
        self.where = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000,
                                              isolation_level=None)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self._ensure_schema()
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot use the results database {path}: {error}") from None

    def _ensure_schema(self) -> None:
        """Create WA3's tables in a new file; refuse a file of another version."""
        with self.transaction() as cursor:
            found = cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                   "AND name = 'DatabaseMeta'").fetchone()
            if found is None:
                others = cursor.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if others:
                    raise StoreError(f"{self.path} is an SQLite file but not a results "
                                     "database (it has tables, and no DatabaseMeta)")
                for statement in schema.sqlite_statements():
                    cursor.execute(statement)
                cursor.execute("INSERT INTO DatabaseMeta VALUES (?, ?, ?)",
                               (new_oid(), *schema.VERSION))
        check_version(self.where, self.query(
            "SELECT schema_major, schema_minor FROM DatabaseMeta"))
        self.has_statistics = bool(self.query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Statistics'"))

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        cursor = self.connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            self.connection.rollback()
            raise
        else:
            self.connection.commit()
        finally:
            cursor.close()

    def insert_blobs(self, cursor: Any, blobs: list[tuple[str, bytes]]) -> None:
        if blobs:
            cursor.executemany("INSERT INTO LargeObjects (oid, lo_oid) VALUES (?, ?) "
                               "ON CONFLICT (oid) DO UPDATE SET lo_oid = excluded.lo_oid",
                               blobs)

    def read_blob(self, large_object: str) -> bytes:
        row = self.connection.execute("SELECT lo_oid FROM LargeObjects WHERE oid = ?",
                                      (large_object,)).fetchone()
        return bytes(row[0]) if row else b""

    def close(self) -> None:
        self.connection.close()


def check_version(where: str, found: list[tuple[Any, ...]]) -> None:
    """One DatabaseMeta row of WA3's version 1.6, or a StoreError saying what to do."""
    versions = {(int(major), int(minor)) for major, minor in found}
    if versions != {schema.VERSION}:
        have = ", ".join(f"{a}.{b}" for a, b in sorted(versions)) or "none"
        raise StoreError(
            f"{where} holds results schema version {have}; pytest-wa writes WA3's version "
            f"{schema.VERSION[0]}.{schema.VERSION[1]} and never changes a database's schema "
            "(update it with WA3's `wa create database -U`, or use another database)")
