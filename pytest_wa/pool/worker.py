"""A pytest-xdist worker's part in a pool: its device, and leaving when it is lost.

At configure time the worker reads what its controller gave it
(``workerinput``: device, seed, whether jobs are shared) into the run's
``RunRole``, which is all that the session, the engine and the output know of
xdist. Its jobs run as in any session; when its device cannot be had, or
dies and cannot be recovered, the worker leaves so that the other devices
take its jobs (scheduler.py).
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from ..engine.role import ROLE_KEY, RunRole
from . import DEVICE_LOST_EXIT, DEVICE_LOST_KEY
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
    """After a job's reports are logged: a pool worker whose device died leaves.

    ``pytest.exit`` with a status of its own ends only this worker's session
    (xdist's controller stops everything only on status 2 or shouldstop);
    the controller's scheduler (scheduler.py) sees ``DEVICE_LOST_KEY`` in
    ``workeroutput`` and gives the jobs this worker still held to the others.
    """
    from ..engine.output_setup import record_lost_device

    reason = run.device_lost or ""
    output = getattr(config, "workeroutput", None)
    if output is not None:
        output[DEVICE_LOST_KEY] = {"device": run.device, "nodeid": nodeid, "reason": reason}
    record_lost_device(run, reason)
    pytest.exit(f"pytest-wa: {reason}; its jobs go to the other devices",
                returncode=DEVICE_LOST_EXIT)


def configure_worker(config: pytest.Config, workerinput: dict[str, Any]) -> None:
    config.stash[ROLE_KEY] = worker_role(config, workerinput)
    config.pluginmanager.register(PoolWorker(config), "pytest-wa-pool-worker")
