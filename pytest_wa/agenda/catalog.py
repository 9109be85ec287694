"""What expansion needs to know of the installed plugins, as a protocol.

The agenda package stays free of pytest and of the plugin registry: whoever
loads an agenda passes any object with these four methods (the plugin's
registry, or a stub in a script or a test).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ..model.parameters import Parameter


class PluginInfo(Protocol):
    name: str
    parameters: Sequence[Parameter]

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


class Catalog(Protocol):
    """What expansion needs to know of the installed workloads and instruments."""

    def workload(self, name: str) -> PluginInfo | None: ...
    def workload_names(self) -> list[str]: ...
    def instrument(self, name: str) -> PluginInfo | None: ...
    def instrument_names(self) -> list[str]: ...


def plugin_known(name: str, catalog: Catalog) -> bool:
    """Whether ``name`` (or an alias) names an installed workload or instrument."""
    return catalog.workload(name) is not None or catalog.instrument(name) is not None


def canonical_name(name: str, catalog: Catalog) -> str:
    """Plugin configs are keyed by the plugin's own name, whichever alias was written."""
    plugin = catalog.workload(name) or catalog.instrument(name)
    return plugin.name if plugin is not None else name
