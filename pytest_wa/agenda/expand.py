"""Turn an agenda's raw data into job specs, exactly as WA3 names and merges them.

This is the entry point that checks the agenda's top level and reports every
problem at once; each step is a module of its own:

- ``config``: the ``config``/``global`` entries (run settings, job defaults,
  plugin configs);
- ``entry_lists``: the ``workloads`` and ``sections`` lists, with WA3's auto ids;
- ``groups``: the cross product of grouped sections;
- ``merging``: config < global < section < workload merging of each setting;
- ``jobspecs``: one spec per workload per combination of sections.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..model.errors import AgendaError, Location
from ..model.parameters import shown, type_name
from .catalog import Catalog, PluginInfo
from .config import ConfigFile, read_config
from .entries import ProblemList, Toggle, key_location, unknown_key_message
from .entry_lists import SECTION_KEYS, read_entries
from .groups import MAX_SECTION_NODES, section_tree
from .jobspecs import MAX_JOBS, expand_specs
from .spec import Agenda

TOP_LEVEL_KEYS = ["config", "global", "sections", "workloads"]


def build_agenda(data: Any, path: str, files: Sequence[str], catalog: Catalog,
                 config_files: Sequence[ConfigFile] = ()) -> Agenda:
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
    read = read_config(data, path, catalog, problems, config_files)
    configs, settings, plugin_configs = read.configs, read.settings, read.plugin_configs
    workloads, sections = read_entries(data, path, problems)
    if not problems and not workloads and not any(s.workloads for s in sections):
        problems.add(key_location(data, "workloads", top), "workloads",
                     "the agenda has no workloads to run; list at least one under 'workloads' "
                     "(or a section's 'workloads')")
    tree = section_tree(sections, workloads, problems)
    specs = expand_specs(tree, configs, sections, plugin_configs, catalog, path, problems)
    if problems:
        raise AgendaError(sorted(problems.items, key=lambda p: (p.location.path != path,
                                                                p.location.path,
                                                                p.location.line)))
    explicit = frozenset(name for config in configs for name in config.fields)
    return Agenda(path, settings.value, tuple(specs), plugin_configs, tuple(files),
                  explicit | settings.explicit, settings.locations,
                  tuple(config_path for config_path, _ in config_files), read.notes)


__all__ = ["MAX_JOBS", "MAX_SECTION_NODES", "SECTION_KEYS", "TOP_LEVEL_KEYS", "Catalog",
           "PluginInfo", "Toggle", "build_agenda"]
