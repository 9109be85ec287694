"""``sqlite``: WA3's SQLite results database, written job by job as the run goes.

Many runs (sessions, devices, CI jobs) can be kept in one file and queried
with SQL, using WA3's tables (``runs``, ``workload_specs``, ``metrics``, the
``results`` view). Each job is written in its own transaction when it ends,
so a crash leaves every finished job and never half of one; the run's row
gets its end time when the run's output is final. A resumed run
(``--wa-resume``) keeps its uuid and so its row, and its jobs replace their
own rows. The schema is checked when the agenda is loaded, before any job
runs: a file of another version is an error, and is never altered.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.parameters import Parameter, boolean, string
from ..model.runlog import RUN_LOGGER
from . import sqlitedb
from .base import OutputProcessor

if TYPE_CHECKING:
    from ..model.results import Metric
    from ..plugins.context import JobContext, RunView

FILE = "results.sqlite"


class Sqlite(OutputProcessor):
    name = "sqlite"
    description = """
    Stores results in an SQLite database, WA3's tables, job by job.

    Runs, workload specs and metrics go into WA3's tables (schema 0.0.2), so one
    file can gather many runs and WA3 users' queries work on it. Without
    ``database``, the file is results.sqlite in the run directory.
    """
    parameters = [
        Parameter("database", string, None, description=(
            "The database file; runs are added to it if it exists (its schema version "
            "must match). Relative paths are from the directory pytest was started in; "
            "~ and environment variables are expanded. Default: results.sqlite in the "
            "run directory.")),
        Parameter("overwrite", boolean, False, description=(
            "Delete the database file first, if it exists (never when a run is "
            "resumed: that would lose its earlier jobs).")),
    ]

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.path: Path | None = None
        self.uuid = ""

    def validate(self) -> None:
        """A database of another schema version fails the agenda, before any job."""
        database = self.values.get("database")
        if database and not self.values.get("overwrite"):
            sqlitedb.check(expand(database, Path.cwd()))

    def pytest_wa_run_start(self, run: RunView) -> None:
        """Open (or create) the database and add the run's row; a resumed run
        writes again the jobs its earlier sessions finished (idempotent: a job
        finished just before a crash may have missed the database)."""
        writer = run.output
        assert writer is not None
        database = self.values.get("database")
        self.path = (expand(database, run.config.invocation_params.dir) if database
                     else writer.directory / FILE)
        resumed = any(entry.status.is_final for entry in writer.order)
        sqlitedb.open_database(self.path, bool(self.values.get("overwrite")) and not resumed)
        self.uuid = str(writer.info["uuid"])
        sqlitedb.update_run(self.path, self.uuid, iso(writer.info.get("start_time")), None, None)
        if resumed:
            self._write_finished(writer.directory)
        self._add_artifact(run)

    def _add_artifact(self, run: RunView) -> None:
        """The file is the run's ``sqlitedb`` artifact when it is in the run directory
        (as in WA3), once, a resumed run's included."""
        writer = run.output
        assert writer is not None and self.path is not None
        if not writer.owns_run_files or not self.path.is_relative_to(writer.directory) \
                or any(a.name == "sqlitedb" for a in writer.result.artifacts):
            return
        run.add_artifact("sqlitedb", str(self.path.relative_to(writer.directory)), "export")

    def _write_finished(self, directory: Path) -> None:
        from ..output.reader import RunOutput
        from ..plugins.registry import identifier

        for job in RunOutput(directory).jobs:
            if job.status.is_final and job.spec is not None and any(
                    identifier(name) == self.name for name in job.spec.get("augmentations", ())):
                sqlitedb.write_job(self._database(), self.uuid, job.spec, job.iteration,
                                   rows(job.metrics))

    def pytest_wa_job_output(self, job: JobContext) -> None:
        spec = {**job.spec.to_pod(), "id": job.output_id}
        sqlitedb.write_job(self._database(), self.uuid, spec, job.iteration,
                           rows(job.metrics))

    def pytest_wa_run_output(self, run: RunView) -> None:
        writer = run.output
        assert writer is not None
        info = writer.info
        sqlitedb.write_run_metrics(self._database(), self.uuid, rows(writer.result.metrics))
        sqlitedb.update_run(self._database(), self.uuid, iso(info.get("start_time")),
                            iso(info.get("end_time")), info.get("duration"))
        # closed now, before ``targz`` archives the run directory: closing the last
        # connection moves the WAL into the file, so the file alone is the database
        sqlitedb.close(self._database())
        RUN_LOGGER.info("Results stored in %s", self.path)

    def finalize(self) -> None:
        """Close the connection if the run ended before its output (it stays open
        through the run: see ``sqlitedb``)."""
        if self.path is not None:
            sqlitedb.close(self.path)

    def _database(self) -> Path:
        if self.path is None:
            raise RuntimeError("the sqlite database was not opened at run start")
        return self.path


def rows(metrics: list[Metric]) -> list[sqlitedb.MetricRow]:
    """The stored fields of each metric (classifiers are not kept, as in WA3)."""
    return [(m.name, m.value, m.units, m.lower_is_better) for m in metrics]


def iso(encoded: str | None) -> str | None:
    """A time of run_info.json (``DATET:`` and UTC isoformat) as WA3's database has
    it: the isoformat alone."""
    return None if encoded is None else str(encoded).removeprefix("DATET:")


def expand(database: str, base: Path) -> Path:
    """``database`` with ~ and environment variables expanded, from ``base`` if relative."""
    import os

    path = Path(os.path.expandvars(os.path.expanduser(database)))
    return path if path.is_absolute() else base / path
