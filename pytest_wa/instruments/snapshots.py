"""Time-stamped readings of a fixed list of one-value files (sensors, counters).

Power and thermal instruments read the same few sysfs files just before the
workload, just after it, and (some) every fraction of a second in between.
A reading is one command that starts no process on the target (the shell's
``read`` builtin, where ``read_files`` starts a ``cat`` per file): at the
edges of the workload every process started costs a millisecond or more. A
reading carries the target's own time, so the job's readings and the
sampling loop's share one clock, and an average power is energy over the
target's elapsed time, free of adb's or SSH's latency.

``Sampler`` is a shell loop on the target, like ``reading.BackgroundSampler``,
but ended by the last reading's own command (it kills the loop by its pid)
instead of by the target's kill, whose grace period costs 200 ms a job.

Discovery, once per run, goes through ``read_files`` (globs, per-file
errors) and finds out whether the files need root (``discover``).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model.errors import CommandTimeoutError, InstrumentError, TargetError
from ..model.parameters import Kind, ParameterValueError, number
from .reading import MARK, read_files

if TYPE_CHECKING:
    from ..targets.protocols import BackgroundCommand, Target



@dataclass(frozen=True)
class Clock:
    """How a reading is time-stamped: ``setup`` runs first, then ``value`` is echoed.

    Shells that know the time (mksh, Android's sh; bash 5: ``EPOCHREALTIME``)
    give it without starting a process. Elsewhere ``PRECISE`` starts ``date``
    (a millisecond or more on a phone) and ``CHEAP`` reads /proc/uptime with a
    builtin (10 ms steps: enough for a temperature, not for an average power).
    """

    setup: str
    value: str


PRECISE = Clock("", "${EPOCHREALTIME:-$(date +%s.%N)}")
CHEAP = Clock("read -r up _ < /proc/uptime; ", "${EPOCHREALTIME:-$up}")
#: Printed by a sampler's stop command once it ended the loop.
STOPPED = "@@pytest-wa-sampler-stopped@@"


def _period(value: object) -> float:
    seconds = float(number(value))
    if seconds < 0:
        raise ParameterValueError(f"expected seconds, 0 or more, got {value!r}")
    return seconds


#: A sampling period in seconds (0: no sampling, where the parameter allows it).
PERIOD = Kind("seconds", _period)


@dataclass(frozen=True)
class Snapshot:
    """Each file's value (None where it could not be read) at ``time`` (target seconds)."""

    time: float
    values: tuple[str | None, ...]


def discover(target: Target, patterns: Sequence[str]) -> tuple[dict[str, str | None], bool]:
    """Every file matching ``patterns`` with its content, and whether root was needed.

    Read as the connecting user first; where some files are unreadable and the
    target can become root, read again as root and keep that if it reads more.
    """
    found = read_files(target, patterns)
    if all(value is not None for value in found.values()):
        return found, False
    try:
        as_root = read_files(target, patterns, as_root=True)
    except TargetError:  # no root on this device: what the user sees is what we get
        return found, False
    readable = sum(value is not None for value in found.values())
    if sum(value is not None for value in as_root.values()) > readable:
        return as_root, True
    return found, False


def read_command(paths: Sequence[str]) -> str:
    """Every path's first line, in order, with the shell's ``read`` builtin: no process
    started; an empty line for a file that cannot be read."""
    words = " ".join(shlex.quote(path) for path in paths)
    return f'for f in {words}; do v=; read -r v < "$f"; echo "$v"; done 2>/dev/null'


def stamp_command(clock: Clock) -> str:
    return f'{clock.setup}echo "{MARK}{clock.value}"; '


def take(target: Target, paths: Sequence[str], *, as_root: bool = False,
         clock: Clock | None = PRECISE, then: Sampler | None = None) -> Snapshot:
    """Read every path now, in one command (time 0.0 without a ``clock``); ``then``: a
    sampler to stop in that same command (its ``stopped`` is set)."""
    stamp = stamp_command(clock) if clock else ""
    stop = f"; {then.stop_command()}" if then else ""
    result = target.execute(stamp + read_command(paths) + stop, timeout=60, as_root=as_root)
    lines = result.stdout.splitlines()
    if then is not None:
        then.stopped = STOPPED in lines
        lines = [line for line in lines if line != STOPPED]
    when = 0.0
    if clock:
        if not lines or not lines[0].startswith(MARK):
            raise InstrumentError(f"no time stamp in the reading of {paths[0]}...: "
                                  f"{result.stdout[:200]!r} {result.stderr[:200]!r}")
        when, lines = seconds(lines[0][len(MARK):]), lines[1:]
    values = _values(lines, len(paths))
    if values is None:  # some file failed: find out which, one by one
        found = read_files(target, paths, as_root=as_root)
        return Snapshot(when, tuple(found.get(path) for path in paths))
    return Snapshot(when, values)


def _values(lines: list[str], count: int) -> tuple[str, ...] | None:
    """The values when there is exactly one non-empty line per file."""
    stripped = [line.strip() for line in lines]
    if len(stripped) != count or not all(stripped):
        return None
    return tuple(stripped)


def seconds(stamp: str) -> float:
    """A ``Clock``'s output: busybox's date prints a literal N for %N, and bash's
    EPOCHREALTIME has the locale's decimal comma."""
    whole, _, fraction = stamp.strip().replace(",", ".").partition(".")
    digits = "".join(c for c in fraction if c.isdigit())
    try:
        return float(f"{int(whole)}.{digits or '0'}")
    except ValueError as exc:
        raise InstrumentError(f"unreadable time stamp {stamp!r} from the target") from exc


class Sampler:
    """``paths`` read every ``period`` seconds by a shell loop on the target.

    ``take(..., then=sampler)`` reads the last values and ends the loop in the
    same command; ``samples()`` then collects what the loop printed. Killing a
    background command through the target costs a grace period (200 ms), so
    the loop writes its pid to a file (``name``: one per instrument, emptied
    when read) and the stop command kills it with builtins only; its ``sleep``
    writes nowhere, so the output stream ends with the loop.
    """

    def __init__(self, target: Target, paths: Sequence[str], period: float, *, name: str,
                 as_root: bool = False, clock: Clock = PRECISE) -> None:
        self.paths = tuple(paths)
        directory = target.working_directory or "/tmp"
        self.pidfile = shlex.quote(f"{directory}/.pytest-wa-{name}.pid")
        loop = (f"echo $$ > {self.pidfile}; while :; do "
                f"{stamp_command(clock)}{read_command(self.paths)}; "
                f"sleep {period:g} </dev/null >/dev/null 2>&1; done")
        self._process: BackgroundCommand = target.background(loop, as_root=as_root)
        self.stopped = False

    def stop_command(self) -> str:
        """Ends the loop and prints STOPPED (nothing when the loop had not started yet)."""
        return (f"pid=; read -r pid 2>/dev/null < {self.pidfile}; : > {self.pidfile}; "
                f'[ -n "$pid" ] && kill "$pid" && echo {STOPPED}; true')

    def samples(self) -> list[Snapshot]:
        """The complete samples (one value for every path), oldest first. Unless
        ``stop_command`` ended the loop (``take(..., then=self)``), the target kills it."""
        if self.stopped:
            try:
                result = self._process.wait(timeout=10)
            except CommandTimeoutError:  # wait() killed it: what it printed is lost
                raise InstrumentError("the sampling loop did not end when told") from None
        else:
            result = self._process.stop()
        snapshots = []
        for when, lines in _marked(result.stdout.splitlines()):
            values = _values(lines, len(self.paths))
            if values is not None:
                snapshots.append(Snapshot(when, values))
        return snapshots


def in_order(before: Snapshot, samples: Sequence[Snapshot], after: Snapshot) -> list[Snapshot]:
    """``before``, the samples taken between it and ``after`` (by the target's clock), and
    ``after``: the readings of one job."""
    return [before, *(s for s in samples if before.time < s.time < after.time), after]


def _marked(lines: list[str]) -> list[tuple[float, list[str]]]:
    """The loop's output cut at each time stamp line."""
    parts: list[tuple[float, list[str]]] = []
    for line in lines:
        if line.startswith(MARK):
            parts.append((seconds(line[len(MARK):]), []))
        elif parts:
            parts[-1][1].append(line)
    return parts
