"""The pytest-xdist controller's part: devices for workers, the run-level files.

The controller does not collect, so it cannot tell an agenda run from a plain
test suite until the workers' collections arrive: the run directory is only
prepared then, and only if some collected id is in a YAML file (a plain suite
run with ``-n`` stays inert). That happens before the scheduler hands out
the first job, so no worker writes into a directory about to be moved aside.

A worker whose device is lost writes nothing: the controller records the
loss from its ``workeroutput``, and prepares the run directory then if no
collection came before (a worker that could not have its device leaves at
collection without sending one). If every device is lost, the jobs left
are SKIPPED and the session fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from ..session.state import session_notes, wa_seed
from . import DEVICE_LOST_KEY
from .devices import pool_devices


class PoolController:
    """Registered on the xdist controller (plugin.py) when workers are started."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.devices = pool_devices(config) or []
        self.in_use: dict[str, str] = {}  # device -> worker id
        self.handed_out: set[str] = set()  # every device a worker was given
        self.lost: set[str] = set()
        self.run: Any = None  # a SharedRun once agendas are known to run
        self.notes = session_notes(config)

    # --- devices ---

    def pytest_configure_node(self, node: Any) -> None:
        """Every worker orders jobs with the controller's random seed. A worker gets
        the first free device: gwN gets device N; a worker that replaces a crashed
        one gets the crashed one's device back."""
        node.workerinput["wa_seed"] = wa_seed(self.config)
        if not self.devices:
            return
        free = [d for d in self.devices if d not in self.in_use and d not in self.lost]
        if not free:
            raise pytest.UsageError(f"pytest-wa: no free device left in the pool for worker "
                                    f"{node.gateway.id}")
        self.in_use[free[0]] = node.gateway.id
        self.handed_out.add(free[0])
        node.workerinput["wa_device"] = free[0]
        node.workerinput["wa_reschedule"] = self._shares_jobs()

    def _shares_jobs(self) -> bool:
        """Whether a lost device's jobs go to the others: only this package's load
        scheduler moves them (xdist's other schedulers expect every worker to stay)."""
        return self.config.getvalue("dist") == "load" and not self.config.getoption("wa_matrix")

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Called before the scheduler hears of it (xdist), so the run directory is
        ready, and the loss recorded, before the jobs go anywhere else."""
        lost = getattr(node, "workeroutput", {}).get(DEVICE_LOST_KEY)
        for device, worker in list(self.in_use.items()):
            if worker == node.gateway.id:
                del self.in_use[device]
                if lost:
                    self.lost.add(device)
                    self.notes.append(f"device {device} lost ({lost.get('reason')}); "
                                      "its remaining jobs went to the other devices")
        if lost:
            self._record_lost_device(node.gateway.id, lost)

    def _record_lost_device(self, worker: str, lost: dict[str, Any]) -> None:
        plan = lost.get("plan")
        if self.run is None and plan and plan.get("jobs"):
            from ..session.run_files import open_shared_run

            self.run = open_shared_run(self.config)  # no worker had sent its collection
        if self.run is not None:
            self.run.device_lost(worker, str(lost.get("reason", "")), plan)

    def every_device_lost(self) -> bool:
        return bool(self.lost) and self.handed_out <= self.lost

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getvalue("dist") != "load" or not self.devices:
            return None
        if config.getoption("wa_matrix"):
            from .matrix import MatrixScheduling

            return MatrixScheduling(config, log)
        from .scheduler import PoolScheduling

        return PoolScheduling(config, log)

    # --- the run directory ---

    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        if self.run is not None or not any(_is_agenda_id(i) for i in ids):
            return
        from ..session.run_files import open_shared_run

        self.run = open_shared_run(self.config)

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        if self.run is not None:
            self.run.job_running(nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.run is not None:
            self.run.job_reported(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.run is None:
            return
        self.run.finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
        self.notes.extend(self.run.notes)
        if self.config.getoption("wa_html"):
            from ..session.html_report import write_html_report

            write_html_report(self.config, self.run.directory)
        if self.every_device_lost() and self.run.unrun_jobs():
            self._fail_for_want_of_devices(session)

    def _fail_for_want_of_devices(self, session: pytest.Session) -> None:
        """Every device was lost with jobs still to run: one clear line, and a failed
        session even if nothing else failed (as a single device that cannot be had)."""
        self.notes.append(f"no device of the pool is left: {self.run.unrun_jobs()} job(s) "
                          f"did not run (SKIPPED; --wa-resume {self.run.directory} runs them)")
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.USAGE_ERROR


def _is_agenda_id(nodeid: str) -> bool:
    return nodeid.split("::", 1)[0].endswith((".yaml", ".yml"))
