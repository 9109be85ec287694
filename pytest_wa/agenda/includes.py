"""WA3's ``include#`` keys: other YAML files merged into the mapping that names them.

The agenda and every file it includes share one budget of written values
(``MAX_WRITTEN_VALUES``) and at most ``MAX_INCLUDES`` files are read, so
includes cannot be used to get round the limits one file has.
"""

from __future__ import annotations

import os
from typing import Any

from ..model.errors import AgendaError, Location, Problem
from .located import LocatedDict, merge_values
from .yamlfile import load_counted
from .yamllimits import MAX_WRITTEN_VALUES

MAX_INCLUDES = 256
INCLUDE_KEY = "include#"


def load_with_includes(path: str) -> tuple[Any, list[str]]:
    """Load ``path``, expand its ``include#`` keys; return the data and every file read."""
    resolver = IncludeResolver()
    data = resolver.load(path)
    return data, resolver.files


class IncludeResolver:
    """Expands WA3's ``include#`` keys: the named file(s) are merged into the mapping.

    As in WA3, each key of the including mapping is merged with the same key of
    the included file(s) by ``merge_values``: the including mapping's own values
    win, lists are joined (included items first), and mappings are joined key by
    key one level deep (a nested mapping is replaced, not merged). Paths are
    relative to the file that names them; included files may include others.

    Deliberate differences from WA3: several files in one ``include#`` list merge
    left to right (a later file wins, its list items come later; WA3 lets the
    earlier file win and puts the later file's items first), and repeated equal
    list items are kept (WA3 drops them, so two identical workload entries would
    silently become one).
    """

    def __init__(self) -> None:
        self.files: list[str] = []
        self._stack: list[str] = []
        self._values_left = MAX_WRITTEN_VALUES

    def load(self, path: str, where: Location | None = None) -> Any:
        path = os.path.abspath(path)
        if path in self._stack:
            chain = " -> ".join(self._stack + [path])
            raise AgendaError(Problem(where or Location(self._stack[-1]), INCLUDE_KEY,
                                      f"include cycle: {chain}"))
        if len(self.files) >= MAX_INCLUDES:
            raise AgendaError(Problem(where or Location(path), INCLUDE_KEY,
                                      f"more than {MAX_INCLUDES} included files"))
        self.files.append(path)
        self._stack.append(path)
        try:
            data, count = load_counted(path, self._values_left)
            self._values_left -= count
            self._expand(data, path)
            return data
        finally:
            self._stack.pop()

    def _expand(self, data: Any, path: str) -> None:
        if isinstance(data, dict):
            for value in data.values():
                self._expand(value, path)
            if INCLUDE_KEY in data and isinstance(data, LocatedDict):
                self._merge_include(data, path)
        elif isinstance(data, list):
            for item in data:
                self._expand(item, path)

    def _merge_include(self, data: LocatedDict, path: str) -> None:
        where = data.key_location(INCLUDE_KEY)
        included: LocatedDict | None = None
        for name in _included_names(data.pop(INCLUDE_KEY), where):
            full = os.path.join(os.path.dirname(path), os.path.expanduser(name))
            if not os.path.isfile(full):
                raise AgendaError(Problem(where, INCLUDE_KEY, f"included file {name!r} does not "
                                          f"exist (looked for {full})"))
            content = self.load(full, where)
            if not isinstance(content, LocatedDict):
                raise AgendaError(Problem(Location(full, 1), "",
                                          "an included file must hold a mapping at its top level"))
            included = content if included is None else merge_mappings(included, content, where)
        assert included is not None
        merged = merge_mappings(included, data, where)
        data.clear()
        data.update(merged)
        data.key_lines = merged.key_lines


def _included_names(target: Any, where: Location) -> list[str]:
    """The file names an ``include#`` value gives: one name or a non-empty list of them."""
    names = [target] if isinstance(target, str) else target
    if not isinstance(names, list) or not names or \
            not all(isinstance(n, str) and n for n in names):
        raise AgendaError(Problem(where, INCLUDE_KEY,
                                  "must be a file name or a list of file names"))
    return names


def merge_mappings(base: LocatedDict, override: LocatedDict, where: Location) -> LocatedDict:
    """Join two mappings key by key, each shared key's values merged by ``merge_values``."""
    result = LocatedDict(override.location)
    for source in (base, override):
        for key, value in source.items():
            if key in result:
                try:
                    value = merge_values(result[key], value)
                except ValueError as exc:
                    raise AgendaError(Problem(override.key_location(key), str(key),
                                              f"cannot merge it with the value included by "
                                              f"{INCLUDE_KEY} at {where}: {exc}")) from None
            result[key] = value
            result.key_lines[key] = source.key_location(key)
    return result
