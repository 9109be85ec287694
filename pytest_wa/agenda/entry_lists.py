"""The agenda's ``workloads`` and ``sections`` lists, read into entries with their ids.

WA3's id rules are kept: auto ids ``wk1``/``s1``... count only the entries
without an explicit id and skip ids already taken, workloads numbered across
the top-level list and every section's own list together.
"""

from __future__ import annotations

import itertools
from typing import Any

from ..model.errors import Location
from ..model.parameters import shown, type_name
from .entries import (
    SPEC_FIELDS,
    Entry,
    ProblemList,
    item_location,
    key_location,
    read_id,
    read_spec_fields,
    unknown_key_message,
)
from .located import LocatedDict

SECTION_KEYS = ("id", "group", "workloads", "params")


def read_entries(data: dict, path: str, problems: ProblemList
                 ) -> tuple[list[Entry], list[Entry]]:
    """The top-level workload entries and the section entries, every one with an id."""
    top = Location(path, 1)
    raw_workloads = list_value(data, "workloads", top, problems)
    raw_sections = list_value(data, "sections", top, problems)
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


def list_value(data: dict, key: str, top: Location, problems: ProblemList) -> list:
    """``data[key]`` when it is a list; absent or null is empty; anything else a problem."""
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
    raw = _section_params_renamed(raw, entry, where, problems)
    _read_group(raw, entry, where, problems)
    leftovers = read_spec_fields(raw, entry, problems, extra=SECTION_KEYS)
    for key in leftovers:
        problems.add(key_location(raw, key, where), f"{key_path}.{key}",
                     unknown_key_message(key, [*SECTION_KEYS[:3], *_all_aliases()]))
    if "workload_name" in entry.fields:
        entry.fields.pop("workload_name")
        problems.add(entry.where("workload_name"), entry.path_of("workload_name"),
                     "a section cannot name a workload; list it under the section's "
                     "'workloads'")
    own = list_value(raw, "workloads", entry.location, problems)
    entry.workloads = [w for i, item in enumerate(own)
                       if (w := _read_workload(item, f"{key_path}.workloads", i, own,
                                               entry.location, problems, workload_ids))]
    return entry


def _section_params_renamed(raw: dict, entry: Entry, where: Location,
                            problems: ProblemList) -> dict:
    """WA3: a section's ``params`` are runtime parameters (a workload's are its own)."""
    if "params" not in raw:
        return raw
    if "runtime_params" in raw or "runtime_parameters" in raw:
        problems.add(key_location(raw, "params", where), f"{entry.key_path}.params",
                     "both 'params' and 'runtime_params' are given; in a section both mean "
                     "runtime parameters, give one")
    return _renamed_key(raw, "params", "runtime_parameters", entry.location)


def _read_group(raw: dict, entry: Entry, where: Location, problems: ProblemList) -> None:
    if "group" not in raw:
        return
    group = raw["group"]
    if not isinstance(group, str | int) or isinstance(group, bool):
        problems.add(key_location(raw, "group", where), f"{entry.key_path}.group",
                     f"a group must be a name, got {group!r}")
    else:
        entry.group = str(group)


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
