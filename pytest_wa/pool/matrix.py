"""``--wa-matrix``: every job on each device of the pool.

Each job iteration becomes one item per device, ``<job id>-<label>[<device>-<iteration>]``,
whose output id is ``<device>.<job id>`` (so directories, ``.run_state.json``
entries and ``results.csv`` rows stay apart). A device name is used as it is
when it is a plain word; other characters (``adb:SERIAL``, ``ssh://...``)
become ``_``. The scheduler sends each device's items to the worker that has
that device, all at once: there is no sharing out, and a lost device's
remaining jobs are SKIPPED (they belong to that device).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from ..agenda.spec import Job
from .scheduler import ScheduleOnce

_ID = re.compile(r"\[(?P<device>.+)-(?P<iteration>\d+)\]$")


def device_slug(name: str) -> str:
    """The device as item ids and output ids show it."""
    return re.sub(r"[^A-Za-z0-9_.]+", "_", name).strip("_") or "device"


def matrix_devices(config: pytest.Config) -> list[str]:
    """The pool's devices when --wa-matrix is given, else none."""
    if not config.getoption("wa_matrix", False):
        return []
    from .devices import pool_devices

    return pool_devices(config) or []


def matrix_jobs(jobs: Iterable[Job], devices: list[str]) -> Iterator[tuple[str, Job]]:
    """(item name, job) for each device, then each job in execution order."""
    ordered = list(jobs)
    for device in devices:
        slug = device_slug(device)
        for job in ordered:
            spec = dataclasses.replace(job.spec, id=f"{slug}.{job.spec.id}")
            name = f"{job.spec.id}-{job.spec.label}[{slug}-{job.iteration}]"
            yield name, Job(spec, job.iteration)


def item_device(nodeid: str) -> str | None:
    match = _ID.search(nodeid)
    return match.group("device") if match else None


class MatrixScheduling(ScheduleOnce):
    """Each device's items to its worker, all at once; nothing moves between workers."""

    def schedule(self) -> None:
        if self._scheduled or not self._take_collection():
            return
        collection: list[str] = self.collection
        nodes = self.nodes
        by_device = {device_slug(node.workerinput["wa_device"]): node for node in nodes}
        plan: dict[Any, list[int]] = {node: [] for node in nodes}
        for index, nodeid in enumerate(collection):
            device = item_device(nodeid)
            node = by_device.get(device or "") or nodes[index % len(nodes)]
            plan[node].append(index)
        for node, indices in plan.items():
            if indices:
                self.node2pending[node].extend(indices)
                node.send_runtest_some(indices)
            node.shutdown()
        self.pending[:] = []

    def check_schedule(self, node: Any, duration: float = 0) -> None:
        return  # everything was sent at the start

    def remove_node(self, node: Any) -> str | None:
        """A worker that finished holds nothing; one that crashed: its item failed,
        the rest of its device's items are never run (SKIPPED in the output)."""
        held = self.node2pending.pop(node)
        if not held:
            return None
        collection: list[str] = list(self.collection or [])
        return collection[held[0]]
