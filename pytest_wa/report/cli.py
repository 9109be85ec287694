"""``python -m pytest_wa report RUN``: the HTML report of a finished run, after the fact.

The same report ``--wa-html`` writes at the end of a session (it is built
from the run directory alone), for a run made without it, a resumed one, or
against another baseline. Exit status 0 when written (a baseline that could
not be used is a warning on stderr, the report says it too); 2 for an error,
one line on stderr and never a traceback, because a script reads it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .writer import ReportError, write_report

DEFAULT_NAME = "report.html"


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m pytest_wa report",
        description="Write a run's HTML report: one self-contained file with the run's "
                    "statuses, every metric's statistics and plots, the jobs' timeline "
                    "per device, instrument data and links to every artifact "
                    "(docs/report.md).")
    main.add_argument("run", metavar="RUN", help="the run directory")
    main.add_argument("-o", "--output", metavar="FILE",
                      help=f"where to write the report (default: RUN/{DEFAULT_NAME})")
    main.add_argument("--baseline", metavar="BASELINE",
                      help="show this run beside a baseline, with verdicts: a run directory, "
                           "or a run uuid with --db")
    main.add_argument("--threshold", action="append", default=[], metavar="[NAME=]PCT",
                      help="smallest change that counts for a verdict, in %% of the "
                           "baseline mean (as python -m pytest_wa compare); repeatable")
    main.add_argument("--db", default=os.environ.get("PYTEST_WA_DB"),
                      help="results database holding a baseline given by uuid "
                           "(default: $PYTEST_WA_DB)")
    return main


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    output = arguments.output or str(Path(arguments.run) / DEFAULT_NAME)
    try:
        written, notes = write_report(arguments.run, output, arguments.baseline,
                                      arguments.threshold, arguments.db)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
    print(f"report: {written}")
    return 0
