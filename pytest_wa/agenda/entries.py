"""Read the raw entries of an agenda (config, workloads, sections) into checked fields.

This is the "shallow" half of validation: key names, aliases and value types,
each problem located at its key. Merging entries into job specs is the job
of ``merging`` and ``jobspecs``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model.errors import Location, Problem, close_matches
from ..model.parameters import (
    ParameterValueError,
    percentage,
    shown,
    string,
    type_name,
)
from .autoiter import CHECKS
from .located import LocatedDict, LocatedList

# WA3 JobSpec configuration points and their aliases.
SPEC_FIELDS: dict[str, tuple[str, ...]] = {
    "iterations": (),
    "workload_name": ("name",),
    "workload_parameters": ("params", "workload_params", "parameters"),
    "runtime_parameters": ("runtime_params",),
    "boot_parameters": ("boot_params",),
    "label": (),
    "augmentations": ("instruments", "processors", "instrumentation", "output_processors",
                      "augment", "result_processors"),
    "flash": (),
    "classifiers": (),
    # pytest-wa's own: the smallest change of a metric that --wa-baseline counts
    "thresholds": (),
    "target_cv": (),
    "min_iterations": (),
    "max_iterations": (),
    "target_metrics": (),
}
MAPPING_FIELDS = ("workload_parameters", "runtime_parameters", "boot_parameters", "flash",
                  "classifiers")
ALIAS_TO_FIELD = {alias: name for name, aliases in SPEC_FIELDS.items()
                  for alias in (name, *aliases)}
LABEL_FORBIDDEN = ("::", "[", "]", "/", "\\", "\n", "\x00")


class ProblemList:
    """Collects located problems so that one run reports all of them, once each."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self._seen: set[Problem] = set()

    def add(self, location: Location, key: str, message: str) -> None:
        problem = Problem(location, key, message)
        if problem not in self._seen:
            self._seen.add(problem)
            self.items.append(problem)

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass
class Toggle:
    """One augmentation toggle as written: ``name`` enables, ``~name`` disables."""

    name: str
    enabled: bool
    location: Location


@dataclass
class Entry:
    """A workload, section or config entry with its fields normalised to WA3 names."""

    kind: str
    key_path: str
    location: Location
    id: str | None = None
    group: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    field_locations: dict[str, Location] = field(default_factory=dict)
    field_keys: dict[str, str] = field(default_factory=dict)
    toggles: list[Toggle] = field(default_factory=list)
    clears_toggles: bool = False
    workloads: list[Entry] = field(default_factory=list)

    def where(self, name: str) -> Location:
        return self.field_locations.get(name, self.location)

    def path_of(self, name: str) -> str:
        """The key path of a field, under the name (or alias) the user wrote."""
        return join_key(self.key_path, self.field_keys.get(name, name))


def join_key(prefix: str, key: Any) -> str:
    """``prefix.key``, or ``key`` alone at a file's top level (a config file)."""
    return f"{prefix}.{key}" if prefix else str(key)


def key_location(mapping: Any, key: Any, default: Location) -> Location:
    if isinstance(mapping, LocatedDict):
        return mapping.key_location(key)
    return default


def item_location(sequence: Any, index: int, default: Location) -> Location:
    if isinstance(sequence, LocatedList):
        return sequence.item_location(index)
    return default


def read_spec_fields(raw: dict, entry: Entry, problems: ProblemList, extra: tuple[str, ...] = ()
                     ) -> dict[str, Any]:
    """Move recognised spec fields of ``raw`` into ``entry``; return the keys left over.

    ``extra`` names further keys the caller handles itself (``id``, ``group``...).
    """
    leftovers: dict[str, Any] = {}
    for key, value in raw.items():
        where = key_location(raw, key, entry.location)
        path = join_key(entry.key_path, key)
        name = ALIAS_TO_FIELD.get(key) if isinstance(key, str) else None
        if key in extra:
            continue
        if name is None:
            leftovers[key] = value
            continue
        if name == "augmentations":
            _read_toggles(value, entry, where, path, problems)
            continue
        if name in entry.fields:
            first = next(k for k in raw if ALIAS_TO_FIELD.get(k) == name)
            problems.add(where, path, f"{name!r} is given twice, as {first!r} and as {key!r} "
                                      "(the same setting under another name); give it once")
            continue
        checked = _check_field(name, value, where, path, problems)
        if checked is not None:
            entry.fields[name] = checked
            entry.field_locations[name] = where
            entry.field_keys[name] = str(key)
    return leftovers


