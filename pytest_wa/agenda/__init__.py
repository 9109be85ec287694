"""Agenda loading: YAML with line numbers -> validated job specs -> ordered jobs.

Pure Python with no pytest dependency, so that tools (and WA users' scripts)
can load and check an agenda on their own.
"""

from __future__ import annotations

import gc

from .expand import Catalog, build_agenda
from .includes import load_with_includes
from .order import order_jobs
from .spec import Agenda, Job, JobSpec, RunSettings


def load_agenda(path: str, catalog: Catalog) -> Agenda:
    """Load, validate and expand the agenda at ``path``; raises AgendaError.

    The cyclic garbage collector is paused meanwhile: loading allocates hundreds
    of thousands of small containers that all stay alive until it returns, so
    every collection would be wasted work (~40% of a 10,000-job load).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        data, files = load_with_includes(path)
        return build_agenda(data, path, files, catalog)
    finally:
        if was_enabled:
            gc.enable()


__all__ = ["Agenda", "Catalog", "Job", "JobSpec", "RunSettings", "load_agenda", "order_jobs"]
