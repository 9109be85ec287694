"""Agenda loading: YAML with line numbers -> validated job specs -> ordered jobs.

Pure Python with no pytest dependency, so that tools (and WA users' scripts)
can load and check an agenda on their own.
"""

from __future__ import annotations

from .expand import Catalog, build_agenda
from .order import order_jobs
from .spec import Agenda, Job, JobSpec, RunSettings
from .yamlsource import load_with_includes


def load_agenda(path: str, catalog: Catalog) -> Agenda:
    """Load, validate and expand the agenda at ``path``; raises AgendaError."""
    data, files = load_with_includes(path)
    return build_agenda(data, path, files, catalog)


__all__ = ["Agenda", "Catalog", "Job", "JobSpec", "RunSettings", "load_agenda", "order_jobs"]
