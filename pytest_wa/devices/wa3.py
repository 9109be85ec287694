"""WA3's device settings, as agendas and config files write them, made a device.

A WA3 agenda (or WA3's user config.yaml) says ``device: generic_android`` with
``device_config: {device: SERIAL}``, ``device: generic_linux`` with ``host``,
``username``, ``password``/``keyfile`` and ``port``, or ``generic_local``. The run
goes to that device unless ``--wa-device`` names another (with a notice).
WA3's other device types (development boards with their own platform code,
gem5, Chrome OS) have no pytest-wa target: naming one is an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from ..agenda.spec import Agenda
from ..model.errors import ConfigError, Location, Problem, close_matches
from .configfile import settings_entry
from .entry import DeviceEntry

#: WA3's device types that pytest-wa runs, as device kinds.
WA3_DEVICE_KINDS = {"generic_android": "adb", "generic_linux": "ssh", "generic_local": "local",
                    "android": "adb", "linux": "ssh", "local": "local"}

_AGENDA_DEVICE = pytest.StashKey[DeviceEntry]()


def agenda_device(device: str | None, device_config: Mapping[str, Any],
                  locations: Mapping[str, Location]) -> DeviceEntry | None:
    """The device an agenda's ``device``/``device_config`` settings name, if any;
    ConfigError at the line of the setting that cannot work."""
    if not device:
        return None
    where = locations.get("device", Location(""))
    kind = WA3_DEVICE_KINDS.get(device)
    if kind is None:
        raise ConfigError(Problem(where, "device", f"WA3 device type {device!r} is not "
                          f"supported.{close_matches(device, WA3_DEVICE_KINDS)} pytest-wa runs "
                          "generic_android (adb), generic_linux (ssh) and generic_local (this "
                          "host); name one of those, or a device with --wa-device"))
    config_where = locations.get("device_config", where)
    problems: list[Problem] = []
    entry = settings_entry(device, kind, dict(device_config),
                           dict.fromkeys(device_config, config_where), "device_config",
                           where, problems)
    if entry is None:
        raise ConfigError(problems)
    unused = sorted(key for key in device_config if key not in entry.settings)
    note = (f"{config_where}: device_config: WA3 settings not used by pytest-wa: "
            f"{', '.join(unused)}",) if unused else ()
    return dataclasses.replace(entry, notes=note)


def check_agenda_device(agenda: Agenda) -> None:
    """At collection: an agenda whose WA3 device settings cannot work is an error there."""
    agenda_device(agenda.settings.device, agenda.settings.device_config,
                  agenda.setting_locations)


def use_agenda_device(config: pytest.Config, entry: DeviceEntry) -> None:
    """Make the agenda's device the one ``resolve_device`` finds by its name."""
    config.stash[_AGENDA_DEVICE] = entry


def agenda_device_named(config: pytest.Config, name: str) -> DeviceEntry | None:
    entry = config.stash.get(_AGENDA_DEVICE, None)
    return entry if entry is not None and entry.name == name else None
