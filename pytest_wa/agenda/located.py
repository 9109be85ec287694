"""Containers that remember where each of their keys and items was written.

``LocatedDict`` and ``LocatedList`` are ordinary ``dict``/``list`` objects
(so every reader of agenda data can treat them as plain data) that also carry
the file and line of each key or item: validation, however late, can then name
the exact place of a problem. ``merge_values`` joins two such values the way
WA3 merges configuration, keeping those locations.
"""

from __future__ import annotations

from typing import Any

from ..model.errors import Location


class LocatedDict(dict):
    """A dict that knows its own location and the line of each of its keys."""

    __slots__ = ("location", "key_lines")

    def __init__(self, location: Location) -> None:
        super().__init__()
        self.location = location
        self.key_lines: dict[Any, Location] = {}

    def key_location(self, key: Any) -> Location:
        return self.key_lines.get(key, self.location)


class LocatedList(list):
    """A list that knows its own location and the line of each item."""

    __slots__ = ("location", "item_lines")

    def __init__(self, location: Location) -> None:
        super().__init__()
        self.location = location
        self.item_lines: list[Location] = []

    def item_location(self, index: int) -> Location:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.location


def location_of(value: Any, default: Location) -> Location:
    """The location a located container carries, else ``default``."""
    return getattr(value, "location", default)


def merge_values(base: Any, override: Any) -> Any:
    """Merge two configuration values, ``override`` winning (WA3's merge_config_values).

    None yields the other value; two lists are joined; two mappings are joined key
    by key with ``override`` winning (no deeper merging); a list and a single value
    or mapping make a list; a mapping and a single value cannot be merged
    (ValueError); otherwise ``override`` wins.
    """
    if base is None:
        return override
    if override is None:
        return base
    location = location_of(override, location_of(base, Location("")))
    if isinstance(base, list) or isinstance(override, list):
        return _joined(base if isinstance(base, list) else [base],
                       override if isinstance(override, list) else [override], location)
    if isinstance(base, dict) and isinstance(override, dict):
        return _joined_mappings(base, override, location)
    if isinstance(base, dict) or isinstance(override, dict):
        kinds = ["a mapping" if isinstance(v, dict) else "a single value"
                 for v in (base, override)]
        raise ValueError(f"{kinds[0]} and {kinds[1]} do not merge")
    return override


def _joined(first: list, second: list, location: Location) -> LocatedList:
    joined = LocatedList(location)
    for sequence in (first, second):
        for index, item in enumerate(sequence):
            joined.append(item)
            joined.item_lines.append(sequence.item_location(index)
                                     if isinstance(sequence, LocatedList)
                                     else location_of(item, location))
    return joined


def _joined_mappings(base: dict, override: dict, location: Location) -> LocatedDict:
    """``{**base, **override}`` one level deep, each key keeping the line it came from."""
    result = LocatedDict(location)
    for source in (base, override):
        for key, value in source.items():
            result[key] = value
            if isinstance(source, LocatedDict):
                result.key_lines[key] = source.key_location(key)
    return result
