"""Turn an agenda's raw data into job specs, exactly as WA3 names and merges them.

WA3 rules kept here: auto ids ``wk1``/``s1``... count only entries without an
explicit id and skip ids already taken; global workloads come before a
section's own; config < global < section < workload for every setting
(mappings merge, scalars override); sections with a ``group`` form a cross
product whose ids join into the job id and whose group names become
classifiers; the label defaults to the workload name as written.

Deliberate difference from WA3: a grouped section's own ``workloads`` run in
every combination that section is part of (WA3 3.3.1 attaches them only to the
last copy of the section it creates, which looks like an accident).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import AgendaError, Location, close_matches
from ..parameters import Parameter, resolve_parameters, shown, type_name
from .entries import (
    MAPPING_FIELDS,
    SPEC_FIELDS,
    Entry,
    ProblemList,
    Toggle,
    item_location,
    key_location,
    read_id,
    read_spec_fields,
    unknown_key_message,
)
from .settings import RUN_SETTING_NAMES, read_run_settings
from .spec import Agenda, JobSpec
from .yamlsource import LocatedDict, merge_values

TOP_LEVEL_KEYS = ["config", "global", "sections", "workloads"]
SECTION_KEYS = ("id", "group", "workloads", "params")
MAX_JOBS = 200_000
MAX_SECTION_NODES = 10_000


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


@dataclass
class _Section:
    entry: Entry | None
    children: list[_Section] = field(default_factory=list)
    workloads: list[Entry] = field(default_factory=list)

    @property
    def group(self) -> str | None:
        return self.entry.group if self.entry else None


def build_agenda(data: Any, path: str, files: Sequence[str], catalog: Catalog) -> Agenda:
    """Validate ``data`` (loaded from ``path``) and expand it into an Agenda.

    Every problem found is reported at once, in file and line order: entries with
    problems of their own are still expanded as far as they can be, so that an
    unknown workload or parameter elsewhere in the file is reported in the same run.
    """
    problems = ProblemList()
    top = Location(path, 1)
    if not isinstance(data, dict):
        problems.add(top, "", "an agenda must be a mapping with 'workloads' and/or 'sections' "
                              f"at its top level, got {type_name(data)} {shown(data)}")
        raise AgendaError(problems.items)
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            problems.add(key_location(data, key, top), str(key),
                         unknown_key_message(key, TOP_LEVEL_KEYS))
    configs, settings, plugin_configs = _read_config(data, path, catalog, problems)
    workloads, sections = _read_entries(data, path, problems)
    if not problems and not workloads and not any(s.workloads for s in sections):
        problems.add(key_location(data, "workloads", top), "workloads",
                     "the agenda has no workloads to run; list at least one under 'workloads' "
                     "(or a section's 'workloads')")
    specs = _expand(configs, workloads, sections, plugin_configs, catalog, path, problems)
    if problems:
        raise AgendaError(sorted(problems.items, key=lambda p: (p.location.path != path,
                                                                p.location.path,
                                                                p.location.line)))
    explicit = frozenset(name for config in configs for name in config.fields)
    return Agenda(path, settings.value, tuple(specs), plugin_configs, tuple(files),
                  explicit | settings.explicit)


def _read_config(data: dict, path: str, catalog: Catalog, problems: ProblemList
                 ) -> tuple[list[Entry], Any, dict[str, dict[str, Any]]]:
    """The ``config`` and ``global`` entries (WA3 applies both, in that order)."""
    configs: list[Entry] = []
    raw_settings: dict[str, tuple[Any, Location, str]] = {}
    plugin_configs: dict[str, dict[str, Any]] = {}
    for name in ("config", "global"):
        if name not in data or data[name] is None:
            continue
        raw = data[name]
        where = key_location(data, name, Location(path, 1))
        if not isinstance(raw, dict):
            problems.add(where, name, f"must be a mapping, got {type_name(raw)} {shown(raw)}")
            continue
        config = Entry("config", name, getattr(raw, "location", where))
        configs.append(config)
        leftovers = read_spec_fields(raw, config, problems, extra=("id",))
        if "id" in raw:
            problems.add(key_location(raw, "id", where), f"{name}.id",
                         "'id' cannot be set globally")
        for key, value in leftovers.items():
            key_where = key_location(raw, key, where)
            if key in RUN_SETTING_NAMES:
                raw_settings[key] = (value, key_where, f"{name}.{key}")
            elif isinstance(key, str) and _plugin_known(key, catalog):
                _read_plugin_config(_canonical_name(key, catalog), value, key_where,
                                    f"{name}.{key}", plugin_configs, problems)
            else:
                known = [*RUN_SETTING_NAMES, *SPEC_FIELDS, *catalog.workload_names(),
                         *catalog.instrument_names()]
                problems.add(key_where, f"{name}.{key}", unknown_key_message(key, known)
                             .replace("Allowed here:", "Allowed here: run settings, job "
                                      "settings and plugin names, i.e."))
    settings = read_run_settings(raw_settings, problems)
    _check_instrument_configs(plugin_configs, catalog, problems)
    return configs, settings, plugin_configs


def _plugin_known(name: str, catalog: Catalog) -> bool:
    return catalog.workload(name) is not None or catalog.instrument(name) is not None


def _canonical_name(name: str, catalog: Catalog) -> str:
    """Plugin configs are keyed by the plugin's own name, whichever alias was written."""
    plugin = catalog.workload(name) or catalog.instrument(name)
    return plugin.name if plugin is not None else name


