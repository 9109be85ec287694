"""What the interrupts, proc_stat, dmesg, sysfs_extractor and file_poller instruments share.

Each reads the target once before the workload and once after it. The read
after it goes to the run's target, not ``job.target``: while the job's stages
run, ``job.target`` cuts every call down to what is left of ``job_timeout``,
and a job that ran past it must still get its readings taken and its sampler
stopped (a bounded timeout of their own keeps a dead device from hanging
them). What they write goes into the job's directory, in WA3's layout
(``before/proc/interrupts``, ``dmesg/after``...).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..model.errors import InstrumentError, TargetError

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

#: Seconds allowed to a reading taken after the workload.
READ_TIMEOUT = 60.0


def after_target(job: JobContext) -> Target:
    """The target for what is read after the workload: without the job's deadline."""
    return job.run.target


def write_job_file(job: JobContext, relative: str, text: str) -> str:
    """Write ``text`` at ``relative`` in the job's directory (directories made); the path."""
    if job.output_directory is None:
        raise RuntimeError(f"{job.name} has no output directory")
    path = job.output_directory / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return relative


def gives_root(target: Target) -> bool:
    """Whether commands can run as root on ``target`` (``as_root=True`` works)."""
    try:
        result = target.execute("id -u", as_root=True, timeout=30)
    except TargetError:
        return False
    return result.ok and result.stdout.strip().splitlines()[:1] == ["0"]


def aligned_table(rows: Sequence[Sequence[str]], *, left: int = 0) -> str:
    """``rows`` as text columns, right-aligned (numbers) except the first ``left`` and
    the last one, which is free text (WA3's diff tables look like this)."""
    if not rows:
        return ""
    columns = max(len(row) for row in rows)
    widths = [max((len(row[i]) for row in rows if i < len(row)), default=0)
              for i in range(columns - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) if i < left else cell.rjust(widths[i])
                 for i, cell in enumerate(row[:columns - 1])]
        if len(row) == columns:
            cells.append(row[-1])
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


#: Prints every line of the files named after it as ``PATH:LINE``, one process for any
#: number of files. ``read`` builtins would start none, but the shell reads a byte at a
#: time, and /proc/sys files answer a read past their start with nothing; grep reads
#: whole buffers (util-linux, toybox and busybox greps all take -a and -H).
GREP = "grep -a -H ''"


def split_grep(stdout: str, paths: Sequence[str], stderr: str = "") -> dict[str, str | None]:
    """Each of ``paths``' text from ``GREP``'s output (lines newline-ended). An empty file
    has no line (''); one grep could not read is None (its complaint names it, as
    ``grep: PATH: reason``, in ``stderr``, or in ``stdout`` where the two are merged)."""
    found: dict[str, list[str]] = {path: [] for path in paths}
    order = list(found)
    position = 0
    unreadable = set()
    for line in stdout.splitlines():
        path = _owner(line, order, position, found)
        if path is not None:
            position = order.index(path, position) if path in order[position:] else position
            found[path].append(line[len(path) + 1:])
        elif line.startswith("grep: "):
            unreadable.add(line[6:].rpartition(": ")[0])
    for line in stderr.splitlines():
        if line.startswith("grep: "):
            unreadable.add(line[6:].rpartition(": ")[0])
    return {path: None if path in unreadable else "".join(f"{line}\n" for line in lines)
            for path, lines in found.items()}


def _owner(line: str, order: list[str], position: int, found: dict[str, list[str]]
           ) -> str | None:
    """The file a ``PATH:LINE`` line is from: grep keeps the order it was given, so the
    current file or a later one first; else the longest known path (paths may hold ':')."""
    for path in order[position:position + 2]:
        if line.startswith(path + ":"):
            return path
    candidates = [line[:i] for i, c in enumerate(line) if c == ":" and line[:i] in found]
    return max(candidates, key=len) if candidates else None


def glob_word(path: str) -> str:
    """``path`` quoted for the shell, except its glob characters (``*?[]``)."""
    if not any(c in path for c in "*?["):
        return shlex.quote(path)
    return "".join(c if c.isalnum() or c in "/_-.:*?[]" else "\\" + c for c in path)


def epoch_seconds(stamp: str) -> float:
    """``date +%s.%N`` output as seconds (busybox's date prints a literal N)."""
    whole, _, fraction = stamp.strip().partition(".")
    try:
        return float(f"{int(whole)}.{''.join(c for c in fraction if c.isdigit()) or '0'}")
    except ValueError:
        raise InstrumentError(f"unreadable time from the target: {stamp!r}") from None
