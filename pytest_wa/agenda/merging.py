"""How one job setting is merged over config < global < sections < workload (WA3's order).

Mappings merge key by key and scalars override, except ``boot_parameters``
which, as in WA3, is replaced whole. Merged mappings remember, for each key,
the line it came from, so that a problem found later (on the device, say)
still points at that line.
"""

from __future__ import annotations

from typing import Any

from ..model.errors import Location
from .entries import MAPPING_FIELDS, Entry
from .located import LocatedDict

# Runtime parameters whose values are mappings that WA3 merges key by key across
# config < sections < workload, instead of the later one replacing the earlier.
NESTED_MERGED = ("sysfile_values", "gov_tunables")


def merged_field(sources: list[Entry], name: str) -> tuple[Any, Location | None]:
    """The value of one spec field after config < sections < workload merging, and its line."""
    value: Any = None
    where: Location | None = None
    for source in sources:
        if name not in source.fields:
            continue
        new = source.fields[name]
        if name in MAPPING_FIELDS and name != "boot_parameters" and isinstance(value, dict) \
                and isinstance(new, dict):
            value = merge_located(value, new, nested=name == "runtime_parameters")
        else:
            value = new
        where = source.where(name)
    return value, where


def merge_located(base: dict[str, Any], override: dict[str, Any], *, nested: bool
                  ) -> dict[str, Any]:
    """``{**base, **override}``, keeping each key's location (and merging NESTED_MERGED)."""
    location = getattr(override, "location", None) or getattr(base, "location", None)
    merged: dict[str, Any] = LocatedDict(location) if location is not None else {}
    for mapping in (base, override):
        for key, item in mapping.items():
            if nested and key in NESTED_MERGED and isinstance(merged.get(key), dict) \
                    and isinstance(item, dict):
                item = merge_located(merged[key], item, nested=False)
            merged[key] = item
            if isinstance(merged, LocatedDict) and isinstance(mapping, LocatedDict):
                merged.key_lines[key] = mapping.key_location(key)
    return merged


def merged_classifiers(configs: list[Entry], sections: list[Entry], workload: Entry
                       ) -> dict[str, Any]:
    """WA3's order: each section's group classifier is set right after its own classifiers."""
    classifiers: dict[str, Any] = {}
    for source in (*configs, *sections, workload):
        classifiers.update(source.fields.get("classifiers") or {})
        if source.kind == "section" and source.group is not None:
            classifiers[source.group] = source.id
    return classifiers


def merged_mapping(sources: list[Entry], name: str) -> dict[str, Any]:
    """A mapping setting key by key: a later (inner) entry's key wins, the others stay."""
    merged: dict[str, Any] = {}
    for source in sources:
        merged.update(source.fields.get(name) or {})
    return merged


def merged_toggles(sources: list[Entry]) -> tuple[str, ...]:
    """The instruments left enabled once every source's toggles (and ``~~``) applied."""
    enabled: dict[str, bool] = {}
    for source in sources:
        if source.clears_toggles:
            enabled.clear()
        for toggle in source.toggles:
            enabled[toggle.name] = toggle.enabled
    return tuple(name for name, on in enabled.items() if on)
