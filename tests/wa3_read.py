"""Print, as JSON, what WA3's own reader (``wa.RunOutput``) sees in a run directory.

Run it with the python of a venv that has ``wlauto==3.3.1``:

    $WA3_PYTHON tests/wa3_read.py RUN_DIR
    $WA3_PYTHON tests/wa3_read.py postgresql://USER:PASSWORD@HOST:PORT/DBNAME RUN_UUID

(the second form reads a run out of a PostgreSQL database with WA3's
``RunDatabaseOutput``; it needs psycopg2 in that venv).

Used by test_wa3_compat.py (this file is not a test module). Statuses are
printed by NAME as WA3 sees them (it matches on the number: ``NONCRITICAL(7)``
reads as OK). ``warnings`` are those WA3 logged while loading (e.g. a job
without a spec); ``problems`` the ``result.json`` files WA3 could not parse,
which it swallows into an empty UNKNOWN result (the metrics silently vanish).
Exit status 1, with the JSON still printed, if the run cannot be loaded or
there is any warning or problem.
"""

import json
import logging
import os
import sys
import tempfile


def metric(m):
    return {"name": m.name, "value": m.value, "units": m.units,
            "lower_is_better": m.lower_is_better, "classifiers": dict(m.classifiers)}


def artifact(a):
    return {"name": a.name, "path": a.path, "kind": str(a.kind), "is_dir": a.is_dir,
            "description": a.description, "classifiers": dict(a.classifiers)}


def status_name(status):
    """A Status's name; WA3's database reader leaves a job's as the stored text, OK(7)."""
    return getattr(status, "name", None) or str(status).split("(")[0]


def results(output):
    return {"metrics": [metric(m) for m in output.metrics],
            "artifacts": [artifact(a) for a in output.artifacts],
            "events": [e.message for e in output.events]}


def load_from_database(url, run_uuid):
    from urllib.parse import urlsplit

    from wa.framework.output import RunDatabaseOutput

    parts = urlsplit(url)
    return RunDatabaseOutput(password=parts.password, dbname=parts.path.lstrip("/"),
                             host=parts.hostname, port=str(parts.port), user=parts.username,
                             run_uuid=run_uuid)


def load(path, problems, run_uuid=None):
    if path.startswith("postgresql://"):
        return load_from_database(path, run_uuid)
    from wa.framework.configuration.core import Status
    from wa.framework.output import Output, RunOutput

    original = Output.reload

    def reload(self):  # RunOutput and JobOutput both load their result.json here
        original(self)
        if self.result.status == Status.UNKNOWN:  # no writer writes it: it is the fallback
            problems.append(f"{self.resultfile}: WA3 could not read it: "
                            f"{[e.message for e in self.result.events]}")

    Output.reload = reload
    try:
        return RunOutput(path)
    finally:
        Output.reload = original


def main(path, run_uuid=None):
    problems, warnings = [], []

    class Collect(logging.Handler):
        def emit(self, record):
            warnings.append(f"{record.levelname}: {record.getMessage()}")

    logging.getLogger().addHandler(Collect(logging.WARNING))
    try:
        run = load(path, problems, run_uuid)
    except Exception as error:  # the run itself is unreadable
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        return 1
    jobs = [{"id": job.id, "label": job.label, "iteration": job.iteration,
             "status": status_name(job.status), "retries": job.retry, **results(job)}
            for job in run.jobs]
    print(json.dumps({"status": status_name(run.status), **results(run), "jobs": jobs,
                      "warnings": warnings, "problems": problems}, indent=2, default=str))
    return 1 if problems or warnings else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    # Importing wa creates a cache in WA's user directory (~/.workload_automation).
    with tempfile.TemporaryDirectory(prefix="wa3-user-") as user_directory:
        os.environ.setdefault("WA_USER_DIRECTORY", user_directory)
        sys.exit(main(*sys.argv[1:]))