def _check_field(name: str, value: Any, where: Location, path: str, problems: ProblemList
                 ) -> Any:
    if name == "thresholds":
        return _thresholds(value, where, path, problems)
    if name in MAPPING_FIELDS:
        if value is None:
            return LocatedDict(where)
        if not isinstance(value, dict):
            problems.add(where, path, f"must be a mapping, got {type_name(value)} "
                                      f"{shown(value)}")
            return None
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            problems.add(where, path, f"keys must be names (strings), got {bad[0]!r}")
            return None
        return value
    try:
        if name in CHECKS:  # iterations, and the settings of iterations: auto
            return CHECKS[name](value)
        text = string(value)
    except ParameterValueError as exc:
        problems.add(where, path, str(exc))
        return None
    if name == "label":
        bad = [c for c in LABEL_FORBIDDEN if c in text]
        if bad or not text:
            problems.add(where, path, f"label {text!r} cannot be used in a test name or a "
                                      f"directory name (it contains {bad[0]!r})" if bad
                         else "label must not be empty")
            return None
    if name == "workload_name" and not text:
        problems.add(where, path, "workload name must not be empty")
        return None
    return text


def _thresholds(value: Any, where: Location, path: str, problems: ProblemList
                ) -> dict[str, float] | None:
    """``{metric name: percent}``: each bad value is reported at its own key."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(where, path, f"must be a mapping of metric names to percentages "
                                  f"(dmips: 3%), got {type_name(value)} {shown(value)}")
        return None
    found: dict[str, float] = {}
    for metric, limit in value.items():
        try:
            found[string(metric)] = percentage(limit)
        except ParameterValueError as exc:
            problems.add(key_location(value, metric, where), f"{path}.{metric}", str(exc))
    return found


def _read_toggles(value: Any, entry: Entry, where: Location, path: str,
                  problems: ProblemList) -> None:
    items = [value] if isinstance(value, str) else value
    if items is None:
        return
    if not isinstance(items, list):
        problems.add(where, path, f"must be a list of names, got {type_name(value)} "
                                  f"{shown(value)}")
        return
    for index, item in enumerate(items):
        item_where = item_location(items, index, where)
        if not isinstance(item, str) or not item.strip("~"):
            if item == "~~":
                entry.clears_toggles = True
                if entry.kind != "config":
                    problems.add(item_where, path, "'~~' can only be used in the top-level "
                                                   "config, not in a workload or section")
                continue
            problems.add(item_where, f"{path}[{index}]", f"expected an instrument name, got "
                                                         f"{shown(item)}")
            continue
        enabled = not item.startswith("~")
        name = item.lstrip("~")
        clash = [t for t in entry.toggles if t.name == name and t.enabled != enabled]
        if clash:
            problems.add(item_where, path, f"{name!r} is both enabled and disabled here")
            continue
        entry.toggles.append(Toggle(name, enabled, item_where))


def read_id(raw: dict, entry: Entry, problems: ProblemList, seen: set[str]) -> None:
    """Check an explicit ``id`` (unique, no '-', not 'global', usable in a path) and store it.

    WA3 forbids only '-' and 'global'; an id is also part of pytest item names and
    output directory names here, so the characters a label cannot hold are refused.
    """
    if "id" not in raw:
        return
    where = key_location(raw, "id", entry.location)
    value = raw["id"]
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        problems.add(where, f"{entry.key_path}.id", f"an id must be a non-empty name, got "
                                                    f"{shown(value)}")
        return
    text = str(value)
    forbidden = [c for c in LABEL_FORBIDDEN if c in text]
    if "-" in text:
        problems.add(where, f"{entry.key_path}.id", f"id {text!r} contains '-', which joins "
                                                    "section and workload ids in job ids")
    elif forbidden:  # ids name pytest items and output directories, as labels do
        problems.add(where, f"{entry.key_path}.id", f"id {text!r} cannot be used in a test "
                                                    "name or a directory name (it contains "
                                                    f"{forbidden[0]!r})")
    elif text == "global":
        problems.add(where, f"{entry.key_path}.id", "'global' is a reserved id")
    elif text in seen:
        problems.add(where, f"{entry.key_path}.id", f"duplicate {entry.kind} id {text!r}")
    seen.add(text)
    entry.id = text


def unknown_key_message(key: Any, known: list[str]) -> str:
    return (f"unknown key {key!r}.{close_matches(str(key), known)} "
            f"Allowed here: {', '.join(sorted(known))}.")
