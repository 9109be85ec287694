"""``--wa-matrix`` jobs: every job of an agenda once for each device of the pool.

Each job iteration becomes one item per device, ``<job id>-<label>[<device>-<iteration>]``,
whose output id is ``<device>.<job id>`` (so directories, ``.run_state.json``
entries and ``results.csv`` rows stay apart). A device name is used as it is
when it is a plain word; other characters (``adb:SERIAL``, ``ssh://...``)
become ``_``. Which worker runs which device's jobs is pool/matrix.py's business.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator

from .spec import Job


def device_slug(name: str) -> str:
    """The device as item ids and output ids show it."""
    return re.sub(r"[^A-Za-z0-9_.]+", "_", name).strip("_") or "device"


def matrix_jobs(jobs: Iterable[Job], devices: list[str]) -> Iterator[tuple[str, Job]]:
    """(item name, job) for each device, then each job in execution order."""
    ordered = list(jobs)
    for device in devices:
        slug = device_slug(device)
        for job in ordered:
            spec = dataclasses.replace(job.spec, id=f"{slug}.{job.spec.id}")
            name = f"{job.spec.id}-{job.spec.label}[{slug}-{job.iteration}]"
            yield name, Job(spec, job.iteration)
