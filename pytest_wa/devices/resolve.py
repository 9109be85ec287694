"""Finding the device ``--wa-device`` names: config files first, then inline forms."""

from __future__ import annotations

import os

import pytest

from ..model.errors import ConfigError, Problem, close_matches
from .configfile import load_device_file, load_pool_file
from .entry import DeviceEntry
from .inline import parse_inline

_DEVICES_KEY = pytest.StashKey[dict[str, DeviceEntry]]()
_POOLS_KEY = pytest.StashKey[dict[str, list[str]]]()


def config_files(config: pytest.Config) -> list[str]:
    """``--wa-config`` files, after the ini's ``wa_config`` ones (relative to the ini file)."""
    paths: list[str] = []
    base = str(config.inipath.parent) if config.inipath else str(config.rootpath)
    for value in config.getini("wa_config") or []:
        paths.append(os.path.join(base, os.path.expanduser(str(value))))
    paths.extend(os.path.expanduser(p) for p in config.getoption("wa_config") or [])
    return paths


def known_devices(config: pytest.Config) -> dict[str, DeviceEntry]:
    """Every configured device by name; a later file's device replaces an earlier one's."""
    if _DEVICES_KEY not in config.stash:
        devices: dict[str, DeviceEntry] = {}
        for path in config_files(config):
            if not os.path.isfile(path):
                raise ConfigError(f"{path}: device config file not found (--wa-config)")
            devices.update(load_device_file(path))
        config.stash[_DEVICES_KEY] = devices
    return config.stash[_DEVICES_KEY]


def resolve_device(config: pytest.Config, name: str) -> DeviceEntry:
    """The device called ``name``; a ConfigError that says what exists otherwise."""
    devices = known_devices(config)
    if name in devices:
        return devices[name]
    from .wa3 import agenda_device_named

    named_by_agenda = agenda_device_named(config, name)
    if named_by_agenda is not None:
        return named_by_agenda
    inline = parse_inline(name)
    if inline is not None:
        return inline
    names = sorted(devices)
    listed = ", ".join(names) if names else "none (no --wa-config file defines any)"
    raise ConfigError(f"unknown device {name!r}.{close_matches(name, names)} Configured "
                      f"devices: {listed}. Inline forms: local, adb:SERIAL, "
                      "ssh://user@host:port.")


def known_pools(config: pytest.Config) -> dict[str, list[str]]:
    """Every ``pools:`` entry by name (a later file's pool wins), members checked."""
    if _POOLS_KEY not in config.stash:
        devices = known_devices(config)
        pools: dict[str, list[str]] = {}
        problems: list[Problem] = []
        for path in config_files(config):
            for name, members in load_pool_file(path).items():
                for member, where in members:
                    if member not in devices and parse_inline(member) is None:
                        problems.append(Problem(
                            where, f"pools.{name}", f"unknown device {member!r}."
                            f"{close_matches(member, sorted(devices))} Configured devices: "
                            f"{', '.join(sorted(devices)) or 'none'}"))
                pools[name] = [member for member, _ in members]
        if problems:
            raise ConfigError(problems)
        config.stash[_POOLS_KEY] = pools
    return config.stash[_POOLS_KEY]
