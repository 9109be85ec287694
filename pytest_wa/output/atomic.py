"""File writes that a crash, a kill or Ctrl-C can never leave half done.

Whole files are written to a temporary name in the same directory and renamed
over the target (``os.replace`` is atomic on POSIX), so a reader sees the old
or the new content, never a mix. Append-only files get each record in a single
``write`` system call, which SIGKILL cannot split.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: str) -> None:
    """Replace ``path`` with ``data`` in one step."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(data)
    os.replace(temporary, path)


def to_json(value: Any) -> str:
    """JSON as WA3 writes it: 4-space indent, keys in insertion order, ASCII only."""
    return json.dumps(value, indent=4, default=str)


def write_json(path: Path, value: Any) -> None:
    write_atomic(path, to_json(value))


def append_record(path: Path, data: str) -> None:
    """Append ``data`` with one write(2): whole or not at all, even under SIGKILL."""
    encoded = data.encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(descriptor, encoded)
        while written < len(encoded):  # only on exotic file systems
            written += os.write(descriptor, encoded[written:])
    finally:
        os.close(descriptor)
