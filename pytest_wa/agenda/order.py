"""Execution order: a pure function from job specs to the sequence of jobs.

``by_iteration`` and ``by_section`` follow WA's documentation (WA2's runners
implement it; WA3 3.3.1's ``by_iteration`` actually behaves as its docs'
``by_section``). ``by_workload`` follows WA's code, which keeps each spec's
iterations together in spec order (WA3's docs describe grouping by workload
across sections instead). With sections X, Y, specs A, B and 2 iterations:

- by_iteration: X.A1 Y.A1 X.B1 Y.B1 X.A2 Y.A2 X.B2 Y.B2 (sections interleaved)
- by_section:   X.A1 X.B1 Y.A1 Y.B1 X.A2 X.B2 Y.A2 Y.B2
- by_workload:  X.A1 X.A2 X.B1 X.B2 Y.A1 ... (every iteration of a spec together)
- random:       a shuffle, reproducible from its seed

Specs with fewer iterations drop out of later rounds.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from .spec import EXECUTION_ORDER_ALIASES, Job, JobSpec


def _rounds(specs: Sequence[JobSpec]) -> list[Job]:
    most = max((spec.iterations for spec in specs), default=0)
    return [Job(spec, i) for i in range(1, most + 1) for spec in specs if i <= spec.iterations]


def _interleave_sections(specs: Sequence[JobSpec]) -> list[JobSpec]:
    by_section: dict[tuple[str, ...], list[JobSpec]] = {}
    for spec in specs:
        by_section.setdefault(spec.section_ids, []).append(spec)
    columns = itertools.zip_longest(*by_section.values())
    return [spec for column in columns for spec in column if spec is not None]


def order_jobs(specs: Sequence[JobSpec], order: str = "by_iteration",
               seed: int | None = None) -> list[Job]:
    """Jobs of ``specs`` in the given execution order (names as in RunSettings).

    WA2's names ``by_spec`` and ``classic`` are accepted for ``by_workload``.
    """
    order = EXECUTION_ORDER_ALIASES.get(order, order)
    if order == "by_iteration":
        return _rounds(_interleave_sections(specs))
    if order == "by_section":
        return _rounds(specs)
    if order == "by_workload":
        return [Job(spec, i) for spec in specs for i in range(1, spec.iterations + 1)]
    if order == "random":
        jobs = _rounds(specs)
        random.Random(seed).shuffle(jobs)
        return jobs
    raise ValueError(f"unknown execution order {order!r}")
