"""Load scheduling that gives a lost device's jobs to the other workers.

xdist's ``LoadScheduling`` treats a worker that leaves with items still
assigned as crashed (the first one is reported failed), and it shuts a worker
down as soon as nothing is left to hand out, so items given back later would
have nowhere to go. Here:

- each worker holds at most two jobs (the one running and the next: an xdist
  worker needs the next item, or the shutdown, before it runs one), so little
  is committed to a device that may die;
- no worker is shut down on its own: all are shut down together once every
  worker is on its last job (``tests_finished``), so until then a returned
  job always finds a live worker; the cost is that a worker whose last job
  waits for it can idle for up to one job's time at the very end;
- a worker that left because its device was lost (``DEVICE_LOST_KEY`` in its
  ``workeroutput``) is not crashed: the job it was running is already
  reported, the rest go back to the pool of pending jobs.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScheduling

from . import DEVICE_LOST_KEY


class ScheduleOnce(LoadScheduling):
    """Takes the workers' common collection once; the pool and matrix schedulers build on it."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self._scheduled = False

    def _take_collection(self) -> bool:
        """Adopt the collection every worker reported; False (and logged) if they differ."""
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return False
        self.collection = list(next(iter(self.node2collection.values())))
        self._scheduled = True
        return True


class PoolScheduling(ScheduleOnce):
    """``--dist load`` for device pools (see the module docstring)."""

    def schedule(self) -> None:
        if self._scheduled:
            for node in self.nodes:
                self.check_schedule(node)
            return
        if not self._take_collection():
            return
        self.pending[:] = range(len(self.collection))
        for size in (1, 1):  # round robin: every worker busy before any holds two
            for node in self.nodes:
                self._send_tests(node, size)
        # No shutdown here even when everything is handed out: see tests_finished.

    def check_schedule(self, node: Any, duration: float = 0) -> None:
        if node.shutting_down or not self.pending:
            return  # never shut one worker down alone (a lost device's jobs may come back)
        held = self.node2pending[node]
        if len(held) < 2:
            self._send_tests(node, 2 - len(held))

    @property
    def tests_finished(self) -> bool:
        if not self.collection_is_completed:
            return False
        if not self.node2pending:
            return True  # every worker lost its device: what is left is SKIPPED
        if self.pending:
            return False
        return all(len(held) < 2 for held in self.node2pending.values())

    def remove_node(self, node: Any) -> str | None:
        lost = getattr(node, "workeroutput", {}).get(DEVICE_LOST_KEY)
        if not lost:
            return super().remove_node(node)
        held = self.node2pending.pop(node)
        collection: list[str] = list(self.collection or [])
        if held and collection[held[0]] == lost.get("nodeid"):
            held.pop(0)  # ran and was reported (FAILED) before the worker left
        self.log(f"device {lost.get('device')} lost: {len(held)} job(s) go to other workers")
        self.pending[:0] = held
        for other in self.node2pending:
            self.check_schedule(other)
        return None
