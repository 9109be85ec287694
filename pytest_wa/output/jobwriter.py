"""A run directory written by several processes: each writes its jobs, one owns the run.

When several processes share one run (a device pool), each writes its own
jobs' directories (and ``__failed`` attempts) and, until the owner of the run
has them, nothing else of the run: ``.run_state.json``, ``results.csv``,
``result.json`` and ``status.txt`` are the owner's. Before its first job every
process writes ``__meta/plan.json`` (the jobs it collected: the same in all of
them) and its device's ``__meta/targets/<device>.json``; the first to get
there (an exclusive create) also writes the meta files that come from the
plan. Run-level results a process adds go to ``__workers/<name>.result.json``,
which the owner merges at the end. Nothing here knows who the processes are.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..model.status import JobStatus
from .atomic import write_json
from .pods import result_pod
from .writer import RunWriter, overall_status

PLAN_FILE = "plan.json"
WORKERS_DIR = "__workers"
SHARED_META_CLAIM = ".shared-meta"


class JobWriter(RunWriter):
    """A RunWriter that leaves the run-level files to the run's owner.

    Made at run start but touching no file until ``open`` (the first job: by
    then the owner has prepared the directory).
    """

    owns_run_files = False

    def __init__(self, directory: Path, name: str, prepare: Callable[[], None]) -> None:
        super().__init__(directory)
        self.name = name
        self.ready = False
        self._prepare = prepare

    def open(self) -> None:
        if not self.ready:
            self._prepare()
            self.ready = True
            self.write_result()

    def write_result(self) -> None:
        if not self.ready:
            return
        result = self.result
        write_json(self.directory / WORKERS_DIR / f"{self.name}.result.json", result_pod(
            JobStatus.RUNNING, result.metrics, result.artifacts, result.events,
            result.classifiers, result.metadata))

    def finish(self, *, run_name: str | None,
               settle: Callable[[JobStatus], JobStatus]) -> JobStatus:
        return overall_status(entry.status for entry in self.order)


def write_plan(directory: Path, jobs: list[dict[str, Any]], run: dict[str, Any],
               metadata: dict[str, Any]) -> None:
    """``__meta/plan.json``: every job's node id and output id, for the run's owner."""
    meta = directory / "__meta"
    (meta / "targets").mkdir(parents=True, exist_ok=True)
    (directory / WORKERS_DIR).mkdir(exist_ok=True)
    write_json(meta / PLAN_FILE, {"jobs": jobs, "run": run, "metadata": metadata})


def write_lost_device(directory: Path, name: str, reason: str) -> None:
    """``__workers/<name>.lost``: this process's device died; the owner says so."""
    (directory / WORKERS_DIR).mkdir(parents=True, exist_ok=True)
    (directory / WORKERS_DIR / f"{name}.lost").write_text(reason + "\n")


def claim(path: Path) -> bool:
    """True for the one process that creates ``path`` first."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return False
    return True
