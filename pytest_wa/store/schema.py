"""WA3's PostgreSQL results schema (version 1.6), and the same tables for SQLite.

The tables, columns and types are those of WA3 3.3's ``postgres_schema.sql``,
so WA3's own database reader (``RunDatabaseOutput``) and dashboards written
for WA3's database work on runs stored by pytest-wa. SQLite gets the same
tables and columns with SQLite's types (uuids, JSON and arrays as text), so
one set of queries serves both. A database is created with this schema when
it has none; one that holds another version is refused, never altered.
"""

from __future__ import annotations

import re

#: WA3's schema version (``DatabaseMeta.schema_major``/``schema_minor``).
VERSION = (1, 6)

STATUSES = ("UNKNOWN(0)", "NEW(1)", "PENDING(2)", "STARTED(3)", "CONNECTED(4)",
            "INITIALIZED(5)", "RUNNING(6)", "OK(7)", "PARTIAL(8)", "FAILED(9)",
            "ABORTED(10)", "SKIPPED(11)")
PARAMETER_TYPES = ("workload", "resource_getter", "augmentation", "device", "runtime", "boot")

_POD = "_pod_version int, _pod_serialization_version int"

#: Table -> column definitions, in PostgreSQL's types; the order is the creation order.
TABLES: dict[str, str] = {
    "DatabaseMeta": "oid uuid NOT NULL PRIMARY KEY, schema_major int, schema_minor int",
    "Runs": (
        "oid uuid NOT NULL PRIMARY KEY, event_summary text, basepath text, "
        "status status_enum, timestamp timestamp, run_name text, project text, "
        "project_stage text, retry_on_status status_enum[], max_retries int, "
        "bail_on_init_failure boolean, allow_phone_home boolean, run_uuid uuid, "
        "start_time timestamp, end_time timestamp, duration float, metadata jsonb, "
        f"{_POD}, state jsonb"),
    "Jobs": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "run_oid uuid NOT NULL REFERENCES Runs(oid) ON DELETE CASCADE, "
        "status status_enum, retry int, label text, job_id text, iterations int, "
        f"workload_name text, metadata jsonb, {_POD}"),
    "Targets": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "run_oid uuid NOT NULL REFERENCES Runs(oid) ON DELETE CASCADE, "
        "target text, modules text[], cpus text[], os text, os_version jsonb, "
        "hostid bigint, hostname text, abi text, is_rooted boolean, kernel_version text, "
        "kernel_release text, kernel_sha1 text, kernel_config text[], "
        "sched_features text[], page_size_kb int, screen_resolution int[], prop json, "
        f"android_id text, {_POD}, system_id text"),
    "Events": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "run_oid uuid NOT NULL REFERENCES Runs(oid) ON DELETE CASCADE, "
        f"job_oid uuid REFERENCES Jobs(oid), timestamp timestamp, message text, {_POD}"),
    "Resource_Getters": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "run_oid uuid NOT NULL REFERENCES Runs(oid) ON DELETE CASCADE, name text"),
    "Augmentations": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "run_oid uuid NOT NULL REFERENCES Runs(oid) ON DELETE CASCADE, name text"),
    "Jobs_Augs": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "job_oid uuid NOT NULL REFERENCES Jobs(oid) ON DELETE CASCADE, "
        "augmentation_oid uuid NOT NULL REFERENCES Augmentations(oid) ON DELETE CASCADE"),
    "Metrics": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "run_oid uuid NOT NULL REFERENCES Runs(oid) ON DELETE CASCADE, "
        "job_oid uuid REFERENCES Jobs(oid), name text, value double precision, "
        f"units text, lower_is_better boolean, {_POD}"),
    "LargeObjects": "oid uuid NOT NULL PRIMARY KEY, lo_oid lo NOT NULL",
    "Artifacts": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "run_oid uuid NOT NULL REFERENCES Runs(oid) ON DELETE CASCADE, "
        "job_oid uuid REFERENCES Jobs(oid), name text, "
        "large_object_uuid uuid NOT NULL REFERENCES LargeObjects(oid), "
        f"description text, kind text, {_POD}, is_dir boolean"),
    "Classifiers": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "artifact_oid uuid REFERENCES Artifacts(oid) ON DELETE CASCADE, "
        "metric_oid uuid REFERENCES Metrics(oid) ON DELETE CASCADE, "
        "job_oid uuid REFERENCES Jobs(oid) ON DELETE CASCADE, "
        "run_oid uuid REFERENCES Runs(oid) ON DELETE CASCADE, key text, value text"),
    "Parameters": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "run_oid uuid NOT NULL REFERENCES Runs(oid) ON DELETE CASCADE, "
        "job_oid uuid REFERENCES Jobs(oid), "
        "augmentation_oid uuid REFERENCES Augmentations(oid), "
        "resource_getter_oid uuid REFERENCES Resource_Getters(oid), "
        "name text, value text, value_type text, type param_enum"),
    # pytest-wa's own, not WA3's (whose tools ignore it): each metric's statistics over
    # its job's OK iterations, the rows of the run's statistics.csv. Made with the
    # schema only: a database without it (WA3 made it) keeps statistics.csv alone
    "Statistics": (
        "oid uuid NOT NULL PRIMARY KEY, "
        "run_oid uuid NOT NULL REFERENCES Runs(oid) ON DELETE CASCADE, "
        "job_id text, label text, metric text, classifiers jsonb, units text, "
        "lower_is_better boolean, n int, failed int, mean double precision, "
        "median double precision, stdev double precision, cv double precision, "
        "ci_low double precision, ci_high double precision, min double precision, "
        "max double precision, outliers text, trend_p double precision, unstable text"),
}

