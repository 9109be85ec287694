"""The power events of a text trace: cpu_idle, cpu_frequency, the job's markers, lost events.

``cpustates`` reads the ``trace.txt`` the ``trace-cmd`` instrument saves, which
is one of three layouts, all read here alike:

- ``trace-cmd report`` 2.x: ``  <idle>-0  [000]  3284.126993: cpu_idle: state=1 cpu_id=0``;
- ``trace-cmd report`` 3.x of an instance's trace, each line prefixed with the
  instance (``pytest-wa-123:  <idle>-0 [000] 3284.126993: cpu_idle: ...``);
- tracefs's own ``trace`` file (``method: tracefs``), with its ``# ...``
  header and a column of flags before the timestamp (``[000] d..1. 3284.1269``).

Markers are the lines the instrument writes to ``trace_marker``
(``print`` events to trace-cmd, ``tracing_mark_write`` to tracefs), as are
the frequencies devlib writes there at the start of a trace (``cpu_frequency_devlib:
state=F cpu_id=N`` and the older ``CPU N FREQUENCY: F kHZ``): a trace taken by
WA3 reads the same. Everything else in the trace is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MARKER_START = "TRACE_MARKER_START"
MARKER_STOP = "TRACE_MARKER_STOP"
#: cpu_idle's state when a CPU leaves idle: (u32)-1.
IDLE_EXIT = 4294967295

_EVENT = re.compile(
    r"^(?:[^\s:]+:)?\s*(?P<thread>.*?)\s+(?:\(\s*[-\d]+\)\s+)?\[(?P<cpu>\d+)\]\s+"
    r"(?:[^\s\[\]]{4,6}\s+)?(?P<ts>\d+\.\d+):\s+(?P<name>[^:\s]+):\s*(?P<body>.*?)\s*$")
_DROPPED = re.compile(r"CPU:(?P<cpu>\d+) \[(?:\d*\s*EVENTS DROPPED|LOST \d+ EVENTS)\]")
_CPUS = re.compile(r"^(?:cpus=(?P<cpus>\d+)\s*$|#.*#P:(?P<p>\d+))")
_FIELD = re.compile(r"(\w+)=(\S+)")
_DEVLIB_FREQUENCY = re.compile(r"cpu_frequency(?:_devlib)?:\s+state=(?P<freq>\d+)\s+"
                               r"cpu_id=(?P<cpu>\d+)")
_INIT_FREQUENCY = re.compile(r"CPU (?P<cpu>\d+) FREQUENCY: (?P<freq>\d+) kHZ")
_PRINTS = frozenset({"print", "tracing_mark_write", "bprint", "bputs"})
#: Words of every line that matters: a line without any is skipped unparsed.
_WORDS = ("cpu_idle", "cpu_frequency", "TRACE_MARKER", "FREQUENCY", "EVENTS")


@dataclass(frozen=True)
class Transition:
    """A CPU entering an idle state (``idle_state`` >= 0), leaving idle (-1), or
    changing frequency (``frequency`` in kHz): exactly one of the two is set."""

    timestamp: float
    cpu: int
    frequency: int | None = None
    idle_state: int | None = None


@dataclass(frozen=True)
class Marker:
    """TRACE_MARKER_START or TRACE_MARKER_STOP: where the job's workload ran."""

    timestamp: float
    name: str  # "START" or "STOP"


@dataclass(frozen=True)
class Dropped:
    """The ring buffer lost events of this CPU here: its state is unknown from now on."""

    cpu: int


Event = Transition | Marker | Dropped


def power_events(lines: Iterable[str]) -> Iterator[Event]:
    """The events ``cpustates`` uses, in the trace's order."""
    for line in lines:
        if not any(word in line for word in _WORDS):
            continue  # most of a trace: sched, irq... events (a regex costs more)
        if "EVENTS" in line:
            dropped = _DROPPED.search(line)
            if dropped:
                yield Dropped(int(dropped.group("cpu")))
                continue
        match = _EVENT.match(line)
        if match is None:
            continue
        event = _event(match.group("name"), float(match.group("ts")), match.group("body"))
        if event is not None:
            yield event


def _event(name: str, timestamp: float, body: str) -> Event | None:
    if name in ("cpu_idle", "cpu_frequency"):
        fields = dict(_FIELD.findall(body))
        try:
            state, cpu = int(fields["state"]), int(fields["cpu_id"])
        except (KeyError, ValueError):
            return None
        if name == "cpu_frequency":
            return Transition(timestamp, cpu, frequency=state)
        # a signed 32-bit value printed unsigned by today's kernels (-1 by old ones)
        return Transition(timestamp, cpu, idle_state=state - (1 << 32) if state >= 1 << 31
                          else state)
    if name in _PRINTS:
        return _printed(timestamp, body)
    return None


def _printed(timestamp: float, body: str) -> Event | None:
    """A line written to trace_marker: a job marker or a frequency devlib recorded."""
    if MARKER_START in body:
        return Marker(timestamp, "START")
    if MARKER_STOP in body:
        return Marker(timestamp, "STOP")
    match = _DEVLIB_FREQUENCY.search(body) or _INIT_FREQUENCY.search(body)
    if match is None:
        return None
    return Transition(timestamp, int(match.group("cpu")), frequency=int(match.group("freq")))


def trace_cpus(lines: Iterable[str]) -> int | None:
    """How many CPUs the trace says the device has (``cpus=N`` of trace-cmd, ``#P:N``
    of tracefs), from its first lines; None if it does not say."""
    for number, line in enumerate(lines):
        match = _CPUS.match(line)
        if match:
            return int(match.group("cpus") or match.group("p"))
        if number > 20:
            break
    return None
