"""Parse one YAML file into located plain data; every failure becomes an AgendaError.

Only YAML's core types are built, plus WA3's three tags as the frozen values of
``tagged`` (agendas saved by WA3 carry them), so no tag can run code: any other
tag is a located error, as are a tagged value whose text does not fit its tag
(at its key path), a key written twice in one mapping and an integer too long
to be a number. Files are read as UTF-8 and bounded in size, and the checks of
``yamllimits`` run before anything is constructed.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..model.errors import AgendaError, Location, Problem
from .located import LocatedDict, LocatedList
from .tagged import WA_TAGS, TaggedValueError, quoted
from .yamllimits import MAX_WRITTEN_VALUES, SAFE_LOADER, check_graph, scan_events

MAX_FILE_BYTES = 64 * 1024 * 1024


def load_yaml_file(path: str) -> Any:
    """Load one YAML file (no include processing)."""
    return parse_yaml(read_text(path), path)


def parse_yaml(text: str, path: str) -> Any:
    """Parse one YAML document into located data; YAML errors become AgendaError."""
    return parse_counted(text, path, MAX_WRITTEN_VALUES)[0]


def load_counted(path: str, limit: int) -> tuple[Any, int]:
    """The located data of the file at ``path`` and the number of values written in it."""
    return parse_counted(read_text(path), path, limit)


def read_text(path: str) -> str:
    """The file's text; too large, not UTF-8 or unreadable is an AgendaError."""
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


def parse_counted(text: str, path: str, limit: int) -> tuple[Any, int]:
    """The located data of one document and the number of values written in it."""
    loader = _LocatingLoader(text)
    loader.source = path
    try:
        count, aliases = scan_events(text, path, limit)
        node = loader.get_single_node()
        if node is None:
            return None, count
        if aliases:
            check_graph(node, path)
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
    return Problem(Location(path, line), getattr(exc, "key_path", ""), what)


class _LocatingLoader(SAFE_LOADER):
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
        try:
            result[key] = loader.construct_object(value_node, deep=True)
        except _BadTaggedValue as exc:
            raise exc.under(str(key)) from None
        result.key_lines[key] = loader._loc(key_node)
    return result


def _construct_sequence(loader: _LocatingLoader, node: SequenceNode) -> LocatedList:
    result = LocatedList(loader._loc(node))
    for index, child in enumerate(node.value):
        try:
            result.append(loader.construct_object(child, deep=True))
        except _BadTaggedValue as exc:
            raise exc.under(f"[{index}]") from None
        result.item_lines.append(loader._loc(child))
    return result


def _construct_int(loader: _LocatingLoader, node: Node) -> int:
    try:
        return SafeConstructor.construct_yaml_int(loader, node)  # type: ignore[arg-type]
    except ValueError:
        raise ConstructorError(None, None, f"integer is too large ({len(str(node.value)):,} "
                               "characters); write it as a string if it is not a number",
                               node.start_mark) from None


class _BadTaggedValue(ConstructorError):
    """A WA3 tagged value that does not fit its tag; it learns the key path it was
    written under as it leaves the mappings and lists that hold it."""

    def __init__(self, message: str, node: Node) -> None:
        super().__init__(None, None, message, node.start_mark)
        self._keys: list[str] = []

    def under(self, key: str) -> _BadTaggedValue:
        self._keys.insert(0, key)
        return self

    @property
    def key_path(self) -> str:
        """``config.device_config.shell_prompt``, ``workloads[0].params.prompt``..."""
        return "".join(key if key.startswith("[") or not index else f".{key}"
                       for index, key in enumerate(self._keys))


def _construct_wa_value(loader: _LocatingLoader, node: Node) -> Any:
    """A WA3 tagged scalar as its frozen value (``tagged``), its text checked now."""
    if not isinstance(node, ScalarNode):
        kind = "a mapping" if isinstance(node, MappingNode) else "a list"
        raise _BadTaggedValue(f"!<{node.tag}> takes a single text value, not {kind}", node)
    text = loader.construct_scalar(node)
    try:
        return WA_TAGS[str(node.tag)](str(text))
    except TaggedValueError as exc:
        raise _BadTaggedValue(f"invalid !<{node.tag}> value {quoted(str(text))}: {exc}",
                              node) from None


def _construct_undefined(loader: _LocatingLoader, node: Node) -> Any:
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    raise ConstructorError(None, None, f"tag {tag!r} is not allowed: an agenda holds plain data "
                           "only (mappings, lists, strings, numbers, booleans, null, and "
                           "WA3's !<tag:wa:regex>, !<tag:wa:level> and !<tag:wa:cpu_mask>)",
                           node.start_mark)


_LocatingLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LocatingLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_LocatingLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
for _tag in WA_TAGS:
    _LocatingLoader.add_constructor(_tag, _construct_wa_value)
_LocatingLoader.add_constructor(None, _construct_undefined)
