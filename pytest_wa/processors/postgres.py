"""``postgres``: WA3's PostgreSQL output processor, by name and with its parameters.

A WA3 agenda that names ``postgres`` in ``augmentations`` stores its runs in
the PostgreSQL database its parameters name, through the same writer as
``--wa-db postgresql://...`` (pytest_wa/store/live.py): WA3's schema, each
job stored when it ends, the database opened (and its schema created or
checked) before the first job. The password is never written anywhere:
config.json shows it masked; libpq's PGPASSWORD and ~/.pgpass work too.
"""

from __future__ import annotations

from typing import Any

from ..model.parameters import Parameter, string
from .base import OutputProcessor


class Postgres(OutputProcessor):
    name = "postgres"
    description = """
    Stores results in a PostgreSQL database, WA3's schema, job by job.

    The database is created with WA3's schema (version 1.6) if it has none, and
    refused if it has another version. WA3's database reader loads the runs.
    """
    parameters = [
        Parameter("username", string, "postgres", description="The user to connect as."),
        Parameter("password", string, None, description=(
            "The user's password; without it, libpq's PGPASSWORD or ~/.pgpass. Never "
            "written to the run directory or logs.")),
        Parameter("dbname", string, "wa", description="The database (created beforehand)."),
        Parameter("host", string, "localhost", description="The server's host name."),
        Parameter("port", string, "5432", description="The server's port."),
    ]

    def conninfo(self) -> str:
        """libpq's key=value connection string for these parameters."""
        values = self.values
        parts: dict[str, Any] = {"host": values.get("host"), "port": values.get("port"),
                                 "dbname": values.get("dbname"),
                                 "user": values.get("username"),
                                 "password": values.get("password")}
        return " ".join(f"{key}={_quoted(str(value))}" for key, value in parts.items()
                        if value not in (None, ""))


def _quoted(value: str) -> str:
    """A conninfo value, quoted as libpq reads it."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
