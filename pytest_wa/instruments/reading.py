"""Reading many small files of a target in one round trip, and sampling in the background.

An instrument's cost per job is what the user pays on every job, so it must be
a few milliseconds, not WA3's hundreds: over adb or SSH each command is a
round trip. ``read_files`` reads any number of sysfs/procfs files with one
command; ``BackgroundSampler`` runs a sampling loop on the target itself
(a shell ``while`` loop), so sampling costs two commands per job whatever the
interval, and its readings come back when it stops.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ..model.errors import TargetError

if TYPE_CHECKING:
    from ..targets.protocols import BackgroundCommand, Target

#: Starts each file's part of the output; a line no sysfs file begins with.
MARK = "@@pytest-wa@@ "
#: Ends a file that could not be read.
UNREADABLE = "@@pytest-wa-unreadable@@"
#: ``o LINE`` prints LINE exactly with a shell builtin: a ``cat`` per file costs a fork
#: and an exec each (2-4 ms on a local target, more over adb), the shell's ``read``
#: nothing. printf is a builtin of dash, bash and busybox ash but not of mksh
#: (Android's sh), where ``print -r`` is; echo would mangle backslashes and ``-n``.
_PRINT_LINE = ("if [ -n \"$KSH_VERSION\" ]; then o() { print -r -- \"$1\"; }; "
               "else o() { printf '%s\\n' \"$1\"; }; fi;")


def read_files(target: Target, paths: Iterable[str], *, as_root: bool = False,
               timeout: float = 60.0) -> dict[str, str | None]:
    """Each path's content (stripped), or None where it could not be read; one command.

    Shell globs in ``paths`` are expanded on the target (``/sys/class/hwmon/*/temp*_input``).
    """
    here = getattr(target, "read_files_here", None)  # the local target: no process at all
    if here is not None and (not as_root or os.geteuid() == 0):
        return dict(here(paths))
    words = " ".join(_glob_word(path) for path in paths)
    if not words:
        return {}
    script = (f"{_PRINT_LINE} for f in {words}; do [ -e \"$f\" ] || continue; "
              f"echo \"{MARK}$f\"; {{ while IFS= read -r l || [ -n \"$l\" ]; do o \"$l\"; "
              f"done < \"$f\"; }} 2>/dev/null || echo {UNREADABLE}; done")
    result = target.execute(script, timeout=timeout, as_root=as_root)
    return dict(_split(result.stdout))


def _glob_word(path: str) -> str:
    """``path`` quoted for the shell, except its glob characters."""
    if not any(c in path for c in "*?["):
        return shlex.quote(path)
    return "".join(c if c.isalnum() or c in "/_-.:*?[]" else "\\" + c for c in path)


def _split(output: str) -> Iterator[tuple[str, str | None]]:
    path: str | None = None
    lines: list[str] = []
    for line in output.splitlines():
        if line.startswith(MARK):
            if path is not None:
                yield path, _content(lines)
            path, lines = line[len(MARK):], []
        elif path is not None:
            lines.append(line)
    if path is not None:
        yield path, _content(lines)


def _content(lines: list[str]) -> str | None:
    if lines and lines[-1] == UNREADABLE:
        return None
    return "\n".join(lines).strip()


class BackgroundSampler:
    """``command`` run every ``interval`` seconds on the target until ``stop``.

    Each sample is printed after a line ``MARK<seconds since the epoch>``, so
    ``stop`` returns ``(timestamp, text)`` pairs. The loop runs on the target,
    so sampling costs the same two round trips however long the job.
    """

    def __init__(self, target: Target, command: str, interval: float, *,
                 as_root: bool = False) -> None:
        if interval <= 0:
            raise ValueError(f"the sampling interval must be positive, got {interval:g}")
        loop = (f"while :; do echo \"{MARK}$(date +%s.%N)\"; {command}; "
                f"sleep {interval:g}; done")
        self._process: BackgroundCommand = target.background(loop, as_root=as_root)

    def stop(self) -> list[tuple[float, str]]:
        """Stop the loop; every complete sample taken, oldest first."""
        result = self._process.stop()
        samples = []
        for stamp, text in _split(result.stdout):
            if text is None:
                continue
            try:
                samples.append((_seconds(stamp), text))
            except ValueError as exc:
                raise TargetError(f"unreadable sample time {stamp!r}") from exc
        return samples[:-1] if len(samples) > 1 else samples  # the last may be cut short


def _seconds(stamp: str) -> float:
    """``date +%s.%N`` output; a date without %N (busybox) prints a literal N."""
    whole, _, fraction = stamp.partition(".")
    digits = "".join(c for c in fraction if c.isdigit())
    return float(f"{int(whole)}.{digits or '0'}")
