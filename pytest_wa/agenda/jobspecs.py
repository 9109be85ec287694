"""Job specs: every workload entry in every section combination, its settings merged.

A spec's id joins its sections' ids and its workload's id (WA3's job id); its
label defaults to the workload name as written. Workload parameters are
checked against the workload's declared parameters, then the workload's own
``validate`` runs, so a bad combination fails at collection, located at the
workload entry, instead of on the device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..model.errors import Location, close_matches
from ..model.parameters import resolve_parameters
from .autoiter import AUTO_FIELDS
from .catalog import Catalog, PluginInfo, augmentation, augmentation_names
from .config import PluginConfigs
from .entries import Entry, ProblemList, key_location
from .groups import SectionNode, leaf_chains
from .merging import (
    merge_located,
    merged_classifiers,
    merged_field,
    merged_mapping,
    merged_toggles,
)
from .spec import AUTO, AutoIterations, JobSpec

MAX_JOBS = 200_000


def expand_specs(tree: SectionNode, configs: list[Entry], sections: list[Entry],
                 plugin_configs: PluginConfigs, catalog: Catalog, path: str,
                 problems: ProblemList) -> list[JobSpec]:
    """The specs of every workload under every combination in ``tree``, in agenda order.

    Stops (with a problem) once the specs add up to more than MAX_JOBS jobs.
    """
    expander = _Expander(configs, plugin_configs, catalog, path, problems)
    for entry in (*configs, *sections):
        check_toggles(entry, catalog, problems)
    specs: list[JobSpec] = []
    jobs = 0
    for chain in leaf_chains(tree):
        section_entries = [node.entry for node in chain if node.entry is not None]
        for workload in (w for node in chain for w in node.workloads):
            spec = expander.spec(section_entries, workload)
            if spec is None:
                continue
            jobs += spec.iterations
            if jobs > MAX_JOBS:
                problems.add(spec.location, workload.key_path, f"the agenda expands to "
                             f"more than {MAX_JOBS:,} jobs; split it into smaller agendas")
                return specs
            specs.append(spec)
    return specs


def check_toggles(entry: Entry, catalog: Catalog, problems: ProblemList) -> None:
    """Every instrument or output processor an entry enables or disables must be installed."""
    for toggle in entry.toggles:
        if augmentation(toggle.name, catalog) is None:
            known = augmentation_names(catalog)
            problems.add(toggle.location, f"{entry.key_path}.augmentations",
                         f"unknown instrument or output processor {toggle.name!r}."
                         f"{close_matches(toggle.name, known)} "
                         f"Installed: {', '.join(known) or 'none'}.")


@dataclass(frozen=True)
class _Expander:
    """What every spec of one agenda is made from, besides its sections and workload."""

    configs: list[Entry]
    plugin_configs: PluginConfigs
    catalog: Catalog
    path: str
    problems: ProblemList

    def spec(self, sections: list[Entry], workload: Entry) -> JobSpec | None:
        """The spec of ``workload`` in ``sections``; None when its workload is unknown."""
        sources = [*self.configs, *sections, workload]
        check_toggles(workload, self.catalog, self.problems)
        name, _ = merged_field(sources, "workload_name")
        plugin = self._workload(name, workload)
        if plugin is None:
            return None
        parameters = self._workload_parameters(sources, plugin, workload)
        label, _ = merged_field(sources, "label")
        iterations, _ = merged_field(sources, "iterations")
        auto = self._auto(sources, workload, iterations)
        assert workload.id is not None
        section_ids = tuple(str(s.id) for s in sections)
        return JobSpec(
            id="-".join((*section_ids, workload.id)),
            workload_id=workload.id,
            section_ids=section_ids,
            workload_name=plugin.name,
            label=label or name,
            iterations=auto.max_iterations if auto else (iterations or 1),
            workload_parameters=parameters,
            runtime_parameters=merge_located(
                {}, merged_field(sources, "runtime_parameters")[0] or {}, nested=False),
            boot_parameters=dict(merged_field(sources, "boot_parameters")[0] or {}),
            classifiers=merged_classifiers(self.configs, sections, workload),
            flash=dict(merged_field(sources, "flash")[0] or {}),
            augmentations=merged_toggles(sources),
            location=workload.location,
            agenda=self.path,
            thresholds=merged_mapping(sources, "thresholds"),
            auto=auto,
        )

    def _auto(self, sources: list[Entry], workload: Entry, iterations: Any
              ) -> AutoIterations | None:
        """The settings of ``iterations: auto`` (None for a fixed count). In config and
        sections they are defaults for the auto specs beneath; in the workload entry of a
        spec that runs a fixed count they would do nothing, and are refused."""
        if iterations != AUTO:
            for name in (n for n in AUTO_FIELDS if n in workload.fields):
                self.problems.add(workload.where(name), workload.path_of(name),
                                  f"applies only to 'iterations: auto'; this job runs "
                                  f"{iterations or 1} iteration(s)")
            return None
        given = {name: merged_field(sources, name)[0] for name in AUTO_FIELDS}
        auto = AutoIterations(**{k: v for k, v in given.items() if v is not None})
        if auto.min_iterations > auto.max_iterations:
            low, high = (_last_setter(sources, n) for n in ("min_iterations", "max_iterations"))
            name, blamed = ("max_iterations", high[1]) if high[0] >= low[0] \
                else ("min_iterations", low[1])
            source = blamed or workload
            default = {k: "" if given[k] is not None else ", the default" for k in given}
            self.problems.add(source.where(name), source.path_of(name),
                              f"min_iterations ({auto.min_iterations}{default['min_iterations']})"
                              f" is above max_iterations ({auto.max_iterations}"
                              f"{default['max_iterations']})")
        return auto

    def _workload(self, name: str | None, workload: Entry) -> PluginInfo | None:
        """The installed workload ``name``; an unknown one is reported at the entry."""
        plugin = self.catalog.workload(name) if name else None
        if plugin is None and name:
            names = self.catalog.workload_names()
            self.problems.add(workload.where("workload_name"),
                              workload.path_of("workload_name"),
                              f"unknown workload {name!r}.{close_matches(name, names)}"
                              f" Installed: {', '.join(names)}.")
        return plugin

    def _workload_parameters(self, sources: list[Entry], plugin: PluginInfo, workload: Entry
                             ) -> dict[str, Any]:
        """The parameters of one spec, checked; each problem located where its key was set."""
        given: dict[str, Any] = {}
        where: dict[str, tuple[Location, str]] = {}
        for layer, layer_where, layer_path in self._parameter_layers(sources, plugin, workload):
            for key, value in layer.items():
                given[key] = value
                where[key] = (key_location(layer, key, layer_where), f"{layer_path}.{key}")
        values, found = resolve_parameters(plugin.parameters, given)
        default = (workload.location, workload.path_of("workload_parameters"))
        for key, message in found:
            location, key_path = where.get(key, (default[0], f"{default[1]}.{key}"))
            self.problems.add(location, key_path, f"workload {plugin.name!r}: {message}")
        if not found:
            _validate_workload(plugin, values, workload, self.problems)
        return values

    def _parameter_layers(self, sources: list[Entry], plugin: PluginInfo, workload: Entry
                          ) -> list[tuple[Any, Location, str]]:
        """Where parameters are given, lowest priority first: the plugin's config, then
        config < sections < workload; each with its location and key path."""
        layers: list[tuple[Any, Location, str]] = []
        if plugin.name in self.plugin_configs:
            layer = self.plugin_configs[plugin.name]
            layers.append((layer, getattr(layer, "location", workload.location),
                           f"config.{plugin.name}"))
        for source in sources:
            if "workload_parameters" in source.fields:
                layers.append((source.fields["workload_parameters"],
                               source.where("workload_parameters"),
                               source.path_of("workload_parameters")))
        return layers


def _last_setter(sources: list[Entry], name: str) -> tuple[int, Entry | None]:
    """The most specific entry that sets ``name`` (and its rank), for a located error."""
    for rank in range(len(sources) - 1, -1, -1):
        if name in sources[rank].fields:
            return rank, sources[rank]
    return -1, None


def _validate_workload(plugin: PluginInfo, values: dict[str, Any], workload: Entry,
                       problems: ProblemList) -> None:
    """Run the workload's own ``validate`` now, so combinations fail at collection."""
    try:
        instance = plugin(source_directory=os.path.dirname(workload.location.path), **values)
        instance.validate()
    except Exception as exc:  # third-party validate() may raise anything; report it located
        problems.add(workload.location, workload.key_path, f"workload {plugin.name!r}: {exc}")
