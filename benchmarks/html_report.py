"""How long does the HTML report of a 10,000-job run take to build, and to open?

Run from the repository root (Debian's chromium for the load times)::

    python benchmarks/html_report.py               # 10,000 jobs, with a baseline too
    python benchmarks/html_report.py --jobs 2000 --keep

Two run directories of ``--jobs`` jobs each are written with pytest-wa's own
writer: 100 specs on a pool of 4 devices (start and end times, as a pool
leaves them), 13 metrics a job (two workload metrics, cpufreq residency of two
policies, energy and power, a thermal zone before/max/after: ~130,000
values), three artifacts a job, 1 % of the jobs FAILED. The second run is
about 3 % slower. Then:

- build: ``python -m pytest_wa report`` of the first run, and of the second
  with the first as its baseline (verdicts for every metric: scipy), wall time
  in this process (reading 10,000 result.json files included);
- size of each report;
- load: wall time of ``chromium --headless --dump-dom`` on it (start-up, parse,
  draw and dump), less the same on an empty page (Chromium's own start-up),
  and the page's own time to its last drawing (``data-rendered``).

Targets (issue 16: "stays usable for 10,000 jobs"): build <= 10 s (a user
waits for it at the end of a run; most of it is reading the 10,000 result.json
files), <= 15 s with a baseline (both runs are read, and scipy tests 1,300
metrics), file <= 20 MB (a CI artifact or an e-mail attachment), load <= 5 s
(opening it must not feel broken). Exits 0 whether or not they are met.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pytest_wa.model.results import Artifact, Event, Metric
from pytest_wa.model.status import JobStatus
from pytest_wa.output.pods import encode_time
from pytest_wa.output.writer import RunWriter
from pytest_wa.report.writer import write_report
from pytest_wa.testing.browser import find_chromium, open_page

TARGETS = {"build": 10.0, "build with a baseline": 15.0, "size": 20.0, "load": 5.0}
SPECS = 100
DEVICES = ("board1", "board2", "board3", "board4")
POLICIES = {"policy0": (576000, 1017600, 1804800), "policy4": (1056000, 1766400, 2419200)}
ARTIFACTS = [Artifact("output", "output.txt", "log"), Artifact("cpufreq", "cpufreq.csv"),
             Artifact("thermal", "thermal.csv")]


def job_metrics(rng: random.Random, spec: int, slower: float) -> list[Metric]:
    """One job's metrics: the kinds a real run with cpufreq, energy and thermal has."""
    seconds = (1.0 + spec / 50) * slower * rng.gauss(1, 0.02)
    found = [Metric("execution_time", seconds, "seconds", True),
             Metric("score", 1000 / seconds, "points", False)]
    for policy, frequencies in POLICIES.items():
        shares = [rng.uniform(1, 10) for _ in frequencies]
        for frequency, share in zip(frequencies, shares, strict=True):
            found.append(Metric(f"cpufreq_{policy}_{frequency}khz_residency",
                                round(100 * share / sum(shares), 2), "percent", False,
                                {"policy": policy, "frequency": frequency}))
    found += [Metric("sys_total_energy", 3.2 * seconds, "joules", True),
              Metric("sys_average_power", rng.gauss(3.2, 0.1), "watts", True)]
    for side, rise in (("before", 0.0), ("max", 6.0), ("after", 4.0)):
        found.append(Metric(f"cpu-thermal_temperature_{side}", 38 + rise + rng.random(),
                            "degrees", True, {"zone": "thermal_zone0", "type": "cpu-thermal"}))
    return found


class BatchWriter(RunWriter):
    """``.run_state.json`` written once, at the end: a real run rewrites it after every
    job (so that a kill loses nothing), which would make 10,000 jobs take minutes here."""

    batching = True

    def write_state(self) -> None:
        if not self.batching:
            super().write_state()


def make_run(directory: Path, jobs: int, slower: float, seed: int) -> Path:
    """A finished run of ``jobs`` jobs (SPECS specs, by iteration) on DEVICES."""
    rng = random.Random(seed)
    rows = [(f"wk{n % SPECS + 1}", "bench", n // SPECS + 1) for n in range(jobs)]
    writer = BatchWriter(directory)
    writer.start(run_name=directory.name, project=None, project_stage=None, jobs=rows,
                 specs=[{"id": f"wk{n + 1}", "label": "bench"} for n in range(SPECS)],
                 config={}, target_info={"os": "android", "hostname": "lab"},
                 raw_files=[], metadata={"command_line": ["benchmark"]})
    clocks = {device: datetime.now(timezone.utc) for device in DEVICES}
    for number, (job_id, label, iteration) in enumerate(rows):
        device = DEVICES[number % len(DEVICES)]
        start = clocks[device]
        end = clocks[device] = start + timedelta(seconds=rng.uniform(1.5, 2.5))
        failed = rng.random() < 0.01
        metadata = {"device": device, "start_time": encode_time(start),
                    "end_time": encode_time(end)}
        writer.job_started(job_id, label, iteration)
        writer.job_finished(job_id, label, iteration,
                            JobStatus.FAILED if failed else JobStatus.OK,
                            [] if failed else job_metrics(rng, number % SPECS, slower),
                            ARTIFACTS, [Event("workload failed: exit 3")] if failed else [],
                            {}, metadata)
    writer.batching = False
    writer.finish(run_name=directory.name, settle=lambda status: status)
    return directory


def show(label: str, value: float, unit: str, target: float) -> None:
    verdict = "PASS" if value <= target else "FAIL"
    print(f"  {label:34} {value:8.2f} {unit:3}  target {target:5.1f}  "
          f"ratio {value / target:.2f} {verdict}")


def measure(run: Path, report: Path, baseline: Path | None, empty: float | None) -> None:
    started = time.perf_counter()
    write_report(run, report, str(baseline) if baseline else None)
    kind = "build with a baseline" if baseline else "build"
    show(kind, time.perf_counter() - started, "s", TARGETS[kind])
    show("size", report.stat().st_size / 1e6, "MB", TARGETS["size"])
    if empty is None:
        print("  load: no chromium on PATH, not measured")
        return
    page = open_page(report)
    drawn = re.search(r'data-rendered="(\d+)"', page.dom)
    show("load (chromium, less its start-up)", page.seconds - empty, "s", TARGETS["load"])
    print(f"  the page's own time to its last drawing: "
          f"{int(drawn[1]) / 1000 if drawn else float('nan'):.2f} s; console messages: "
          f"{len(page.console)}{' ' + repr(page.console[:3]) if page.console else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the runs and reports")
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="html-report-bench-"))
    try:
        started = time.perf_counter()
        first = make_run(where / "first", args.jobs, 1.0, 1)
        second = make_run(where / "second", args.jobs, 1.03, 2)
        print(f"two runs of {args.jobs} jobs written in {time.perf_counter() - started:.1f} s")
        empty = None
        if find_chromium():
            (where / "empty.html").write_text("<!DOCTYPE html><title>empty</title>")
            empty = min(open_page(where / "empty.html").seconds for _ in range(3))
            print(f"chromium's start-up (an empty page): {empty:.2f} s")
        print("the first run's report:")
        measure(first, where / "first.html", None, empty)
        print("the second run's report, with the first as its baseline:")
        measure(second, where / "second.html", first, empty)
    finally:
        if args.keep:
            print(f"kept in {where}")
        else:
            shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
