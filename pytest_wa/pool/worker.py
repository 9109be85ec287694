"""A pytest-xdist worker's part in a pool: its device, and leaving when it is lost.

At configure time the worker reads what its controller gave it
(``workerinput``: device, seed, whether jobs are shared) into the run's
``RunRole``, which is all that the session, the engine and the output know of
xdist. Its jobs run as in any session; when its device dies and cannot be
recovered, the worker leaves so that the other devices take its jobs
(scheduler.py).

A device that cannot be had at all is found before any job is dealt: a
worker that shares jobs connects its device before xdist tells the
controller it has collected, and if the device cannot be had it leaves
without a collection, so the scheduler deals the jobs to the others only.
A leaving worker writes nothing into the run directory (its controller may
not have prepared it yet): it says why in ``workeroutput``, with the plan it
collected, and the controller records it (session/run_files.py).
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..engine.role import ROLE_KEY, RunRole, run_role
from . import DEVICE_LOST_EXIT, DEVICE_LOST_KEY, PROGRESS_DIR_KEY
from .devices import pool_devices

if TYPE_CHECKING:
    from ..engine.run import RunContext


def worker_role(config: pytest.Config, workerinput: dict[str, Any]) -> RunRole:
    """The role the controller gave this worker."""
    try:
        pool = tuple(pool_devices(config) or ())
    except pytest.UsageError:
        pool = ()
    seed = workerinput.get("wa_seed")
    return RunRole(device=workerinput.get("wa_device"), worker=workerinput.get("workerid"),
                   shares_jobs=bool(workerinput.get("wa_reschedule")), pool=pool,
                   seed=None if seed is None else int(seed))


class PoolWorker:
    """Registered on every xdist worker: leaves the pool when the device is lost."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)  # before xdist sends the collection to the controller
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Have the device before the controller hears that this worker collected; if it
        cannot be had, leave now, so that no job is dealt to this worker.

        plugin.py's own call to ``prepare_run`` comes later and finds the run started.
        """
        if not run_role(self.config).shares_jobs:
            return
        from ..session.collection import jobs_will_run, prepare_run
        from ..session.state import get_run

        if not jobs_will_run(session):
            return
        prepare_run(session, True)
        run = get_run(self.config)
        if run.device_lost is not None:
            leave(self.config, run, "")

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None
                                ) -> Generator[None, Any, Any]:
        run = _run_of(item)
        if run is not None and run.device_lost is not None and not run.started:
            leave(self.config, run, "")  # never had its device
        done = yield
        if run is not None and run.device_lost is not None:
            leave(self.config, run, item.nodeid)
        return done


def _run_of(item: pytest.Item) -> RunContext | None:
    """The run, for a job item (a plain test imports nothing of pytest-wa's here)."""
    items = sys.modules.get("pytest_wa.session.items")
    if items is None or not isinstance(item, items.JobItem):
        return None
    from ..session.state import existing_run

    return existing_run(item.config)


def leave(config: pytest.Config, run: RunContext, nodeid: str) -> None:
    """A pool worker whose device is lost leaves: at collection (``nodeid`` empty), or
    after the reports of the job it was running (``nodeid``) are logged.

    ``pytest.exit`` with a status of its own ends only this worker's session
    (xdist's controller stops everything only on status 2 or shouldstop);
    the controller sees ``DEVICE_LOST_KEY`` in ``workeroutput``: it records
    the loss and the plan (controller.py), and its scheduler (scheduler.py)
    gives the jobs this worker still held to the others.
    """
    from ..engine.output_setup import run_plan_record

    reason = run.device_lost or ""
    output = getattr(config, "workeroutput", None)
    if output is not None:
        output[DEVICE_LOST_KEY] = {
            "device": run.device, "nodeid": nodeid, "reason": reason,
            "plan": run_plan_record(run) if run.plan is not None else None}
    pytest.exit(f"pytest-wa: {reason}; its jobs go to the other devices",
                returncode=DEVICE_LOST_EXIT)


def configure_worker(config: pytest.Config, workerinput: dict[str, Any]) -> None:
    role = worker_role(config, workerinput)
    config.stash[ROLE_KEY] = role
    config.pluginmanager.register(PoolWorker(config), "pytest-wa-pool-worker")
    if workerinput.get(PROGRESS_DIR_KEY):  # the controller shows progress (progress.py)
        from .status_files import StatusWriter

        device = role.device or config.getoption("wa_device") or "local"
        writer = StatusWriter(Path(workerinput[PROGRESS_DIR_KEY]), role.worker or "gw", device)
        config.pluginmanager.register(writer, "pytest-wa-pool-status")
