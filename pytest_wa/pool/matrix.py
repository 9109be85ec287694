"""``--wa-matrix``: every job on each device of the pool.

Each job iteration becomes one item per device, ``<job id>-<label>[<device>-<iteration>]``,
whose output id is ``<device>.<job id>`` (so directories, ``.run_state.json``
entries and ``results.csv`` rows stay apart). A device name is used as it is
when it is a plain word; other characters (``adb:SERIAL``, ``ssh://...``)
become ``_``. The scheduler sends each device's items to the worker that has
that device, all at once, as soon as that worker has collected (the others
need not have): there is no sharing out, and a lost device's
remaining jobs are SKIPPED (they belong to that device).
"""

from __future__ import annotations

import re
from typing import Any

from ..agenda.matrix import device_slug
from .scheduler import StartAsCollected

_ID = re.compile(r"\[(?P<device>.+)-(?P<iteration>\d+)\]$")


def item_device(nodeid: str) -> str | None:
    match = _ID.search(nodeid)
    return match.group("device") if match else None


class MatrixScheduling(StartAsCollected):
    """Each device's items to its worker, all at once, as soon as that worker has
    collected; nothing moves between workers."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self.by_device: dict[str, list[int]] = {}  # each device's item indices
        self.handed_out: set[str] = set()  # devices whose items went to a worker

    def begin(self) -> None:
        for index, nodeid in enumerate(self.collection or []):
            self.by_device.setdefault(item_device(nodeid) or "", []).append(index)

    def admit(self, nodes: list[Any]) -> None:
        for node in nodes:
            device = device_slug(node.workerinput["wa_device"])
            if device in self.handed_out:  # a replacement for a crashed worker: its
                node.shutdown()            # device's remaining items are not run again
                continue
            self.handed_out.add(device)
            indices = self.by_device.get(device, [])
            if indices:
                self.node2pending[node].extend(indices)
                node.send_runtest_some(indices)
            node.shutdown()

    def check_schedule(self, node: Any, duration: float = 0) -> None:
        return  # a worker gets its device's items when it is admitted

    @property
    def tests_finished(self) -> bool:
        if not self.collection_is_completed:
            return False
        if not self.aborted and not self.by_device.keys() <= self.handed_out:
            return False  # a worker that has not collected yet still has its jobs to run
        return all(len(held) < 2 for held in self.node2pending.values())

    def remove_node(self, node: Any) -> str | None:
        """A worker that finished holds nothing; one that crashed: its item failed,
        the rest of its device's items are never run (SKIPPED in the output)."""
        held = self.node2pending.pop(node)
        if not held:
            return None
        collection: list[str] = list(self.collection or [])
        return collection[held[0]]
