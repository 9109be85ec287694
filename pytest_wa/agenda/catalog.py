"""What expansion needs to know of the installed plugins, as a protocol.

The agenda package stays free of pytest and of the plugin registry: whoever
loads an agenda passes any object with these four methods (the plugin's
registry, or a stub in a script or a test). Instruments and output processors
share one namespace (``augmentations``), as in WA3.
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
    def processor(self, name: str) -> PluginInfo | None: ...
    def processor_names(self) -> list[str]: ...


def plugin_known(name: str, catalog: Catalog) -> bool:
    """Whether ``name`` (or an alias) names an installed workload, instrument or output
    processor."""
    return (catalog.workload(name) is not None or augmentation(name, catalog) is not None)


def augmentation(name: str, catalog: Catalog) -> PluginInfo | None:
    """The instrument or output processor ``name`` enables in ``augmentations``."""
    return catalog.instrument(name) or catalog.processor(name)


def augmentation_names(catalog: Catalog) -> list[str]:
    return sorted({*catalog.instrument_names(), *catalog.processor_names()})


def canonical_name(name: str, catalog: Catalog) -> str:
    """Plugin configs are keyed by the plugin's own name, whichever alias was written."""
    plugin = catalog.workload(name) or augmentation(name, catalog)
    return plugin.name if plugin is not None else name
