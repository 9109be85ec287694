"""How long does storing a run of 10,000 jobs take, in SQLite and in PostgreSQL?

Run from the repository root (PostgreSQL: Debian's, started here on a private
port, with fsync on as a real server has it; WA3: $WA3_PYTHON, a venv with
wlauto 3.3.1 and psycopg2)::

    python benchmarks/results_db.py                 # 10,000 jobs, 3 metrics each
    python benchmarks/results_db.py --jobs 2000 --no-wa3

A run directory of that many jobs is written first (pytest-wa's own writer,
the meta files of a real one-job run). Then, for each database:

- live: what ``--wa-db`` does during a run: the run's row, one transaction
  per job as it ends (from the job's records in memory), the run's end;
- upload: ``python -m pytest_wa db upload`` of the directory (reading every
  job's files included), into a database that already holds the run.

WA3 3.3.1's ``sqlite`` and ``postgres`` output processors are timed on the
same directory and the same server, driven as WA3 drives them (initialize,
export_job_output per job, export_run_output). WA3's postgres processor
re-uploads the run's rows at every job (its time grows with the square of the
jobs: 16 s for 500), so it is timed on the first ``--wa3-jobs`` jobs (1,000)
and compared a job. Targets (issue 15): 10,000 jobs in <= 5 s on SQLite,
<= 15 s on PostgreSQL. Exits 0 whether or not they are met.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from pytest_wa.model.results import Metric
from pytest_wa.model.status import JobStatus
from pytest_wa.output.reader import RunOutput
from pytest_wa.output.writer import RunWriter
from pytest_wa.store import open_store
from pytest_wa.store.records import run_record, stored_jobs
from pytest_wa.store.transfer import upload
from pytest_wa.testing.postgres import PostgresServer

TARGETS = {"sqlite": 5.0, "postgresql": 15.0}
ONE_JOB = "workloads:\n  - name: idle\n    params: {duration: 0}\n"


def make_run(where: Path, jobs: int, metrics: int) -> Path:
    """A run directory of ``jobs`` OK jobs (100 specs), meta files from a real run."""
    seed = where / "seed"
    seed.mkdir()
    (seed / "agenda.yaml").write_text(ONE_JOB)
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "agenda.yaml"], cwd=seed, check=True, capture_output=True)
    real = RunOutput(seed / "wa_output")
    directory = where / "big"
    writer = RunWriter(directory)
    specs = [{**(real.job_specs[0]), "id": f"wk{n}", "iterations": jobs // 100}
             for n in range(100)]
    rows = [(f"wk{n % 100}", "idle", n // 100 + 1) for n in range(jobs)]
    writer.start(run_name="benchmark", project=None, project_stage=None, jobs=rows,
                 specs=specs, config=real.config or {}, target_info=real.target_info or {},
                 raw_files=[], metadata={})
    for job_id, label, iteration in rows:
        writer.job_started(job_id, label, iteration)
        values = [Metric(f"metric{m}", iteration * (m + 1), "ms") for m in range(metrics)]
        writer.job_finished(job_id, label, iteration, JobStatus.OK, values, [], [],
                            {"board": "bench"}, {"workload": "idle"})
    writer.finish(run_name="benchmark", settle=lambda status: status)
    return directory


def live(spec: str, run: RunOutput) -> float:
    """Seconds to store the run as --wa-db does while it runs."""
    record, jobs = run_record(run), stored_jobs(run)
    started = time.perf_counter()
    with open_store(spec) as store:
        store.prefer_speed_to_server_durability()  # as the live writer does
        store.start_run(record)
        for job in jobs:
            store.write_jobs(record, [job])
        store.write_run(record, ())
    return time.perf_counter() - started


def uploaded(spec: str, directory: Path) -> float:
    started = time.perf_counter()
    with open_store(spec) as store:
        upload(store, RunOutput(directory))
    return time.perf_counter() - started


WA3_DRIVER = textwrap.dedent("""
    import sys, time, logging
    from wa.framework.output import RunOutput
    kind, path, target, limit = sys.argv[1:5]
    run = RunOutput(path)
    run.jobs = run.jobs[:int(limit)]
    class Context:
        run_output = run
        target_info = run.target_info
    if kind == "sqlite":
        from wa.output_processors.sqlite import SqliteResultProcessor as Processor
        processor = Processor(database=target)
    else:
        from urllib.parse import urlsplit
        from wa.output_processors.postgresql import PostgresqlResultProcessor as Processor
        url = urlsplit(target)
        processor = Processor(username=url.username, password=url.password,
                              dbname=url.path.lstrip("/"), host=url.hostname,
                              port=str(url.port))
    started = time.perf_counter()
    processor.initialize(Context)
    for job in run.jobs:
        processor.export_job_output(job, run.target_info, run)
    processor.export_run_output(run, run.target_info)
    print(time.perf_counter() - started, len(run.jobs))