def _check_instrument_configs(plugin_configs: dict[str, dict[str, Any]], catalog: Catalog,
                              problems: ProblemList) -> None:
    """Validate instrument parameters now (workload ones are checked per spec)."""
    for name, config in plugin_configs.items():
        instrument = catalog.instrument(name)
        if instrument is None or catalog.workload(name) is not None:
            continue
        _, found = resolve_parameters(instrument.parameters, dict(config))
        where = getattr(config, "location", Location(""))
        for key, message in found:
            problems.add(key_location(config, key, where), f"config.{name}.{key}",
                         f"instrument {name!r}: {message}")


def _read_plugin_config(name: str, value: Any, where: Location, path: str,
                        configs: dict[str, dict[str, Any]], problems: ProblemList) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.add(where, path, f"configuration for plugin {name!r} must be a mapping of its "
                                  f"parameters, got {type_name(value)} {shown(value)}")
        return
    configs[name] = merge_values(configs.get(name), value)  # global's keys win over config's


def _read_entries(data: dict, path: str, problems: ProblemList
                  ) -> tuple[list[Entry], list[Entry]]:
    top = Location(path, 1)
    raw_workloads = _list_value(data, "workloads", top, problems)
    raw_sections = _list_value(data, "sections", top, problems)
    workload_ids: set[str] = set()
    section_ids: set[str] = set()
    workloads = [_read_workload(raw, "workloads", i, raw_workloads, top, problems, workload_ids)
                 for i, raw in enumerate(raw_workloads)]
    sections = []
    for index, raw in enumerate(raw_sections):
        where = item_location(raw_sections, index, top)
        section = _read_section(raw, f"sections[{index}]", where, problems, section_ids,
                                workload_ids)
        if section is not None:
            sections.append(section)
    _assign_auto_ids([w for w in workloads if w] + [w for s in sections for w in s.workloads],
                     "wk", workload_ids)
    _assign_auto_ids(sections, "s", section_ids)
    return [w for w in workloads if w], sections


def _list_value(data: dict, key: str, top: Location, problems: ProblemList) -> list:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(key_location(data, key, top), key, f"must be a list, got "
                                                        f"{type_name(value)} {shown(value)}")
        return []
    return value


