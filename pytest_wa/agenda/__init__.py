"""Agenda loading: YAML with line numbers -> validated job specs -> ordered jobs.

Pure Python with no pytest dependency, so that tools (and WA users' scripts)
can load and check an agenda on their own.
"""

from __future__ import annotations

import gc
from typing import Any

from .expand import Catalog, build_agenda
from .includes import load_with_includes
from .order import order_jobs
from .spec import Agenda, Job, JobSpec, RunSettings
from .userconfig import user_config_path

#: ``load_agenda``'s default: read the user's WA3 config.yaml if there is one.
FIND_USER_CONFIG = "find"


def load_agenda(path: str, catalog: Catalog, user_config: str | None = FIND_USER_CONFIG
                ) -> Agenda:
    """Load, validate and expand the agenda at ``path``; raises AgendaError.

    WA3's user configuration (userconfig.py) is read first, as WA3 reads it;
    ``user_config`` names another file, or None for none.

    The cyclic garbage collector is paused meanwhile: loading allocates hundreds
    of thousands of small containers that all stay alive until it returns, so
    every collection would be wasted work (~40% of a 10,000-job load).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        data, files = load_with_includes(path)
        config_files = _config_files(user_config)
        return build_agenda(data, path, [*files, *_included(config_files)], catalog,
                            [(file, data) for file, data, _ in config_files])
    finally:
        if was_enabled:
            gc.enable()


def _config_files(user_config: str | None) -> list[tuple[str, Any, list[str]]]:
    """(path, data, files it includes) of each config file read before the agenda."""
    path = user_config_path() if user_config == FIND_USER_CONFIG else user_config
    if path is None:
        return []
    data, files = load_with_includes(path)
    return [(path, data, files)]


def _included(config_files: list[tuple[str, Any, list[str]]]) -> list[str]:
    return [file for _, _, files in config_files for file in files]


__all__ = ["Agenda", "Catalog", "Job", "JobSpec", "RunSettings", "load_agenda", "order_jobs"]
