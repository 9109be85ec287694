"""Processes and everything they started, found through /proc (no psutil needed).

A test server that must vanish like a board losing power (``kill_tree``), or
hang like a frozen one (``freeze_tree``), acts on its whole process tree.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def children() -> dict[int, list[int]]:
    """Every process's children, read from /proc (no psutil needed)."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``: its children, theirs, and so on."""
    found: set[int] = set()
    tree = children()
    todo = [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def freeze_tree(pid: int) -> set[int]:
    """SIGSTOP ``pid`` and everything below it; returns the stopped processes.

    Stopped processes cannot fork, so re-reading the tree until nothing new
    turns up catches children started while it was being walked.
    """
    frozen: set[int] = set()
    while True:
        tree = {pid} | descendants(pid) | {d for p in frozen for d in descendants(p)}
        new = tree - frozen
        if not new:
            return frozen
        for member in new:
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGSTOP)
        frozen |= new


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and everything below it.

    Children are re-parented the moment their parent dies, so the tree is
    frozen whole first, and only then killed.
    """
    for member in freeze_tree(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