def _read_workload(raw: Any, parent: str, index: int, container: list, top: Location,
                   problems: ProblemList, seen: set[str]) -> Entry | None:
    where = item_location(container, index, top)
    entry = Entry("workload", f"{parent}[{index}]", where)
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):
        problems.add(where, entry.key_path, f"a workload entry must be a workload name or a "
                                            f"mapping, got {type_name(raw)} {shown(raw)}")
        return None
    entry.location = getattr(raw, "location", where)
    read_id(raw, entry, problems, seen)
    leftovers = read_spec_fields(raw, entry, problems, extra=("id",))
    for key in leftovers:
        problems.add(key_location(raw, key, where), f"{entry.key_path}.{key}",
                     unknown_key_message(key, ["id", *_all_aliases()]))
    if "workload_name" not in entry.fields and not _has_problem_at(problems, entry):
        problems.add(entry.location, entry.key_path, "no workload name: give 'name' (or "
                                                     "'workload_name')")
    return entry


def _has_problem_at(problems: ProblemList, entry: Entry) -> bool:
    return any(p.key.startswith(entry.key_path + ".workload_name") or
               p.key.startswith(entry.key_path + ".name") for p in problems.items)


def _all_aliases() -> list[str]:
    return [alias for name, aliases in SPEC_FIELDS.items() for alias in (name, *aliases)]


