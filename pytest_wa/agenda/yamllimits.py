"""Refuse hostile YAML before it is built: too deep, too many values, alias blow-ups.

Agendas are untrusted input. Two checks run before any Python object exists:
``scan_events`` reads the parser's event stream (cheap, streaming) and bounds
nesting and the number of values written; ``check_graph`` runs on the composed
node graph, only when the document uses aliases, and bounds what the aliases
would expand to (the "billion laughs") and refuses cycles.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from ..model.errors import AgendaError, Location, Problem

MAX_EXPANDED_NODES = 2_000_000
MAX_WRITTEN_VALUES = 500_000  # ~300 MB of PyYAML nodes; a 10,000-job agenda holds ~50,000
MAX_DEPTH = 64

#: The parser both the scan and the loader use (libyaml's when installed), so
#: that the scan sees exactly the events the loader will build from.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Per event: (change of nesting depth, values written).
_EVENT_STEPS = {yaml.SequenceStartEvent: (1, 1), yaml.MappingStartEvent: (1, 1),
                yaml.SequenceEndEvent: (-1, 0), yaml.MappingEndEvent: (-1, 0),
                yaml.ScalarEvent: (0, 1), yaml.AliasEvent: (0, 1)}


def scan_events(text: str, path: str, limit: int) -> tuple[int, bool]:
    """Check nesting and size from the event stream, before any node is composed.

    libyaml's composer recurses in C: some tens of thousands of ``[`` crash the
    interpreter (SIGSEGV) instead of raising, so depth must be known first; and
    composing costs ~600 bytes per value, so the count is checked first too. The
    parser itself is iterative and streams; the scan stops at the first excess.
    Returns the number of values written (keys, items and scalars) and whether
    any alias was used (without aliases the document is a tree this scan bounded).
    """
    scanner = SAFE_LOADER(text)
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


def check_graph(root: Node, path: str) -> None:
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


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _refuse(node: Node, path: str, message: str) -> None:
    raise AgendaError(Problem(Location(path, node.start_mark.line + 1), "", message))


def _refuse_event(event: yaml.Event, path: str, message: str) -> None:
    line = event.start_mark.line + 1 if event.start_mark else 0
    raise AgendaError(Problem(Location(path, line), "", message))
