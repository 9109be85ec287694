"""Results databases: every run of many sessions, devices and CI jobs in one place.

``open_store`` gives an SQLite file (a path, or ``sqlite:///path``) or a
PostgreSQL database (``postgresql://...``), both with WA3's PostgreSQL schema
(``schema``). They are written from run directories (``records``): live as a
run goes (``live``), or later (``transfer``: upload, list, export).
"""

from __future__ import annotations

import os
from pathlib import Path

from .base import Store, StoreError

POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def is_postgres(spec: str) -> bool:
    return spec.startswith(POSTGRES_PREFIXES) or "dbname=" in spec


def sqlite_path(spec: str, base: Path) -> Path:
    """The file an SQLite spec names: ~ and $VARS expanded, relative to ``base``."""
    text = spec.removeprefix("sqlite:///") if spec.startswith("sqlite:///") else spec
    path = Path(os.path.expandvars(os.path.expanduser(text)))
    return path if path.is_absolute() else base / path


def open_store(spec: str, base: Path | None = None) -> Store:
    """The database ``spec`` names, its schema created or checked; StoreError if unusable."""
    if is_postgres(spec):
        from .postgres import PostgresStore

        return PostgresStore(spec)
    from .sqlite import SqliteStore

    return SqliteStore(sqlite_path(spec, base or Path.cwd()))


def shown(spec: str) -> str:
    """How a database spec may appear in messages (a PostgreSQL password never does)."""
    if is_postgres(spec):
        from .postgres import shown as shown_url

        return shown_url(spec)
    return spec


__all__ = ["Store", "StoreError", "is_postgres", "open_store", "shown", "sqlite_path"]
