"""Which YAML files are agendas: cheap for a plain suite's YAML, and no broken agenda hidden.

pytest asks about every ``.yaml``/``.yml`` file under the paths it is given, so
the answer comes in steps, each taken only when the one before cannot decide:

1. A byte scan for a top-level ``workloads`` or ``sections`` key (or a likely
   misspelling of one, so that the typo is reported): such a file is an agenda,
   and the loader reports whatever else is wrong in it.
2. The same scan notes whether ``workloads``, ``sections`` or ``config`` is
   written as a key anywhere, e.g. indented. A file where none is cannot be a
   mis-indented agenda and is left alone, unparsed.
3. A file where one is (up to ``MAX_PARSED_BYTES``; any size when named on the
   command line) is parsed into YAML events only: nothing is built and tags
   are not looked at. Then:

   - not valid YAML: it is collected, so that the loader shows the YAML error
     and its line (a mis-indented agenda is seldom valid YAML);
   - a document's top-level mapping has a ``workloads``/``sections`` key: an
     agenda (indented as a whole, or with a quoted key);
   - ``workloads``/``sections`` is a key of the top-level ``config`` (or
     ``global``) mapping, or of a mapping below the top that holds nothing but
     agenda keys, two at least (``config`` and ``workloads``...): an agenda
     written at the wrong nesting, reported at that key;
   - otherwise (CI workflows, compose files, manifests...) not an agenda.

Steps 1 and 2 cost what they always did (one read, two regular expressions).
Step 3 costs ~0.1 ms for a CI workflow, plus ~25 ms once to import PyYAML and
the agenda package, and ~0.4 s for a file of 1 MiB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..model.errors import Location, Problem

# A top-level workloads/sections key (or a likely misspelling of one), or a flow mapping.
_AGENDA_MARKER = re.compile(rb"^(?:workloads?|sections?|work_loads)\s*:|^\{", re.MULTILINE)
# One of the keys an agenda is made of, at any indentation, maybe quoted or a list item.
_AGENDA_KEY_MENTION = re.compile(
    rb"^[ \t]*(?:-[ \t]+)*[\"']?(?:workloads?|sections?|work_loads|config)[\"']?[ \t]*:"
    rb"(?:[ \t\r]|$)", re.MULTILINE)

_SCAN_CHUNK = 1024 * 1024
_SCAN_LIMIT = 64 * 1024 * 1024  # the largest agenda pytest-wa loads
MAX_PARSED_BYTES = 1024 * 1024  # found in a directory, larger files need a top-level key

_ROOT_AGENDA_KEYS = frozenset({"workloads", "workload", "sections", "section", "work_loads"})
_MISPLACED_KEYS = ("workloads", "sections")
_CONFIG_PATHS = frozenset({("config",), ("global",)})
_TOP_LEVEL_KEYS = frozenset({"config", "global", "workloads", "sections"})


@dataclass(frozen=True)
class Verdict:
    """Whether to collect a YAML file as an agenda, and the problem to report when
    the scan already knows that the file cannot load as one."""

    collect: bool
    problem: Problem | None = None


def looks_like_agenda(path: str) -> bool:
    """Whether a YAML file found under the paths given to pytest is collected as an agenda."""
    return agenda_verdict(path).collect


def agenda_verdict(path: str, named: bool = False) -> Verdict:
    """What to do with the YAML file at ``path`` (``named``: given on the command line)."""
    top_level, mentioned, size = _scan(path)
    if top_level:
        return Verdict(True)
    if named or (mentioned and size <= MAX_PARSED_BYTES):
        text = _read(path)
        if text is not None:
            return _judge_parsed(text, path)
    return Verdict(False, _not_an_agenda(path))


def _not_an_agenda(path: str) -> Problem:
    return Problem(Location(path, 1), "", "this YAML file is not an agenda: its top level has "
                                          "no 'workloads' or 'sections' key")


# --- steps 1 and 2: the byte scan -----------------------------------------------------


def _scan(path: str) -> tuple[bool, bool, int]:
    """(a top-level agenda key?, an agenda key anywhere?, bytes read), in chunks.

    Stops at the first top-level key, so a large agenda costs little; past the
    agenda size limit the file cannot be an agenda.
    """
    tail = b"\n"  # the text scanned always starts at a line start ("\n") or mid-line ("\0")
    mentioned, size = False, 0
    try:
        with open(path, "rb") as handle:
            for _ in range(_SCAN_LIMIT // _SCAN_CHUNK):
                chunk = handle.read(_SCAN_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                text = tail + chunk
                if _AGENDA_MARKER.search(text):
                    return True, True, size
                mentioned = mentioned or bool(_AGENDA_KEY_MENTION.search(text))
                tail = _unfinished_line(text)
    except OSError:
        return False, False, 0
    return False, mentioned, size


def _unfinished_line(text: bytes) -> bytes:
    """A key split across chunks starts in a short unfinished last line; a long one
    is replaced by a byte that keeps '^' from matching mid-line."""
    newline = text.rfind(b"\n")
    last = text[newline:] if newline >= 0 else text
    return last if len(last) <= 64 else b"\0"


def _read(path: str) -> str | None:
    """The file as text; bytes that are not UTF-8 are replaced (the loader reports them)."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return None


