"""``--wa-list`` and ``--wa-show``: what workloads, instruments and output processors exist,
and how to use them."""

from __future__ import annotations

import pytest

from ..model.errors import close_matches
from ..plugins.base import describe, first_line
from ..plugins.registry import Catalog
from .catalog import session_catalog


def show_devices(config: pytest.Config) -> int:
    """The configured devices (secrets masked) and the inline forms."""
    from ..devices import known_devices
    from ..model.errors import ConfigError

    try:
        devices = known_devices(config)
    except ConfigError as exc:
        print(f"pytest-wa: {exc}")
        return 4
    width = max((len(n) for n in devices), default=5)
    print(f"{'local'.ljust(width)}  local  this host (the default)")
    for name, entry in devices.items():
        description = entry.settings.get("description") or ""
        print(f"{name.ljust(width)}  {entry.kind.ljust(5)}  {entry.address}"
              + (f"  {description}" if description else "") + f"  ({entry.location})")
    print("inline: local, adb, adb:SERIAL, ssh://user@host:port")
    return 0


def show_catalog(config: pytest.Config) -> int:
    listing = config.getoption("wa_list")
    if listing == "devices":
        return show_devices(config)
    catalog = session_catalog(config.hook)
    if listing:
        registry = {"workloads": catalog.workloads, "instruments": catalog.instruments,
                    "output_processors": catalog.processors}[listing]
        width = max((len(n) for n in registry.names()), default=0)
        for cls in registry.classes():
            aliases = getattr(cls, "aliases", ())
            also = f" (alias: {', '.join(aliases)})" if aliases else ""
            print(f"{getattr(cls, 'name', '').ljust(width)}  "
                  f"{first_line(getattr(cls, 'description', ''))}{also}")
        return 0
    return show_plugin(catalog, config.getoption("wa_show"))


def show_plugin(catalog: Catalog, name: str) -> int:
    """``--wa-show NAME``: a workload's, instrument's or output processor's description
    and parameters."""
    cls = catalog.workload(name) or catalog.instrument(name) or catalog.processor(name)
    if cls is None:
        known = catalog.workload_names() + catalog.instrument_names() + catalog.processor_names()
        print(f"pytest-wa: no workload, instrument or output processor named {name!r}."
              f"{close_matches(name, known)}")
        return 4
    kind = "workload" if catalog.workload(name) is cls else getattr(cls, "kind", "instrument")
    print(describe(cls, kind))
    return 0
