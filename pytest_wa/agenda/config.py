"""The agenda's ``config`` and ``global`` entries (WA3 applies both, in that order).

Each key of either entry is one of three things: a run setting
(``execution_order``...), a job setting every job starts from (``iterations``,
``augmentations``...), or the name of a plugin whose parameters it configures.
Anything else is reported with the names that were meant to be allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..model.errors import Location
from ..model.parameters import resolve_parameters, shown, type_name
from .catalog import Catalog, augmentation, augmentation_names, canonical_name, plugin_known
from .entries import (
    SPEC_FIELDS,
    Entry,
    ProblemList,
    join_key,
    key_location,
    read_spec_fields,
    unknown_key_message,
)
from .located import LocatedDict, merge_values
from .settings import RUN_SETTING_NAMES, ReadSettings, read_run_settings
from .userconfig import AGENDA_ONLY, WA3_META_SETTINGS

CONFIG_ENTRIES = ("config", "global")

#: Plugin name -> its parameters as configured (merged over config and global).
PluginConfigs = dict[str, dict[str, Any]]


#: A config file read before the agenda (WA3's user config.yaml): its path and data.
ConfigFile = tuple[str, Any]


def read_config(data: dict, path: str, catalog: Catalog, problems: ProblemList,
                config_files: Sequence[ConfigFile] = ()) -> ConfigRead:
    """The config entries as job defaults (config files first, then the agenda's config
    and global), the run settings, the plugin configs, and notes for the user."""
    reader = _ConfigReader(catalog, problems)
    for file_path, file_data in config_files:
        reader.read_file(file_path, file_data)
    for name in CONFIG_ENTRIES:
        if name in data and data[name] is not None:
            reader.read(name, data[name], key_location(data, name, Location(path, 1)))
    settings = read_run_settings(reader.raw_settings, problems)
    _check_instrument_configs(reader.plugin_configs, catalog, problems)
    return ConfigRead(reader.configs, settings, reader.plugin_configs, tuple(reader.notes))


@dataclass(frozen=True)
class ConfigRead:
    configs: list[Entry]
    settings: ReadSettings
    plugin_configs: PluginConfigs
    notes: tuple[str, ...]


@dataclass
class _ConfigReader:
    """Sorts the keys of ``config`` and ``global`` into what each configures."""

    catalog: Catalog
    problems: ProblemList
    configs: list[Entry] = field(default_factory=list)
    raw_settings: dict[str, tuple[Any, Location, str]] = field(default_factory=dict)
    plugin_configs: PluginConfigs = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def read_file(self, path: str, data: Any) -> None:
        """A config file: a ``config`` section at its top level, null values unset (WA3)."""
        top = Location(path, 1)
        if data is None:
            return
        if not isinstance(data, dict):
            self.problems.add(top, "", "a WA config file must be a mapping of settings, got "
                                       f"{type_name(data)} {shown(data)}")
            return
        kept = LocatedDict(getattr(data, "location", top))
        for key, value in data.items():
            where = key_location(data, key, top)
            if self._file_key_kept(key, value, where):
                kept[key] = value
                kept.key_lines[key] = where
        self.read("", kept, top)

    def _file_key_kept(self, key: Any, value: Any, where: Location) -> bool:
        if value is None:
            return False
        if key in AGENDA_ONLY:
            self.problems.add(where, str(key), f"{key!r} can only be set in an agenda's "
                                               "config section, not in a config file")
            return False
        if key in WA3_META_SETTINGS:
            self.notes.append(f"{where}: {key}: WA3 setting, not used by pytest-wa")
            return False
        return True

    def read(self, name: str, raw: Any, where: Location) -> None:
        if not isinstance(raw, dict):
            self.problems.add(where, name, f"must be a mapping, got {type_name(raw)} "
                                           f"{shown(raw)}")
            return
        config = Entry("config", name, getattr(raw, "location", where))  # name "": a file
        self.configs.append(config)
        leftovers = read_spec_fields(raw, config, self.problems, extra=("id",))
        if "id" in raw:
            self.problems.add(key_location(raw, "id", where), join_key(name, "id"),
                              "'id' cannot be set globally")
        for key, value in leftovers.items():
            self._place(name, key, value, key_location(raw, key, where))

    def _place(self, name: str, key: Any, value: Any, where: Location) -> None:
        """A key that is no job setting: a run setting, a plugin's config, or a mistake."""
        if key in RUN_SETTING_NAMES:
            self.raw_settings[key] = (value, where, join_key(name, key))
        elif isinstance(key, str) and plugin_known(key, self.catalog):
            _read_plugin_config(canonical_name(key, self.catalog), value, where,
                                join_key(name, key), self.plugin_configs, self.problems)
        else:
            known = [*RUN_SETTING_NAMES, *SPEC_FIELDS, *self.catalog.workload_names(),
                     *augmentation_names(self.catalog)]
            self.problems.add(where, join_key(name, key), unknown_key_message(key, known)
                              .replace("Allowed here:", "Allowed here: run settings, job "
                                       "settings and plugin names, i.e."))


def _read_plugin_config(name: str, value: Any, where: Location, path: str,
                        configs: PluginConfigs, problems: ProblemList) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.add(where, path, f"configuration for plugin {name!r} must be a mapping of its "
                                  f"parameters, got {type_name(value)} {shown(value)}")
        return
    configs[name] = merge_values(configs.get(name), value)  # global's keys win over config's


def _check_instrument_configs(plugin_configs: PluginConfigs, catalog: Catalog,
                              problems: ProblemList) -> None:
    """Validate instrument and output processor parameters now (workload ones are
    checked per spec)."""
    for name, config in plugin_configs.items():
        instrument = augmentation(name, catalog)
        if instrument is None or catalog.workload(name) is not None:
            continue
        kind = getattr(instrument, "kind", "instrument")
        values, found = resolve_parameters(instrument.parameters, dict(config))
        where = getattr(config, "location", Location(""))
        for key, message in found:
            problems.add(key_location(config, key, where), f"config.{name}.{key}",
                         f"{kind} {name!r}: {message}")
        if not found:
            _validate_instrument(instrument, name, values, where, problems)


def _validate_instrument(instrument: Any, name: str, values: dict[str, Any],
                         where: Location, problems: ProblemList) -> None:
    """The plugin's own check of its values together (``validate``), located."""
    kind = getattr(instrument, "kind", "instrument")
    try:
        instrument(**values).validate()
    except (ValueError, TypeError) as exc:
        problems.add(where, f"config.{name}", f"{kind} {name!r}: {exc}")