def _read_section(raw: Any, key_path: str, where: Location, problems: ProblemList,
                  section_ids: set[str], workload_ids: set[str]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.add(where, key_path, f"a section must be a mapping, got {type_name(raw)} "
                                      f"{shown(raw)}")
        return None
    entry = Entry("section", key_path, getattr(raw, "location", where))
    read_id(raw, entry, problems, section_ids)
    if "params" in raw:  # WA3: a section's "params" are runtime parameters
        if "runtime_params" in raw or "runtime_parameters" in raw:
            problems.add(key_location(raw, "params", where), f"{key_path}.params",
                         "both 'params' and 'runtime_params' are given; in a section both mean "
                         "runtime parameters, give one")
        raw = _renamed_key(raw, "params", "runtime_parameters", entry.location)
    if "group" in raw:
        group = raw["group"]
        if not isinstance(group, str | int) or isinstance(group, bool):
            problems.add(key_location(raw, "group", where), f"{key_path}.group",
                         f"a group must be a name, got {group!r}")
        else:
            entry.group = str(group)
    leftovers = read_spec_fields(raw, entry, problems, extra=SECTION_KEYS)
    for key in leftovers:
        problems.add(key_location(raw, key, where), f"{key_path}.{key}",
                     unknown_key_message(key, [*SECTION_KEYS[:3], *_all_aliases()]))
    if "workload_name" in entry.fields:
        entry.fields.pop("workload_name")
        problems.add(entry.where("workload_name"), entry.path_of("workload_name"),
                     "a section cannot name a workload; list it under the section's "
                     "'workloads'")
    own = _list_value(raw, "workloads", entry.location, problems)
    entry.workloads = [w for i, item in enumerate(own)
                       if (w := _read_workload(item, f"{key_path}.workloads", i, own,
                                               entry.location, problems, workload_ids))]
    return entry


def _renamed_key(raw: dict, old: str, new: str, where: Location) -> LocatedDict:
    """A copy of ``raw`` with key ``old`` renamed to ``new``, locations kept."""
    renamed = LocatedDict(getattr(raw, "location", where))
    for key, value in raw.items():
        target = new if key == old else key
        renamed[target] = value
        renamed.key_lines[target] = key_location(raw, key, where)
    return renamed


def _assign_auto_ids(entries: list[Entry], prefix: str, taken: set[str]) -> None:
    counter = itertools.count(1)
    for entry in entries:
        if entry.id is not None:
            continue
        candidate = f"{prefix}{next(counter)}"
        while candidate in taken:
            candidate = f"{prefix}{next(counter)}"
        taken.add(candidate)
        entry.id = candidate


def _section_tree(sections: list[Entry], workloads: list[Entry], path: str,
                  problems: ProblemList) -> _Section:
    root = _Section(None, workloads=workloads)
    nodes = 1
    for section in sections:
        added = _add_section(root, section)
        nodes += len(added)
        if nodes > MAX_SECTION_NODES:
            problems.add(section.location, section.key_path, "section groups multiply into "
                         f"more than {MAX_SECTION_NODES:,} combinations; refusing to expand")
            break
        for node in added:
            node.workloads = section.workloads
    return root


def _add_section(node: _Section, section: Entry) -> list[_Section]:
    """WA3's grouping: same group -> sibling; a new group nests under every leaf."""
    if not node.children or node.children[0].group == section.group:
        child = _Section(section)
        node.children.append(child)
        return [child]
    return [new for child in node.children for new in _add_section(child, section)]


def _leaf_chains(node: _Section, chain: tuple[_Section, ...] = ()):
    chain = (*chain, node)
    if not node.children:
        yield chain
    for child in node.children:
        yield from _leaf_chains(child, chain)


def _expand(configs: list[Entry], workloads: list[Entry], sections: list[Entry],
            plugin_configs: dict[str, dict[str, Any]], catalog: Catalog, path: str,
            problems: ProblemList) -> list[JobSpec]:
    root = _section_tree(sections, workloads, path, problems)
    specs: list[JobSpec] = []
    jobs = 0
    for entry in (*configs, *sections):
        _check_toggles(entry, catalog, problems)
    for chain in _leaf_chains(root):
        section_entries = [node.entry for node in chain if node.entry is not None]
        for node in chain:
            for workload in node.workloads:
                spec = _make_spec(configs, section_entries, workload, plugin_configs, catalog,
                                  path, problems)
                if spec is None:
                    continue
                jobs += spec.iterations
                if jobs > MAX_JOBS:
                    problems.add(spec.location, workload.key_path, f"the agenda expands to "
                                 f"more than {MAX_JOBS:,} jobs; split it into smaller agendas")
                    return specs
                specs.append(spec)
    return specs


def _check_toggles(entry: Entry, catalog: Catalog, problems: ProblemList) -> None:
    for toggle in entry.toggles:
        if catalog.instrument(toggle.name) is None:
            problems.add(toggle.location, f"{entry.key_path}.augmentations",
                         f"unknown instrument {toggle.name!r}."
                         f"{close_matches(toggle.name, catalog.instrument_names())} "
                         f"Installed: {', '.join(catalog.instrument_names()) or 'none'}.")


# Runtime parameters whose values are mappings that WA3 merges key by key across
# config < sections < workload, instead of the later one replacing the earlier.
NESTED_MERGED = ("sysfile_values", "gov_tunables")


def _merged(sources: list[Entry], name: str) -> tuple[Any, Location | None]:
    """The value of one spec field after config < sections < workload merging.

    A merged mapping remembers, for each key, the line it came from, so that
    a problem found later (on the device, say) still points at that line.
    """
    value: Any = None
    where: Location | None = None
    for source in sources:
        if name not in source.fields:
            continue
        new = source.fields[name]
        if name in MAPPING_FIELDS and name != "boot_parameters" and isinstance(value, dict) \
                and isinstance(new, dict):
            value = _merge_located(value, new, nested=name == "runtime_parameters")
        else:
            value = new
        where = source.where(name)
    return value, where


def _merge_located(base: dict[str, Any], override: dict[str, Any], *, nested: bool
                   ) -> dict[str, Any]:
    """``{**base, **override}``, keeping each key's location (and merging NESTED_MERGED)."""
    location = getattr(override, "location", None) or getattr(base, "location", None)
    merged: dict[str, Any] = LocatedDict(location) if location is not None else {}
    for mapping in (base, override):
        for key, item in mapping.items():
            if nested and key in NESTED_MERGED and isinstance(merged.get(key), dict) \
                    and isinstance(item, dict):
                item = _merge_located(merged[key], item, nested=False)
            merged[key] = item
            if isinstance(merged, LocatedDict) and isinstance(mapping, LocatedDict):
                merged.key_lines[key] = mapping.key_location(key)
    return merged


def _classifiers(configs: list[Entry], sections: list[Entry], workload: Entry
                 ) -> dict[str, Any]:
    """WA3's order: each section's group classifier is set right after its own classifiers."""
    classifiers: dict[str, Any] = {}
    for source in (*configs, *sections, workload):
        classifiers.update(source.fields.get("classifiers") or {})
        if source.kind == "section" and source.group is not None:
            classifiers[source.group] = source.id
    return classifiers


def _make_spec(configs: list[Entry], sections: list[Entry], workload: Entry,
               plugin_configs: dict[str, dict[str, Any]], catalog: Catalog, path: str,
               problems: ProblemList) -> JobSpec | None:
    sources = [*configs, *sections, workload]
    _check_toggles(workload, catalog, problems)
    name, _ = _merged(sources, "workload_name")
    plugin = catalog.workload(name) if name else None
    if plugin is None:
        if name:
            names = catalog.workload_names()
            problems.add(workload.where("workload_name"), workload.path_of("workload_name"),
                         f"unknown workload {name!r}.{close_matches(name, names)}"
                         f" Installed: {', '.join(names)}.")
        return None
    parameters = _workload_parameters(sources, plugin, plugin_configs, workload, problems)
    label, _ = _merged(sources, "label")
    iterations, _ = _merged(sources, "iterations")
    assert workload.id is not None
    section_ids = tuple(str(s.id) for s in sections)
    return JobSpec(
        id="-".join((*section_ids, workload.id)),
        workload_id=workload.id,
        section_ids=section_ids,
        workload_name=plugin.name,
        label=label or name,
        iterations=iterations or 1,
        workload_parameters=parameters,
        runtime_parameters=_merge_located({}, _merged(sources, "runtime_parameters")[0] or {},
                                          nested=False),
        boot_parameters=dict(_merged(sources, "boot_parameters")[0] or {}),
        classifiers=_classifiers(configs, sections, workload),
        flash=dict(_merged(sources, "flash")[0] or {}),
        augmentations=_merge_toggles(sources),
        location=workload.location,
        agenda=path,
    )


def _workload_parameters(sources: list[Entry], plugin: PluginInfo,
                         plugin_configs: dict[str, dict[str, Any]], workload: Entry,
                         problems: ProblemList) -> dict[str, Any]:
    given: dict[str, Any] = {}
    where: dict[str, tuple[Location, str]] = {}
    layers: list[tuple[Any, Location, str]] = []
    if plugin.name in plugin_configs:
        layer = plugin_configs[plugin.name]
        layers.append((layer, getattr(layer, "location", workload.location),
                       f"config.{plugin.name}"))
    for source in sources:
        if "workload_parameters" in source.fields:
            layers.append((source.fields["workload_parameters"],
                           source.where("workload_parameters"),
                           source.path_of("workload_parameters")))
    for layer, layer_where, layer_path in layers:
        for key, value in layer.items():
            given[key] = value
            where[key] = (key_location(layer, key, layer_where), f"{layer_path}.{key}")
    values, found = resolve_parameters(plugin.parameters, given)
    default = (workload.location, workload.path_of("workload_parameters"))
    for key, message in found:
        location, key_path = where.get(key, (default[0], f"{default[1]}.{key}"))
        problems.add(location, key_path, f"workload {plugin.name!r}: {message}")
    if not found:
        _validate_workload(plugin, values, workload, problems)
    return values


def _validate_workload(plugin: PluginInfo, values: dict[str, Any], workload: Entry,
                       problems: ProblemList) -> None:
    """Run the workload's own ``validate`` now, so combinations fail at collection."""
    try:
        instance = plugin(source_directory=os.path.dirname(workload.location.path), **values)
        instance.validate()
    except Exception as exc:  # third-party validate() may raise anything; report it located
        problems.add(workload.location, workload.key_path, f"workload {plugin.name!r}: {exc}")


def _merge_toggles(sources: list[Entry]) -> tuple[str, ...]:
    enabled: dict[str, bool] = {}
    for source in sources:
        if source.clears_toggles:
            enabled.clear()
        for toggle in source.toggles:
            enabled[toggle.name] = toggle.enabled
    return tuple(name for name, on in enabled.items() if on)


__all__ = ["Catalog", "PluginInfo", "Toggle", "build_agenda"]
