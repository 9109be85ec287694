"""Load scheduling for device pools: start each worker early, keep it fed.

xdist's ``LoadScheduling`` waits until every worker has collected before it
hands out anything, makes a worker wait for the controller between two tests,
treats a worker that leaves with items still assigned as crashed, and shuts a
worker down as soon as nothing is left to hand out. For jobs on devices:

- a worker starts as soon as its own collection is in, when there are jobs
  enough for everyone (``HOLD`` per worker); with fewer, all collections are
  awaited and the jobs dealt round robin, so two jobs on four phones run side
  by side rather than one after the other. A worker whose collection differs
  from the first one stops the run as xdist would (reported as a collection
  error, nothing more handed out), even if jobs have started;
- each worker holds at most ``HOLD`` jobs: the one running, the next (an
  xdist worker runs an item only once it has the next one, or the shutdown)
  and one more, so it never waits for the controller between jobs, and
  little is committed to a device that may die;
- no worker is shut down on its own: all are shut down together once every
  worker is on its last job (``tests_finished``), so until then a returned
  job always finds a live worker (the run still ends when its slowest worker
  does);
- a worker that left because its device was lost (``DEVICE_LOST_KEY`` in its
  ``workeroutput``) is not crashed: the job it was running is already
  reported, the rest go back to the pool of pending jobs. One whose device
  could not be had leaves at collection, without sending one: it is counted
  out of the collections awaited, so the jobs are dealt to the others only
  (its leaving may be what completes them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from xdist.report import report_collection_diff
from xdist.scheduler import LoadScheduling

from . import DEVICE_LOST_KEY

#: Jobs a worker holds at most: running, next, and one more so it never waits.
HOLD = 3


class StartAsCollected(LoadScheduling):
    """Workers start as their collections arrive; the pool and matrix schedulers build on it.

    ``collection_is_completed`` is what xdist asks before it calls
    ``schedule``; answering True once the first collection is in makes it call
    ``schedule`` again for every later one, which admits that worker.
    """

    collection: list[str] | None  # LoadScheduling's: the first worker's collection

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self.started: set[Any] = set()
        self.aborted = False  # the workers' collections differed: nothing more is handed out
        self.left_uncollected = 0  # workers gone before sending a collection (device lost)

    def start_early(self) -> bool:
        """Whether a worker may start before the others have collected."""
        return True

    @property
    def collection_is_completed(self) -> bool:
        if len(self.node2collection) + self.left_uncollected >= self.numnodes:
            return True
        return bool(self.node2collection) and self.start_early()

    def add_node_collection(self, node: Any, collection: Sequence[str]) -> None:
        if self.collection is not None and list(collection) != self.collection:
            self._refuse(node, collection)
            return
        self.node2collection[node] = list(collection)

    def _refuse(self, node: Any, collection: Sequence[str]) -> None:
        """A late worker collected something else: report it as xdist does, and stop
        handing out jobs (those already running finish)."""
        reference = next(iter(self.node2collection))
        message = report_collection_diff(self.collection, collection, reference.gateway.id,
                                         node.gateway.id)
        self.log(message)
        self.config.hook.pytest_collectreport(report=pytest.CollectReport(
            nodeid=node.gateway.id, outcome="failed", longrepr=message, result=[]))
        self.aborted = True
        self.abort()
        node.shutdown()

    def abort(self) -> None:
        """Hand out nothing more (the collections differ)."""

    def schedule(self) -> None:
        if self.aborted:
            return
        if self.collection is None:
            if not self._check_nodes_have_same_collection():
                self.log("**Different tests collected, aborting run**")
                return
            self.collection = list(next(iter(self.node2collection.values())))
            self.begin()
        arrivals = [node for node in self.nodes if node in self.node2collection
                    and node not in self.started and not node.shutting_down]
        self.started.update(arrivals)
        if arrivals:
            self.admit(arrivals)

    def begin(self) -> None:
        """The collection is known (called once, before the first ``admit``)."""

    def admit(self, nodes: list[Any]) -> None:
        """Give work to workers whose collection just came in."""
        raise NotImplementedError


class PoolScheduling(StartAsCollected):
    """``--dist load`` for device pools (see the module docstring)."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self.devices_lost = 0

    def start_early(self) -> bool:
        first: list[str] = next(iter(self.node2collection.values()), [])
        return len(first) >= HOLD * self.numnodes

    def begin(self) -> None:
        self.pending[:] = range(len(self.collection or []))

    def abort(self) -> None:
        self.pending.clear()

    def admit(self, nodes: list[Any]) -> None:
        for _ in range(HOLD):  # round robin: every worker busy before any holds more
            for node in nodes:
                self._send_tests(node, 1)
        # No shutdown here even when everything is handed out: see tests_finished.

    def check_schedule(self, node: Any, duration: float = 0) -> None:
        if node.shutting_down or self.aborted or not self.pending or node not in self.started:
            return  # never shut one worker down alone (a lost device's jobs may come back)
        held = self.node2pending[node]
        if len(held) < HOLD:
            self._send_tests(node, HOLD - len(held))

    @property
    def tests_finished(self) -> bool:
        if not self.collection_is_completed:
            return False
        if not self.node2pending:
            # Every worker lost its device: what is left is SKIPPED. Otherwise the
            # workers still to come (slow to start, or replacing a crashed one) run it.
            return self.devices_lost >= self.numnodes
        if self.pending and not self.aborted:
            return False
        return all(len(held) < 2 for held in self.node2pending.values())

    def remove_node(self, node: Any) -> str | None:
        lost = getattr(node, "workeroutput", {}).get(DEVICE_LOST_KEY)
        if not lost:
            return super().remove_node(node)
        held = self.node2pending.pop(node)
        self.devices_lost += 1
        if node not in self.node2collection:
            self.left_uncollected += 1  # at collection: the others need not wait for it
        collection: list[str] = list(self.collection or [])
        if held and collection[held[0]] == lost.get("nodeid"):
            held.pop(0)  # ran and was reported (FAILED) before the worker left
        self.log(f"device {lost.get('device')} lost: {len(held)} job(s) go to other workers")
        self.pending[:0] = held
        if self.node2collection and self.collection_is_completed:
            self.schedule()  # the collections awaited may all be in now
        for other in self.node2pending:
            self.check_schedule(other)
        return None
