"""Which YAML files are agendas: a cheap scan, so that a plain suite's YAML costs ~nothing."""

from __future__ import annotations

import re

# A top-level workloads/sections key (or a likely misspelling of one, so that the
# typo is reported rather than the file silently ignored), or a flow mapping.
_AGENDA_MARKER = re.compile(rb"^(?:workloads?|sections?|work_loads)\s*:|^\{", re.MULTILINE)

_SCAN_CHUNK = 1024 * 1024
_SCAN_LIMIT = 64 * 1024 * 1024  # the largest agenda pytest-wa loads


def looks_like_agenda(path: str) -> bool:
    """Cheap test (no YAML parse) for a top-level 'workloads:' or 'sections:' key.

    Reads in chunks and stops at the first match, so a large YAML data file in
    an ordinary test suite costs little memory; past the agenda size limit it
    cannot be an agenda.
    """
    tail = b"\n"  # the text scanned always starts at a line start ("\n") or mid-line ("\0")
    try:
        with open(path, "rb") as handle:
            for _ in range(_SCAN_LIMIT // _SCAN_CHUNK):
                chunk = handle.read(_SCAN_CHUNK)
                if not chunk:
                    return False
                text = tail + chunk
                if _AGENDA_MARKER.search(text):
                    return True
                tail = _unfinished_line(text)
    except OSError:
        return False
    return False


def _unfinished_line(text: bytes) -> bytes:
    """A key split across chunks starts in a short unfinished last line; a long one
    is replaced by a byte that keeps '^' from matching mid-line."""
    newline = text.rfind(b"\n")
    last = text[newline:] if newline >= 0 else text
    return last if len(last) <= 64 else b"\0"
