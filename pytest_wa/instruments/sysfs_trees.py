"""Directory trees of small files (sysfs, procfs) read in one command, kept and diffed.

``snapshot_command`` lists every regular file under the given paths with
``find -H`` (symlinks named on the command line are followed, those inside
are not: sysfs is full of links that lead back up) and prints them all with
``grep`` (``jobfiles.GREP``), so reading hundreds of files starts a few
processes, not hundreds. ``write_tree`` lays the files out on this host under their device
path, as WA3 does (``before/sys/devices/...``), and ``diff_text`` compares
two versions of a file the way WA3's sysfs diff does: a number that changed
becomes the difference, other changed words ``[before -> after]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ..model.errors import InstrumentError
from .jobfiles import GREP, glob_word, split_grep

#: Ends the list of files, before their contents.
END_OF_LIST = "@@pytest-wa-end-of-list@@"
_WORDS = re.compile(r"(\W+)")


def snapshot_command(paths: Iterable[str]) -> str:
    """One shell command printing every file under ``paths`` (globs allowed): the list,
    then each line as ``PATH:LINE``. The list tells an empty file from no file."""
    find = f"find -H {' '.join(glob_word(path) for path in paths)} -type f"
    return f"{find} 2>/dev/null; echo {END_OF_LIST}; {find} -exec {GREP} {{}} +"


def parse_snapshot(stdout: str, stderr: str = "") -> dict[str, str | None]:
    """Each file's text (None where it could not be read), by device path."""
    listing, found, contents = stdout.partition(f"{END_OF_LIST}\n")
    if not found:
        raise InstrumentError(f"the files were not read: {(stderr or stdout)[-300:]!r}")
    return split_grep(contents, listing.splitlines(), stderr)


def local_path(root: Path, device_path: str) -> Path:
    """Where a device file is kept under ``root``: its path, without the leading '/'."""
    relative = Path(device_path.lstrip("/"))
    if any(part == ".." for part in relative.parts):
        raise ValueError(f"refusing a device path with '..': {device_path}")
    return root / relative


def write_tree(root: Path, files: dict[str, str | None]) -> int:
    """Write the readable files under ``root``; how many were written."""
    written = 0
    for device_path, text in files.items():
        if text is None:
            continue
        path = local_path(root, device_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="replace")
        written += 1
    return written


def artifact_root(path: str) -> str:
    """The device directory (or file) an artifact for ``path`` points at: ``path``
    itself, or for a glob the directory above its first glob character."""
    parts = path.rstrip("/").split("/")
    for index, part in enumerate(parts):
        if any(c in part for c in "*?["):
            return "/".join(parts[:index]) or "/"
    return "/".join(parts) or "/"


def _diff_word(before: str, after: str) -> str:
    if before.isspace() and after.isspace():
        return after
    if before.isdigit() and after.isdigit():
        return str(int(after) - int(before))
    if before == after:
        return after
    return f"[{before} -> {after}]"


def diff_line(before: str, after: str) -> str:
    """One line of the diff: numbers changed by how much, other words [before -> after].

    A line of two words whose first word did not change is "name value": the
    name is kept as it is (it may be a number: a frequency in time_in_state).
    A line whose words do not line up is shown whole, ``[before -> after]``.
    """
    old, new = _WORDS.split(before), _WORDS.split(after)
    if len(old) != len(new):
        return f"[{before} -> {after}]"
    keep = 0
    words = [i for i, w in enumerate(old) if w.strip()]
    if len(words) == 2 and len([w for w in new if w.strip()]) == 2 and \
            old[:words[0] + 1] == new[:words[0] + 1]:
        keep = words[0] + 1
    return "".join(old[:keep]) + "".join(
        _diff_word(b, a) for b, a in zip(old[keep:], new[keep:], strict=True))


def diff_text(before: str, after: str) -> str:
    """The diff of two versions of a file, line by line, as long as the shorter one."""
    return "".join(f"{diff_line(b, a)}\n" for b, a in zip(
        before.splitlines(), after.splitlines(), strict=False))


def write_diff(root: Path, before: dict[str, str | None], after: dict[str, str | None]
               ) -> int:
    """Write the diff of every file readable before and after under ``root``; how many."""
    diffs: dict[str, str | None] = {}
    for path, old in before.items():
        new = after.get(path)
        if old is not None and new is not None:
            diffs[path] = diff_text(old, new)
    return write_tree(root, diffs)
