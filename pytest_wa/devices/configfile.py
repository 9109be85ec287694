"""Reading ``devices:`` from device config files, with every problem located.

A config file is YAML::

    devices:
      pixel: {kind: adb, device: 1A2B3C4D, adb_as_root: true}
      rpi4:
        kind: ssh
        host: 192.168.1.20
        username: pi
        keyfile: ~/.ssh/id_ed25519

A WA3 ``device_config`` mapping may be pasted under a device as it is; its
keys are merged with the device's own (the device's win).

A ``pools:`` mapping names lists of devices for pytest-xdist runs
(``--wa-device=lab -n auto``)::

    pools:
      lab: [pixel, rpi4]
"""

from __future__ import annotations

from typing import Any

from ..agenda.yamlsource import LocatedDict, LocatedList, load_yaml_file
from ..model.errors import AgendaError, ConfigError, Location, Problem, close_matches
from ..model.parameters import resolve_parameters
from .entry import DeviceEntry
from .settings import BY_KIND, KIND_ALIASES, WA3_IGNORED, WA3_IGNORED_BY_KIND

TOP_LEVEL_KEYS = ("devices", "pools")

#: A pool member and where the file names it (for errors about unknown devices).
PoolMember = tuple[str, Location]


def load_device_file(path: str) -> dict[str, DeviceEntry]:
    """The devices a config file defines; ConfigError listing every problem in it."""
    try:
        data = load_yaml_file(path)
    except AgendaError as exc:  # the YAML layer reports for agendas; same problems
        raise ConfigError(exc.problems) from None
    top = Location(path, 1)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(Problem(top, "", "a device config file must be a mapping with a "
                                           "'devices' key"))
    problems: list[Problem] = []
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.append(Problem(_key_location(data, key, top), str(key),
                                    f"unknown key.{close_matches(key, TOP_LEVEL_KEYS)} "
                                    "A device config file has a 'devices' mapping "
                                    "and maybe a 'pools' one."))
    devices = data.get("devices") or {}
    entries: dict[str, DeviceEntry] = {}
    if not isinstance(devices, dict):
        problems.append(Problem(_key_location(data, "devices", top), "devices",
                                "expected a mapping of device names to their settings"))
        devices = {}
    for name, body in devices.items():
        where = _key_location(devices, name, top)
        entry = _device_entry(str(name), body, where, problems)
        if entry is not None:
            entries[str(name)] = entry
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.location.line))
    return entries


def load_pool_file(path: str) -> dict[str, list[PoolMember]]:
    """The ``pools:`` a config file defines: name -> members with their locations.

    Only the shape is checked here; whether each member names a device needs
    every config file (a pool may use a device another file defines).
    """
    data = load_yaml_file(path)
    top = Location(path, 1)
    if not isinstance(data, dict) or not data.get("pools"):
        return {}
    pools = data["pools"]
    if not isinstance(pools, dict):
        raise ConfigError(Problem(_key_location(data, "pools", top), "pools",
                                  "expected a mapping of pool names to lists of devices"))
    problems: list[Problem] = []
    found: dict[str, list[PoolMember]] = {}
    for name, members in pools.items():
        where = _key_location(pools, name, top)
        if not isinstance(members, list) or not members:
            problems.append(Problem(where, f"pools.{name}", "expected a non-empty list of "
                                                           "device names"))
            continue
        found[str(name)] = [(str(member), _item_location(members, index, where))
                            for index, member in enumerate(members)]
    if problems:
        raise ConfigError(problems)
    return found


def _item_location(items: Any, index: int, default: Location) -> Location:
    if isinstance(items, LocatedList):
        return items.item_location(index)
    return default


def _key_location(mapping: Any, key: Any, default: Location) -> Location:
    if isinstance(mapping, LocatedDict):
        return mapping.key_location(key)
    return default


def _device_entry(name: str, body: Any, where: Location,
                  problems: list[Problem]) -> DeviceEntry | None:
    """The device ``name`` defines, or None once its problems are added to ``problems``."""
    key = f"devices.{name}"
    if not name or any(c in name for c in "/:[] \t") or name in KIND_ALIASES:
        problems.append(Problem(where, key, "device names are words without '/', ':', spaces "
                                            "or brackets, and not a kind (local, ssh, adb)"))
        return None
    if not isinstance(body, dict):
        problems.append(Problem(where, key, "expected a mapping with 'kind' and the "
                                            "connection settings"))
        return None
    merged, locations = _with_pasted_device_config(body, key, where, problems)
    kind = _device_kind(merged.pop("kind", None), locations.get("kind", where), key, where,
                        problems)
    if kind is None:
        return None
    return settings_entry(name, kind, merged, locations, key, where, problems)


def settings_entry(name: str, kind: str, merged: dict[str, Any],
                   locations: dict[str, Location], key: str, where: Location,
                   problems: list[Problem]) -> DeviceEntry | None:
    """A device of ``kind`` from its settings (WA3's names accepted); None once its
    problems are added to ``problems``. WA3-only settings become notes."""
    ignored = WA3_IGNORED | WA3_IGNORED_BY_KIND.get(kind, frozenset())
    notes = tuple(f"{locations.get(k, where)}: {key}.{k}: WA3 setting, not used by pytest-wa"
                  for k in merged if k in ignored)
    given = {k: v for k, v in merged.items() if k not in ignored}
    settings, found = resolve_parameters(BY_KIND[kind], given)
    for parameter, message in found:
        problems.append(Problem(locations.get(parameter, where), f"{key}.{parameter}",
                                f"{message} (device kind {kind})"))
    if found:
        return None
    return DeviceEntry(name, kind, settings, where, notes)


def _with_pasted_device_config(body: dict, key: str, where: Location, problems: list[Problem]
                               ) -> tuple[dict[str, Any], dict[str, Location]]:
    """The device's settings over a pasted WA3 ``device_config``, and where each was written."""
    values = dict(body)
    pasted = values.pop("device_config", None) or {}
    if not isinstance(pasted, dict):
        problems.append(Problem(_key_location(body, "device_config", where),
                                f"{key}.device_config", "expected a mapping"))
        pasted = {}
    locations = {k: _key_location(pasted, k, where) for k in pasted}
    locations.update({k: _key_location(body, k, where) for k in values})
    return {**pasted, **values}, locations


def _device_kind(kind_word: Any, kind_where: Location, key: str, where: Location,
                 problems: list[Problem]) -> str | None:
    """The kind ``kind_word`` names (an alias is accepted); None when missing or unknown."""
    if kind_word is None:
        problems.append(Problem(where, key, "'kind' is missing: local, ssh or adb"))
        return None
    kind = KIND_ALIASES.get(str(kind_word).lower())
    if kind is None:
        problems.append(Problem(kind_where, f"{key}.kind",
                                f"unknown kind {kind_word!r}."
                                f"{close_matches(kind_word, KIND_ALIASES)} "
                                "Choose local, ssh or adb."))
    return kind
