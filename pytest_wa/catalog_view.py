"""``--wa-list`` and ``--wa-show``: what workloads and instruments exist, and how to use them."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from .errors import close_matches
from .registry import build_catalog


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def show_devices(config: pytest.Config) -> int:
    """The configured devices (secrets masked) and the inline forms."""
    from .devices import known_devices
    from .errors import ConfigError

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
    catalog = build_catalog(config.hook)
    if listing:
        registry = catalog.workloads if listing == "workloads" else catalog.instruments
        width = max((len(n) for n in registry.names()), default=0)
        classes: list[Any] = registry.classes()
        for cls in classes:
            aliases = f" (alias: {', '.join(cls.aliases)})" if cls.aliases else ""
            print(f"{cls.name.ljust(width)}  {_first_line(cls.description)}{aliases}")
        return 0
    name = config.getoption("wa_show")
    cls = catalog.workload(name) or catalog.instrument(name)
    if cls is None:
        known = catalog.workload_names() + catalog.instrument_names()
        print(f"pytest-wa: no workload or instrument named {name!r}.{close_matches(name, known)}")
        return 4
    kind = "workload" if catalog.workload(name) is cls else "instrument"
    print(f"{cls.name} ({kind})")
    print(textwrap.indent(textwrap.dedent(cls.description).strip(), "  "))
    print("\nparameters:" if cls.parameters else "\nparameters: none")
    for parameter in cls.parameters:
        if parameter.mandatory:
            default = "mandatory"
        elif parameter.has_default:
            default = f"default: {parameter.default!r}"
        else:
            default = "optional"
        allowed = (f"; one of {', '.join(map(repr, parameter.allowed_values))}"
                   if parameter.allowed_values else "")
        print(f"  {parameter.name} ({parameter.kind_name}, {default}{allowed})")
        if parameter.description:
            print(textwrap.indent(textwrap.fill(parameter.description, 72), "      "))
    return 0
