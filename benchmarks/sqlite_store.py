"""How long does the ``sqlite`` output processor take to store a run of 10,000 jobs?

Run from the repository root::

    python benchmarks/sqlite_store.py               # 10,000 jobs, 3 metrics each
    python benchmarks/sqlite_store.py --jobs 2000 --metrics 10

The processor's own storage calls are timed, as a run makes them: the run's row
at run start, one transaction per job when it ends (its spec row the first
time, its metrics), and the run's metrics and end time at the end; into a
fresh file and then into a file already holding one such run (as a shared
database of many runs is). pytest-wa's per-job framework cost is measured by
overhead.py and left out here: the question is what the database adds. Target
(issue 15): <= 5 s for 10,000 jobs. Exits 0 whether or not it is met.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from pytest_wa.processors import sqlitedb

TARGET = 5.0


def store_run(path: Path, jobs: int, metrics: int, specs: int) -> float:
    """Seconds to store one run of ``jobs`` jobs spread over ``specs`` specs."""
    run = str(uuid.uuid4())
    started = time.perf_counter()
    sqlitedb.open_database(path, overwrite=False)
    sqlitedb.update_run(path, run, "2026-01-01T00:00:00", None, None)
    for job in range(jobs):
        spec = {"id": f"wk{job % specs}", "iterations": jobs // specs, "label": "idle",
                "workload_name": "idle", "workload_parameters": {"duration": 0}}
        rows = [(f"metric{m}", job * m, "ms", False) for m in range(metrics)]
        sqlitedb.write_job(path, run, spec, job // specs + 1, rows)
    sqlitedb.write_run_metrics(path, run, [("total", jobs, "jobs", False)])
    sqlitedb.update_run(path, run, "2026-01-01T00:00:00", "2026-01-01T01:00:00", 3600.0)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=3, help="metrics per job")
    parser.add_argument("--specs", type=int, default=100, help="workload specs in the run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "results.sqlite"
        for label in ("fresh file", "second run in it"):
            seconds = store_run(path, args.jobs, args.metrics, args.specs)
            verdict = "PASS" if seconds <= TARGET * args.jobs / 10_000 else "FAIL"
            print(f"{label:18} {args.jobs} jobs x {args.metrics} metrics: {seconds:6.2f} s "
                  f"({1000 * seconds / args.jobs:.3f} ms a job; target {TARGET} s "
                  f"for 10,000) {verdict}")
        sqlitedb.close(path)


if __name__ == "__main__":
    main()
