"""``python -m pytest_wa``: pytest-wa's commands outside a pytest run.

``db`` works with results databases (pytest_wa/store/cli.py); ``compare``
compares two runs with regression verdicts (pytest_wa/compare/cli.py);
``report`` writes a run's HTML report (pytest_wa/report/cli.py).
"""

from __future__ import annotations

import sys

USAGE = ("usage: python -m pytest_wa db {upload,list,export} ... (python -m pytest_wa db -h)\n"
         "       python -m pytest_wa compare A B ... (python -m pytest_wa compare -h)\n"
         "       python -m pytest_wa report RUN ... (python -m pytest_wa report -h)")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] == "db":
        from .store.cli import main as database

        return database(argv[1:])
    if argv[0] == "compare":
        from .compare.cli import main as compare

        return compare(argv[1:])
    if argv[0] == "report":
        from .report.cli import main as report

        return report(argv[1:])
    print(f"unknown command {argv[0]!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
