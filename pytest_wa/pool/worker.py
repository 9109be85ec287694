"""A pytest-xdist worker's share of the one run directory.

A worker writes its jobs' directories (and ``__failed`` attempts) and, until
the controller has them, nothing else of the run: ``.run_state.json``,
``results.csv``, ``result.json`` and ``status.txt`` are the controller's
(shared_run.py). Before its first job every worker writes ``__meta/plan.json``
(the same on all of them: they collect the same items in the same order) and
its device's ``__meta/targets/<device>.json``; the first worker to get there
(an exclusive create) writes the meta files that come from the plan. Its log
is ``run-<worker>.log``; run-level results added on it go to
``__workers/<worker>.result.json``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..output.atomic import write_json
from ..output.pods import result_pod
from ..output.writer import RunWriter
from ..status import JobStatus
from . import DEVICE_LOST_EXIT, DEVICE_LOST_KEY
from .shared_run import PLAN_FILE, WORKERS_DIR

if TYPE_CHECKING:
    from ..output.plan import RunPlan
    from ..output.reader import RunOutput
    from ..run import RunContext


def worker_id(config: pytest.Config) -> str | None:
    return getattr(config, "workerinput", {}).get("workerid")


def in_pool(config: pytest.Config) -> bool:
    """Whether this worker shares a pool's jobs (others take over if its device dies);
    not under --wa-matrix, where a device's jobs are its own."""
    return bool(getattr(config, "workerinput", {}).get("wa_reschedule"))


class JobWriter(RunWriter):
    """A RunWriter that leaves the run-level files to the controller.

    Made at run start but touching no file until ``open`` (the worker's first
    job: by then the controller has prepared the directory). Run-level
    metrics, artifacts and events that hooks add on the worker go to
    ``__workers/<worker>.result.json``, which the controller merges at the end.
    """

    owns_run_files = False

    def __init__(self, directory: Path, worker: str, prepare: Callable[[], None]) -> None:
        super().__init__(directory)
        self.worker = worker
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
        write_json(self.directory / WORKERS_DIR / f"{self.worker}.result.json", result_pod(
            JobStatus.RUNNING, result.metrics, result.artifacts, result.events,
            result.classifiers, {}))

    def finish(self, *, run_name: str | None) -> JobStatus:
        from ..output.writer import overall_status

        return overall_status(entry.status for entry in self.order)


def open_worker_output(config: pytest.Config, directory: Path, plan: RunPlan,
                       nodeids: dict[int, str], write_shared: Callable[[], None],
                       target_info: dict[str, Any], device: str, *,
                       previous: RunOutput | None = None) -> JobWriter:
    """The worker's writer; at its ``open``: plan.json, the device's target info,
    and the shared meta files if this worker is the first to get there (in a
    resumed run they are the first session's, and stay).

    Resuming (``--wa-resume``, ``previous`` is the run continued), the writer
    knows the earlier attempts of every job, so that a job run again puts its
    earlier directory aside as ``__failed/<job>-attemptNN`` with the next free
    number.
    """
    meta = directory / "__meta"

    def prepare() -> None:
        write_plan(config, directory, plan, nodeids)
        write_json(meta / "targets" / f"{device}.json", target_info)
        if _claim(meta / ".shared-meta"):
            write_shared()
            write_json(meta / "target_info.json", target_info)

    writer = JobWriter(directory, worker_id(config) or "gw0", prepare)
    if previous is not None:
        writer.adopt_jobs(previous.jobs)
    return writer


def write_plan(config: pytest.Config, directory: Path, plan: RunPlan,
               nodeids: dict[int, str]) -> None:
    """``__meta/plan.json``: every job's node id and output id, for the controller."""
    meta = directory / "__meta"
    (meta / "targets").mkdir(parents=True, exist_ok=True)
    (directory / WORKERS_DIR).mkdir(exist_ok=True)
    settings = plan.first_settings()
    write_json(meta / PLAN_FILE, {
        "jobs": [{"nodeid": nodeids.get(id(p.job), ""), "id": p.output_id,
                  "label": p.job.spec.label, "iteration": p.job.iteration}
                 for p in plan.jobs],
        "run": {"run_name": getattr(settings, "run_name", None),
                "project": getattr(settings, "project", None),
                "project_stage": _stage(getattr(settings, "project_stage", None))},
        "metadata": {"agendas": [agenda.path for agenda in plan.agendas],
                     "devices": _devices(config)}})


def _stage(stage: Any) -> Any:
    if stage is None or isinstance(stage, dict):
        return stage
    return {"stage": stage}


def _devices(config: pytest.Config) -> list[str]:
    from .devices import pool_devices

    try:
        return pool_devices(config) or [config.getoption("wa_device") or "local"]
    except pytest.UsageError:
        return []


def _claim(path: Path) -> bool:
    """True for the one process that creates ``path`` first."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return False
    return True


def leave_if_device_lost(run: RunContext, nodeid: str) -> None:
    """After a job's reports are logged: a pool worker whose device died leaves.

    ``pytest.exit`` with a status of its own ends only this worker's session
    (xdist's controller stops everything only on status 2 or shouldstop);
    the controller's scheduler (scheduler.py) sees ``DEVICE_LOST_KEY`` in
    ``workeroutput`` and gives the jobs this worker still held to the others.
    """
    if run.device_lost is None:
        return
    config = run.config
    output = getattr(config, "workeroutput", None)
    if output is not None:
        output[DEVICE_LOST_KEY] = {"device": run.device, "nodeid": nodeid,
                                   "reason": run.device_lost}
    from ..output.session import output_path

    directory = output_path(config)
    if not getattr(run.output, "ready", False) and run.plan is not None:
        write_plan(config, directory, run.plan, run.nodeids)  # in case no worker did
    (directory / WORKERS_DIR).mkdir(parents=True, exist_ok=True)
    (directory / WORKERS_DIR / f"{worker_id(config)}.lost").write_text(run.device_lost + "\n")
    pytest.exit(f"pytest-wa: {run.device_lost}; its jobs go to the other devices",
                returncode=DEVICE_LOST_EXIT)
