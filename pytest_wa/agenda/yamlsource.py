"""Load YAML as plain data that remembers where every key came from.

Agendas are untrusted input, so loading is safe by construction: only YAML's
core types are built (no tag can run code); the event stream is checked before
any node is built (absurd nesting, too many values, in the agenda and its
included files together); the document graph is checked before anything is
constructed (alias "billion laughs" blow-ups and cycles are refused); and file
sizes and include counts are bounded.

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
MAX_WRITTEN_VALUES = 500_000  # ~300 MB of PyYAML nodes; a 10,000-job agenda holds ~50,000
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
    """A mapping; a key written twice is an error, but a key may override a merged one.

    YAML merge keys (``<<: *base``) put the merged pairs first, so the mapping's own
    keys win over merged ones, as YAML specifies.
    """
    own_keys = {id(key_node) for key_node, _ in node.value}
    loader.flatten_mapping(node)
    result = LocatedDict(loader._loc(node))
    own_seen: set[Any] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise ConstructorError(None, None, "a mapping key must be a plain value (a name), "
                                   "not a list or a mapping", key_node.start_mark) from None
        if id(key_node) in own_keys:
            if key in own_seen:
                raise ConstructorError(None, None, f"duplicate key {key!r}: a key can appear "
                                       "only once in a mapping", key_node.start_mark)
            own_seen.add(key)
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
        raise ConstructorError(None, None, f"integer is too large ({len(str(node.value)):,} "
                               "characters); write it as a string if it is not a number",
                               node.start_mark) from None


def _construct_undefined(loader: _LocatingLoader, node: Node) -> Any:
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    raise ConstructorError(None, None, f"tag {tag!r} is not allowed: an agenda holds plain data "
                           "only (mappings, lists, strings, numbers, booleans, null)",
                           node.start_mark)


_LocatingLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LocatingLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_LocatingLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_LocatingLoader.add_constructor(None, _construct_undefined)


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


# Per event: (change of nesting depth, values written).
_EVENT_STEPS = {yaml.SequenceStartEvent: (1, 1), yaml.MappingStartEvent: (1, 1),
                yaml.SequenceEndEvent: (-1, 0), yaml.MappingEndEvent: (-1, 0),
                yaml.ScalarEvent: (0, 1), yaml.AliasEvent: (0, 1)}


def _scan(text: str, path: str, limit: int) -> tuple[int, bool]:
    """Check nesting and size from the event stream, before any node is composed.

    libyaml's composer recurses in C: some tens of thousands of ``[`` crash the
    interpreter (SIGSEGV) instead of raising, so depth must be known first; and
    composing costs ~600 bytes per value, so the count is checked first too. The
    parser itself is iterative and streams; the scan stops at the first excess.
    Returns the number of values written (keys, items and scalars) and whether
    any alias was used (without aliases the document is a tree this scan bounded).
    """
    scanner = _BaseLoader(text)
    aliases = False
    try:
        depth = count = 0
        while scanner.check_event():
            event = scanner.get_event()
            aliases = aliases or isinstance(event, yaml.AliasEvent)
            nesting, values = _EVENT_STEPS.get(type(event), (0, 0))
            depth, count = depth + nesting, count + values
            if depth > MAX_DEPTH:
                _refuse_event(event, path, f"values are nested more than {MAX_DEPTH} levels "
                                           "deep")
            if count > limit:
                _refuse_event(event, path, f"the agenda, with the files it includes, holds "
                                           f"more than {MAX_WRITTEN_VALUES:,} values; refusing "
                                           "to load it")
        return count, aliases
    finally:
        scanner.dispose()


def _refuse_event(event: yaml.Event, path: str, message: str) -> None:
    line = event.start_mark.line + 1 if event.start_mark else 0
    raise AgendaError(Problem(Location(path, line), "", message))


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
    return _parse(text, path, MAX_WRITTEN_VALUES)[0]


def _parse(text: str, path: str, limit: int) -> tuple[Any, int]:
    """The located data of one document and the number of values written in it."""
    loader = _LocatingLoader(text)
    loader.source = path
    try:
        count, aliases = _scan(text, path, limit)
        node = loader.get_single_node()
        if node is None:
            return None, count
        if aliases:
            _check_graph(node, path)
        return loader.construct_document(node), count
    except yaml.MarkedYAMLError as exc:
        raise AgendaError(_yaml_problem(exc, path)) from None
    except yaml.YAMLError as exc:
        raise AgendaError(Problem(Location(path), "", f"YAML error: {exc}")) from None
    except RecursionError:
        raise AgendaError(Problem(Location(path), "", "values are nested too deeply")) from None
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.MarkedYAMLError, path: str) -> Problem:
    """Where PyYAML noticed the problem, and where the construct it was reading began."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    what = str(exc.problem or exc.context)
    if exc.context and exc.problem:
        start = exc.context_mark.line + 1 if exc.context_mark else line
        what += f", {exc.context}" + (f" that starts at line {start}" if start != line else "")
    if not isinstance(exc, ConstructorError):
        what = f"YAML syntax error: {what}"
    return Problem(Location(path, line), "", what)


def load_yaml_file(path: str) -> Any:
    """Load one YAML file (no include processing)."""
    return parse_yaml(_read_text(path), path)


def _load_counted(path: str, limit: int) -> tuple[Any, int]:
    return _parse(_read_text(path), path, limit)


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
            data, count = _load_counted(path, self._values_left)
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
        target = data.pop(INCLUDE_KEY)
        names = [target] if isinstance(target, str) else target
        if not isinstance(names, list) or not names or \
                not all(isinstance(n, str) and n for n in names):
            raise AgendaError(Problem(where, INCLUDE_KEY,
                                      "must be a file name or a list of file names"))
        included: LocatedDict | None = None
        for name in names:
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
    if isinstance(base, list) or isinstance(override, list):
        return _joined(base if isinstance(base, list) else [base],
                       override if isinstance(override, list) else [override],
                       location_of(override, location_of(base, Location(""))))
    if isinstance(base, dict) and isinstance(override, dict):
        result = LocatedDict(location_of(override, location_of(base, Location(""))))
        for source in (base, override):
            for key, value in source.items():
                result[key] = value
                if isinstance(source, LocatedDict):
                    result.key_lines[key] = source.key_location(key)
        return result
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


def load_with_includes(path: str) -> tuple[Any, list[str]]:
    """Load ``path``, expand its ``include#`` keys; return the data and every file read."""
    resolver = IncludeResolver()
    data = resolver.load(path)
    return data, resolver.files
