"""The team's results database: PostgreSQL with WA3's schema, through psycopg 3.

Credentials come from the URL, or as libpq finds them: the PG* environment
variables, ``~/.pgpass`` and ``pg_service.conf``. The password is never
shown: ``where`` (used in every message) is the URL without it, and any
message from the server or driver has it masked. psycopg is an optional
extra (``pip install pytest-wa[postgres]``), imported only when a run or a
command uses a PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import schema
from .base import Store, StoreError
from .rows import INSERT_ORDER, Dialect, Rows, new_oid
from .sqlite import check_version

#: The advisory lock that serialises schema creation by writers starting at once.
SCHEMA_LOCK = 0x7761_3362


def _array_literal(values: list[Any]) -> str:
    """A PostgreSQL array literal (it casts to the column's array type, enums included)."""
    def element(value: Any) -> str:
        if isinstance(value, list):
            return _array_literal(value)
        text = str(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{text}"'
    return "{" + ",".join(element(value) for value in values) + "}"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError("a PostgreSQL results database needs psycopg 3: "
                         "pip install 'pytest-wa[postgres]'") from None
    return psycopg


def shown(url: str) -> str:
    """The URL or conninfo as it may be shown: everything but the password."""
    psycopg = _psycopg()
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "postgresql://(unreadable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


def _password(url: str) -> str | None:
    psycopg = _psycopg()
    try:
        return psycopg.conninfo.conninfo_to_dict(url).get("password")
    except psycopg.Error:
        return None


class PostgresStore(Store):
    mark = "%s"
    dialect = Dialect(array=_array_literal)

    def __init__(self, url: str) -> None:
        psycopg = _psycopg()
        self._runs_seen: set[str] = set()
        self.where = shown(url)
        self._secret = _password(url)
        try:
            self.connection = psycopg.connect(url, connect_timeout=10)
            self._ensure_schema()
        except psycopg.Error as error:
            raise StoreError(f"cannot use the results database {self.where}: "
                             f"{self.masked(error)}") from None

    def masked(self, error: BaseException) -> str:
        text = str(error).strip()
        return text.replace(self._secret, "***") if self._secret else text

    def _ensure_schema(self) -> None:
        """Create WA3's schema in an empty database (one writer at a time); a
        database with another version of it is refused, never altered."""
        with self.transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            cursor.execute("SELECT to_regclass('databasemeta') IS NOT NULL")
            if not cursor.fetchone()[0]:
                for statement in schema.postgres_statements():
                    cursor.execute(statement)
                cursor.execute("INSERT INTO DatabaseMeta VALUES (%s, %s, %s)",
                               (new_oid(), *schema.VERSION))
        check_version(self.where, self.query(
            "SELECT schema_major, schema_minor FROM DatabaseMeta"))
        self.artifacts_deletable = not self.query(
            "SELECT 1 FROM pg_rules WHERE rulename = 'del_lo'")
        self.has_statistics = bool(self.query("SELECT to_regclass('statistics')")[0][0])

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        psycopg = _psycopg()
        try:
            with self.connection.transaction(), self.connection.cursor() as cursor:
                yield cursor
        except psycopg.Error as error:
            raise StoreError(f"{self.where}: {self.masked(error)}") from None

    def prefer_speed_to_server_durability(self) -> None:
        self.connection.execute("SET synchronous_commit = off")
        self.connection.commit()

    def lock_run(self, cursor: Any, run: str) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (run,))

    def _insert_rows(self, cursor: Any, rows: Rows) -> None:
        """Every row in one statement (a data-modifying WITH per table): one round trip
        to the server instead of one per table. Foreign keys are checked at the
        statement's end, so the order of the parts does not matter."""
        parts, parameters = [], []
        if rows.blobs:
            values = ", ".join(["(%s, lo_from_bytea(0, %s))"] * len(rows.blobs))
            parts.append(f"INSERT INTO LargeObjects (oid, lo_oid) VALUES {values} "
                         "ON CONFLICT (oid) DO UPDATE SET lo_oid = excluded.lo_oid")
            parameters += [value for blob in rows.blobs for value in blob]
        for table in INSERT_ORDER:
            found = rows.tables.get(table)
            if found:
                parts.append(self.insert_many_sql(table, len(found)))
                parameters += [value for row in found for value in row]
        if not parts:
            return
        withs = ", ".join(f"part{n} AS ({sql})" for n, sql in enumerate(parts))
        cursor.execute(f"WITH {withs} SELECT 1", parameters)

    def insert_blobs(self, cursor: Any, blobs: list[tuple[str, bytes]]) -> None:
        if blobs:
            # a new large object each time; the one it replaces is unlinked by the
            # table's lo_manage trigger
            cursor.executemany("INSERT INTO LargeObjects (oid, lo_oid) "
                               "VALUES (%s, lo_from_bytea(0, %s)) ON CONFLICT (oid) "
                               "DO UPDATE SET lo_oid = excluded.lo_oid", blobs)

    def read_blob(self, large_object: str) -> bytes:
        found = self.query("SELECT lo_get(lo_oid) FROM LargeObjects WHERE oid = %s",
                           (large_object,))
        return bytes(found[0][0]) if found else b""

    def close(self) -> None:
        self.connection.close()