#: The lookups every write and query makes (a job's rows, a run's jobs): without them
#: each job written would scan whole tables. Created with the schema, never added later.
INDEXES = (
    ("runs_run_uuid", "Runs", "run_uuid"),
    ("jobs_run_oid", "Jobs", "run_oid"),
    ("metrics_job_oid", "Metrics", "job_oid"),
    ("metrics_run_oid", "Metrics", "run_oid"),
    ("events_job_oid", "Events", "job_oid"),
    ("artifacts_job_oid", "Artifacts", "job_oid"),
    ("classifiers_metric_oid", "Classifiers", "metric_oid"),
    ("classifiers_job_oid", "Classifiers", "job_oid"),
    ("parameters_job_oid", "Parameters", "job_oid"),
    ("jobs_augs_job_oid", "Jobs_Augs", "job_oid"),
    ("statistics_run_oid", "Statistics", "run_oid"),
)


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def postgres_statements() -> list[str]:
    """The statements that create the schema in an empty PostgreSQL database.

    ``lo`` (large objects for artifacts) and ``uuid-ossp`` are contrib extensions,
    as in WA3; deleting an artifact row unlinks its large object.
    """
    statements = [
        'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"',
        'CREATE EXTENSION IF NOT EXISTS "lo"',
        f"CREATE TYPE status_enum AS ENUM ({_quoted(STATUSES)})",
        f"CREATE TYPE param_enum AS ENUM ({_quoted(PARAMETER_TYPES)})",
    ]
    statements += [f"CREATE TABLE {name} ({columns})" for name, columns in TABLES.items()]
    statements += [
        "CREATE TRIGGER t_raster BEFORE UPDATE OR DELETE ON LargeObjects "
        "FOR EACH ROW EXECUTE PROCEDURE lo_manage(lo_oid)",
        # WA3 deletes an artifact's large object with a rule, which runs before the
        # artifact's own deletion and so always fails (the artifact still refers to
        # it): a trigger after the deletion does what the rule meant
        "CREATE FUNCTION pytest_wa_delete_lo() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN DELETE FROM LargeObjects WHERE oid = old.large_object_uuid; RETURN old; "
        "END $$",
        "CREATE TRIGGER del_lo AFTER DELETE ON Artifacts FOR EACH ROW "
        "EXECUTE PROCEDURE pytest_wa_delete_lo()",
    ]
    statements += [f"CREATE INDEX {name} ON {table} ({column})"
                   for name, table, column in INDEXES]
    return statements


#: PostgreSQL type -> SQLite type, matched as whole words in column definitions.
_SQLITE_TYPES = (
    (r"\w+\[\]", "text"), (r"\b(status_enum|param_enum|uuid|jsonb|json|timestamp)\b", "text"),
    (r"\b(double precision|float)\b", "real"), (r"\b(boolean|bigint)\b", "integer"),
    (r"\blo\b", "blob"),
)


def _sqlite_columns(columns: str) -> str:
    """A column list in SQLite's types: the names before each type stay as they are."""
    typed = []
    for column in columns.split(", "):
        name, _, rest = column.partition(" ")
        for postgres, sqlite in _SQLITE_TYPES:
            rest = re.sub(postgres, sqlite, rest)
        typed.append(f"{name} {rest}")
    return ", ".join(typed)


def sqlite_statements() -> list[str]:
    """The same tables in SQLite: arrays and JSON as JSON text, times as ISO text,
    an artifact's content as a blob in ``LargeObjects.lo_oid``. Artifacts' large
    objects are deleted with them by a trigger, as WA3's rule does in PostgreSQL."""
    statements = [f"CREATE TABLE {name} ({_sqlite_columns(columns)})"
                  for name, columns in TABLES.items()]
    statements.append(
        "CREATE TRIGGER del_lo AFTER DELETE ON Artifacts BEGIN "
        "DELETE FROM LargeObjects WHERE oid = old.large_object_uuid; END")
    statements += [f"CREATE INDEX {name} ON {table} ({column})"
                   for name, table, column in INDEXES]
    return statements
