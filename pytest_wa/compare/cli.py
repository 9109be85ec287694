"""``python -m pytest_wa compare A B``: this run (B) against a baseline (A), with verdicts.

A and B are run directories, or run uuids when ``--db`` (or ``PYTEST_WA_DB``)
names a results database. Exit status: 0; 1 with ``--fail-on-regression``
when a metric regressed, so a CI job can gate on it; 2 for an error (no such
run, nothing in common, scipy missing), always one line on stderr and never a
traceback, because a script reads it.
"""

from __future__ import annotations

import argparse
import os
import sys

from .runs import CompareError, load
from .table import compare_runs, render
from .verdicts import DEFAULT_THRESHOLD, REGRESSED

INSTALL = "comparing runs needs scipy: pip install 'pytest-wa[stats]'"


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m pytest_wa compare",
        description="Compare this run (B) with a baseline (A): per metric, the change, "
                    "its 95% confidence interval, a Mann-Whitney p-value and a verdict "
                    "(docs/statistics.md).")
    main.add_argument("baseline", metavar="A", help="baseline: a run directory, or a uuid")
    main.add_argument("this", metavar="B", help="this run: a run directory, or a uuid")
    main.add_argument("--threshold", action="append", default=[], metavar="[NAME=]PCT",
                      help="smallest change that counts, in %% of the baseline mean "
                           f"(default {DEFAULT_THRESHOLD:g}%%); NAME=PCT for one metric "
                           "name; repeatable")
    main.add_argument("--db", default=os.environ.get("PYTEST_WA_DB"),
                      help="results database (SQLite file or postgresql:// URL) holding "
                           "runs given by uuid (default: $PYTEST_WA_DB)")
    main.add_argument("--fail-on-regression", action="store_true",
                      help="exit with status 1 when any metric regressed")
    return main


def percent(text: str) -> float:
    """``5%`` or ``5`` as 5.0 (as an agenda's ``thresholds`` read it); CompareError for
    anything else."""
    from ..model.parameters import ParameterValueError, percentage

    try:
        return percentage(text)
    except ParameterValueError:
        raise CompareError(f"--threshold {text!r}: expected a percentage such as 5% "
                           "or NAME=10%") from None


def thresholds(options: list[str]) -> tuple[float, dict[str, float]]:
    """The global threshold (the last plain one given) and the per-metric ones."""
    overall, per_metric = DEFAULT_THRESHOLD, {}
    for option in options:
        name, equals, value = option.rpartition("=")
        if equals and name.strip():
            per_metric[name.strip()] = percent(value)
        else:
            overall = percent(option)
    return overall, per_metric


def _has_scipy() -> bool:
    from importlib.util import find_spec

    return find_spec("scipy") is not None


def run(arguments: argparse.Namespace) -> int:
    """Load, compare, print; raises CompareError for what the user must fix."""
    overall, per_metric = thresholds(arguments.threshold)
    if not _has_scipy():
        raise CompareError(INSTALL)
    baseline = load(arguments.baseline, arguments.db)
    this = load(arguments.this, arguments.db)
    if not baseline.jobs & this.jobs:
        raise CompareError(f"no common jobs: {arguments.baseline} has "
                           f"{', '.join(sorted(baseline.jobs)) or 'none'}, {arguments.this} "
                           f"has {', '.join(sorted(this.jobs)) or 'none'}")
    report = compare_runs(baseline, this, overall, per_metric)
    if not report.rows:
        raise CompareError(f"no metric in common between {arguments.baseline} and "
                           f"{arguments.this} (failed iterations are left out)")
    sys.stdout.write(render(report))
    regressed = report.counts()[REGRESSED] > 0
    return 1 if regressed and arguments.fail_on_regression else 0


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return run(arguments)
    except (CompareError, OSError) as error:  # OSError: an unreadable run directory
        print(f"error: {error}", file=sys.stderr)
        return 2