# --- step 3: the YAML events ----------------------------------------------------------


def _judge_parsed(text: str, path: str) -> Verdict:
    outline = _Outline()
    if not outline.read(text):
        return Verdict(True)  # not valid YAML: the loader shows the error and its line
    if outline.has_root_agenda_key:
        return Verdict(True)
    if outline.misplaced:
        return Verdict(True, _misplaced_problem(outline.misplaced[0], path))
    return Verdict(False, _not_an_agenda(path))


@dataclass(frozen=True)
class _Misplaced:
    """An agenda key written under another key: ``config.workloads`` and its lines."""

    keys: tuple[str, ...]
    line: int
    parent_line: int


def _misplaced_problem(found: _Misplaced, path: str) -> Problem:
    *_, parent, key = found.keys
    return Problem(Location(path, found.line), ".".join(found.keys),
                   f"'{key}' is indented under '{parent}' (line {found.parent_line}): it must "
                   "be a top-level key of the agenda, at the start of its line")


@dataclass
class _Node:
    """A mapping or list being read: its keys from the document's root, and its own keys."""

    path: tuple[str, ...]  # "-" for a list item, "?" for a mapping or list used as a key
    line: int  # where the key it is the value of was written (its own line at the root)
    is_mapping: bool
    keys: dict[str, int]  # scalar key -> line
    key: str | None = None  # the key whose value is read next; None while a key is due
    key_line: int = 0


class _Outline:
    """The shape of a YAML stream, from its parser's events: where agenda keys are.

    Reads events (the parser is iterative and streams), so no document is
    built, no alias expanded and no tag constructed; the same parser as the
    loader's decides what is valid YAML.
    """

    def __init__(self) -> None:
        self.has_root_agenda_key = False
        self.misplaced: list[_Misplaced] = []
        self._stack: list[_Node] = []

    def read(self, text: str) -> bool:
        """Walk every document; False if the text is not valid YAML."""
        import yaml

        from ..agenda.yamllimits import SAFE_LOADER

        parser = SAFE_LOADER(text)
        try:
            while parser.check_event():
                self._take(parser.get_event(), yaml)
        except yaml.YAMLError:
            return False
        finally:
            parser.dispose()
        self.misplaced.sort(key=lambda found: found.line)
        return True

    def _take(self, event: Any, yaml: ModuleType) -> None:
        """One parser event (``yaml`` is the module, imported only when a file is parsed)."""
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self._open(isinstance(event, yaml.MappingStartEvent), line)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            self._close(self._stack.pop())
        elif isinstance(event, yaml.ScalarEvent):
            self._finished(event.value, line)
        elif isinstance(event, yaml.AliasEvent):
            self._finished(f"*{event.anchor}", line)

    def _open(self, is_mapping: bool, line: int) -> None:
        path, key_line = self._place_of_next(line)
        self._stack.append(_Node(path, key_line, is_mapping, {}))

    def _place_of_next(self, line: int) -> tuple[tuple[str, ...], int]:
        """The path of the node that starts at ``line``, and where its key was written."""
        parent = self._stack[-1] if self._stack else None
        if parent is None:
            return (), line
        if not parent.is_mapping:
            return (*parent.path, "-"), line
        if parent.key is None:
            return (*parent.path, "?"), line
        return (*parent.path, parent.key), parent.key_line

    def _close(self, node: _Node) -> None:
        if node.is_mapping:
            self._check(node)
        self._finished("?", 0)

    def _finished(self, text: str, line: int) -> None:
        """A scalar, alias, mapping or list ends: it was a key or a value of its parent."""
        parent = self._stack[-1] if self._stack else None
        if parent is None or not parent.is_mapping:
            return
        if parent.key is None:
            parent.key, parent.key_line = text, line
            parent.keys.setdefault(text, line)
            self.has_root_agenda_key |= not parent.path and text in _ROOT_AGENDA_KEYS
        else:
            parent.key = None

    def _check(self, node: _Node) -> None:
        """Agenda keys in a mapping below the top: misplaced when the mapping is the
        top-level ``config``, or holds nothing but agenda keys, two at least."""
        if not node.path or "-" in node.path or "?" in node.path:
            return
        if node.path in _CONFIG_PATHS or \
                (len(node.keys) >= 2 and set(node.keys) <= _TOP_LEVEL_KEYS):
            self.misplaced += [_Misplaced((*node.path, key), node.keys[key], node.line)
                               for key in _MISPLACED_KEYS if key in node.keys]
