"""Reading the end of a server's log, to say why it would not start."""

from __future__ import annotations


def log_tail(path: str, lines: int = 20) -> str:
    """The last ``lines`` lines of ``path``, or "" if it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""
