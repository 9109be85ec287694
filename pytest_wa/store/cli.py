"""``python -m pytest_wa db``: upload run directories, list stored runs, export one.

The database is ``--db`` (an SQLite path or a ``postgresql://`` URL), or the
``PYTEST_WA_DB`` environment variable. Errors are one paragraph, never a
traceback, and never show a password.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..output.reader import RunOutputError
from . import StoreError, open_store
from .export import export
from .transfer import list_runs, run_directories, upload


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m pytest_wa db",
                                   description="Results databases (docs/results.md).")
    main.add_argument("--db", default=os.environ.get("PYTEST_WA_DB"),
                      help="SQLite file or postgresql:// URL (default: $PYTEST_WA_DB)")
    commands = main.add_subparsers(dest="command", required=True)
    send = commands.add_parser("upload", help="store run directories (ours or WA3's); "
                               "a run already stored is replaced, never duplicated")
    send.add_argument("directories", nargs="+", metavar="DIR",
                      help="a run directory, or a directory searched for runs")
    commands.add_parser("list", help="the stored runs, oldest first")
    out = commands.add_parser("export", help="write a stored run as a run directory")
    out.add_argument("uuid", help="the run's uuid (see `list`)")
    out.add_argument("directory", metavar="DIR", help="where to write it (must not exist)")
    return main


def _upload(store: object, directories: list[str]) -> int:
    count = 0
    for run in run_directories(list(directories)):
        done = upload(store, run)  # type: ignore[arg-type]
        print(f"stored run {done.uuid} ({done.jobs} jobs) from {done.path}")
        count += 1
    if not count:
        print(f"no run directory found in {', '.join(directories)}", file=sys.stderr)
        return 1
    return 0


def _list(store: object) -> int:
    runs = list_runs(store)  # type: ignore[arg-type]
    print(f"{'uuid':36}  {'start (UTC)':19}  {'status':11}  {'jobs':>5}  {'target':16}  name")
    for run in runs:
        start = (run.start_time or "")[:19]
        print(f"{run.uuid:36}  {start:19}  {run.status:11}  {run.jobs:5}  "
              f"{run.device or '':16}  {run.run_name or ''}")
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    if not arguments.db:
        print("error: which database? give --db (an SQLite file or a postgresql:// URL) "
              "or set PYTEST_WA_DB", file=sys.stderr)
        return 2
    try:
        with open_store(arguments.db) as store:
            if arguments.command == "upload":
                return _upload(store, arguments.directories)
            if arguments.command == "list":
                return _list(store)
            path = export(store, arguments.uuid, Path(arguments.directory))
            print(f"run {arguments.uuid} written to {path}")
            return 0
    except (StoreError, RunOutputError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
