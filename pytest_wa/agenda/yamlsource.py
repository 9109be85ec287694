"""Load YAML as plain data that remembers where every key came from.

Agendas are untrusted input, so loading is safe by construction: only YAML's
core types are built (no tag can run code), the document graph is checked
before anything is constructed (alias "billion laughs" blow-ups, cycles and
absurd nesting are refused), and file and include counts are bounded.

Mappings and sequences come back as ``LocatedDict`` / ``LocatedList``: ordinary
``dict``/``list`` objects that also carry the file and line of each key or item,
so validation can name the exact place of a problem.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, SequenceNode

from ..errors import AgendaError, Location, Problem

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_EXPANDED_NODES = 2_000_000
MAX_DEPTH = 64
MAX_INCLUDES = 256
INCLUDE_KEY = "include#"

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


class _LocatingLoader(_BaseLoader):
    source = ""

    def _loc(self, node: Node) -> Location:
        return Location(self.source, node.start_mark.line + 1)


def _construct_mapping(loader: _LocatingLoader, node: MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    result = LocatedDict(loader._loc(node))
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise ConstructorError(None, None, "a mapping key must be a plain value",
                                   key_node.start_mark) from None
        if key in result.key_lines:
            raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = loader._loc(key_node)
    return result


def _construct_sequence(loader: _LocatingLoader, node: SequenceNode) -> LocatedList:
    result = LocatedList(loader._loc(node))
    for child in node.value:
        result.append(loader.construct_object(child, deep=True))
        result.item_lines.append(loader._loc(child))
    return result


def _construct_int(loader: _LocatingLoader, node: Node) -> int:
    try:
        return SafeConstructor.construct_yaml_int(loader, node)  # type: ignore[arg-type]
    except ValueError:
        raise ConstructorError(None, None, "integer is too large", node.start_mark) from None


_LocatingLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LocatingLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_LocatingLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _check_graph(root: Node, path: str) -> None:
    """Refuse documents whose aliases expand too far, loop, or nest too deep.

    Sizes are computed once per node (memoised), so the check is linear in the
    document as written even when aliases would expand it exponentially.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            if size[key] > MAX_EXPANDED_NODES:
                _refuse(node, path, f"the document expands to more than {MAX_EXPANDED_NODES:,} "
                        "values through aliases; refusing to load it")
            continue
        if key in size:
            continue
        if key in on_path:
            _refuse(node, path, "an alias refers to a value that contains it (a cycle)")
        if depth > MAX_DEPTH:
            _refuse(node, path, f"values are nested more than {MAX_DEPTH} levels deep")
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in _children(node) if id(c) not in size)


def _refuse(node: Node, path: str, message: str) -> None:
    raise AgendaError(Problem(Location(path, node.start_mark.line + 1), "", message))


def _read_text(path: str) -> str:
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            limit = MAX_FILE_BYTES // (1024 * 1024)
            raise AgendaError(Problem(Location(path), "", f"file is larger than {limit} MiB; "
                                      "refusing to load it"))
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise AgendaError(Problem(Location(path), "", f"file is not UTF-8 text ({exc.reason})")) \
            from None
    except OSError as exc:
        raise AgendaError(Problem(Location(path), "", f"cannot read file: {exc.strerror}")) \
            from None


def parse_yaml(text: str, path: str) -> Any:
    """Parse one YAML document into located data; YAML errors become AgendaError."""
    loader = _LocatingLoader(text)
    loader.source = path
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node, path)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise AgendaError(Problem(Location(path, line), "", f"YAML syntax error: {what}")) \
            from None
    except yaml.YAMLError as exc:
        raise AgendaError(Problem(Location(path), "", f"YAML error: {exc}")) from None
    except RecursionError:
        raise AgendaError(Problem(Location(path), "", "values are nested too deeply")) from None
    finally:
        loader.dispose()


def load_yaml_file(path: str) -> Any:
    """Load one YAML file (no include processing)."""
    return parse_yaml(_read_text(path), path)


class IncludeResolver:
    """Expands WA3's ``include#`` keys: the named file(s) are merged into the mapping.

    The including mapping's own values win over included ones; lists are joined
    (included items first); several included files merge left to right.
    """

    def __init__(self) -> None:
        self.files: list[str] = []
        self._stack: list[str] = []

    def load(self, path: str) -> Any:
        path = os.path.abspath(path)
        if path in self._stack:
            chain = " -> ".join(self._stack + [path])
            raise AgendaError(Problem(Location(self._stack[-1]), INCLUDE_KEY,
                                      f"include cycle: {chain}"))
        if len(self.files) >= MAX_INCLUDES:
            raise AgendaError(Problem(Location(path), INCLUDE_KEY,
                                      f"more than {MAX_INCLUDES} included files"))
        self.files.append(path)
        self._stack.append(path)
        try:
            data = load_yaml_file(path)
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
        target = data.pop(INCLUDE_KEY)
        names = [target] if isinstance(target, str) else target
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AgendaError(Problem(where, INCLUDE_KEY,
                                      "must be a file name or a list of file names"))
        included: Any = None
        for name in names:
            full = os.path.join(os.path.dirname(path), os.path.expanduser(name))
            if not os.path.isfile(full):
                raise AgendaError(Problem(where, INCLUDE_KEY, f"included file {name!r} does not "
                                          f"exist (looked for {full})"))
            content = self.load(full)
            if not isinstance(content, dict):
                raise AgendaError(Problem(Location(full, 1), "",
                                          "an included file must hold a mapping at its top level"))
            included = content if included is None else merge_values(included, content)
        merged = merge_values(included, data)
        data.clear()
        data.update(merged)
        data.key_lines = merged.key_lines


def merge_values(base: Any, override: Any) -> Any:
    """Merge two configuration values, ``override`` winning (WA3's merge rules)."""
    if isinstance(base, dict) and isinstance(override, dict):
        result = LocatedDict(location_of(override, location_of(base, Location(""))))
        for source in (base, override):
            for key, value in source.items():
                result[key] = merge_values(result[key], value) if key in result else value
                if isinstance(source, LocatedDict):
                    result.key_lines[key] = source.key_location(key)
        return result
    if isinstance(base, list) and isinstance(override, list):
        joined = LocatedList(location_of(override, location_of(base, Location(""))))
        for sequence in (base, override):
            for index, item in enumerate(sequence):
                joined.append(item)
                if isinstance(sequence, LocatedList):
                    joined.item_lines.append(sequence.item_location(index))
                else:
                    joined.item_lines.append(joined.location)
        return joined
    return base if override is None else override


def load_with_includes(path: str) -> tuple[Any, list[str]]:
    """Load ``path``, expand its ``include#`` keys; return the data and every file read."""
    resolver = IncludeResolver()
    data = resolver.load(path)
    return data, resolver.files
