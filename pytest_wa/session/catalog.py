"""The catalog of plugins an agenda can name: pytest-wa's own, installed ones, conftest ones."""

from __future__ import annotations

from typing import Any

from ..instruments import builtin_instruments
from ..plugins.registry import Catalog, build_catalog
from ..processors import builtin_output_processors
from ..workloads import builtin_workloads


def session_catalog(hook: Any) -> Catalog:
    """Built-ins, then entry points, then ``hook`` registrations (later ones win);
    ``hook`` is an agenda's hook relay, so conftest files above it apply."""
    return build_catalog(hook, builtin_workloads(), builtin_instruments(),
                         builtin_output_processors())