""")


def wa3(kind: str, directory: Path, target: str, limit: int) -> tuple[float, int] | None:
    """WA3's seconds and the jobs it stored (at most ``limit``)."""
    python = os.environ.get("WA3_PYTHON")
    if not python:
        return None
    with tempfile.TemporaryDirectory() as user:
        done = subprocess.run([python, "-c", WA3_DRIVER, kind, str(directory), target,
                               str(limit)],
                              capture_output=True, text=True,
                              env={**os.environ, "WA_USER_DIRECTORY": user})
    if done.returncode:
        print(f"  WA3 {kind} failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    seconds, jobs = done.stdout.strip().splitlines()[-1].split()
    return float(seconds), int(jobs)


def report(label: str, seconds: float, target: float, jobs: int,
           wa3_found: tuple[float, int] | None) -> None:
    scaled = target * jobs / 10_000
    verdict = "PASS" if seconds <= scaled else "FAIL"
    versus = ""
    if wa3_found:
        wa3_seconds, wa3_jobs = wa3_found
        ratio = (seconds / jobs) / (wa3_seconds / wa3_jobs)
        versus = (f"; WA3 {wa3_seconds:.2f} s for {wa3_jobs} jobs "
                  f"({1000 * wa3_seconds / wa3_jobs:.3f} ms a job), ratio a job {ratio:.2f}")
    print(f"  {label:8} {seconds:6.2f} s ({1000 * seconds / jobs:.3f} ms a job), target "
          f"{scaled:.1f} s, ratio {seconds / scaled:.2f} {verdict}{versus}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=3, help="metrics per job")
    parser.add_argument("--no-wa3", action="store_true", help="skip WA3's processors")
    parser.add_argument("--wa3-jobs", type=int, default=1000,
                        help="jobs WA3's postgres processor stores (it is quadratic)")
    args = parser.parse_args()
    if args.no_wa3:
        os.environ.pop("WA3_PYTHON", None)
    where = Path(tempfile.mkdtemp(prefix="results-db-bench-"))
    server = PostgresServer(durable=True).start()
    try:
        directory = make_run(where, args.jobs, args.metrics)
        run = RunOutput(directory)
        print(f"{args.jobs} jobs x {args.metrics} metrics (+1 classifier each)")
        databases = {"sqlite": (str(where / "results.sqlite"), str(where / "wa3.sqlite")),
                     "postgresql": (server.create_database("ours"),
                                    server.create_database("wa3"))}
        for kind, (ours, theirs) in databases.items():
            print(f"{kind}:")
            if kind == "postgresql":
                open_store(theirs).close()  # WA3 needs its schema made beforehand
            limit = args.jobs if kind == "sqlite" else min(args.jobs, args.wa3_jobs)
            wa3_seconds = wa3(kind, directory, theirs, limit)
            report("live", live(ours, run), TARGETS[kind], args.jobs, wa3_seconds)
            report("upload", uploaded(ours, directory), TARGETS[kind], args.jobs, None)
    finally:
        server.remove()
        shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
