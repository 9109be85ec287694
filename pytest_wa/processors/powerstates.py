"""Each CPU's power state through a trace: running at a frequency, idle in a state, or unknown.

The model is WA3's (``wa/utils/cpustates.py``): a CPU is unknown until the
trace says otherwise (running, with ``no_idle``), a cpu_idle event with a
state index puts it in that idle state and one with -1 makes it run, a
cpu_frequency event sets its frequency, and lost events make it unknown
again. The deepest idle state of a CPU that shares its frequency domain is
taken to be a cluster state: a CPU asking for it stays in the next shallower
state until every CPU of its domain has asked for it too (and falls back to
that shallower state when one of them wakes up).

Only the span between the job's markers counts (the whole trace when it has
none); the events before the START marker set the states the span starts in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .ftrace_text import Dropped, Event, Marker, Transition

#: A CPU's state as reported: (idle state, or -1 running, or None unknown; frequency or None).
CoreState = tuple[int | None, int | None]


@dataclass(frozen=True)
class Cpu:
    """What the device says of one CPU: what its columns are called, which CPUs share its
    frequency (itself included), its idle states' names and its highest frequency."""

    index: int
    name: str = "cpu"
    domain: tuple[int, ...] = ()
    idle_states: tuple[str, ...] = ()
    max_frequency: int | None = None

    @property
    def column(self) -> str:
        return f"{self.name} CPU{self.index}"

    def idle_name(self, state: int) -> str:
        """The state's name; ``idle[N]`` when the device did not name it."""
        if 0 <= state < len(self.idle_states):
            return self.idle_states[state]
        return f"idle[{state}]"


@dataclass
class Snapshot:
    """The CPUs' states from ``timestamp`` until the next snapshot (or the span's end)."""

    timestamp: float
    states: list[CoreState]


@dataclass
class Timeline:
    """The span's snapshots, where it ends, every transition up to its end, and what went
    wrong on the way (for the job's events)."""

    snapshots: list[Snapshot] = field(default_factory=list)
    end: float | None = None
    transitions: list[Transition] = field(default_factory=list)
    #: What went wrong, with how many times (for the job's events).
    problems: dict[str, int] = field(default_factory=dict)

    def problem(self, what: str) -> None:
        self.problems[what] = self.problems.get(what, 0) + 1


class PowerStates:
    """The CPUs' requested and effective states as events arrive."""

    def __init__(self, cpus: list[Cpu], no_idle: bool, split_wfi: bool) -> None:
        self.cpus = cpus
        self.requested: list[int | None] = [-1 if no_idle else None] * len(cpus)
        self.frequency: list[int | None] = [None] * len(cpus)
        self.split_wfi = split_wfi

    def apply(self, event: Transition | Dropped) -> None:
        if event.cpu >= len(self.cpus):
            raise ValueError(f"CPU {event.cpu} is not one of the device's {len(self.cpus)}")
        if isinstance(event, Dropped):
            self.requested[event.cpu] = self.frequency[event.cpu] = None
        elif event.frequency is not None:
            self.frequency[event.cpu] = event.frequency
        else:
            self.requested[event.cpu] = event.idle_state

    def effective(self, cpu: int) -> int | None:
        """The idle state the CPU is in (-1: running; None: unknown), given its domain."""
        asked = self.requested[cpu]
        if asked is None or asked < 0:
            return asked
        info = self.cpus[cpu]
        deepest = len(info.idle_states) - 1
        others = [o for o in info.domain if o != cpu and o < len(self.cpus)]
        if deepest < 1 or asked < deepest or not others:
            return asked
        theirs = [self.requested[o] for o in others]
        if any(state is None for state in theirs):
            return None  # whether the cluster state was reached cannot be told
        if all(state is not None and state >= deepest for state in theirs):
            return asked
        return deepest - 1

    def states(self) -> list[CoreState]:
        """(idle state, frequency) per CPU: the frequency of a running CPU, and of one in
        idle state 0 when WFI is split by frequency."""
        result: list[CoreState] = []
        for cpu in range(len(self.cpus)):
            idle = self.effective(cpu)
            if idle == -1 or (idle == 0 and self.split_wfi):
                result.append((idle, self.frequency[cpu]))
            else:
                result.append((idle, None))
        return result


def timeline(events: Iterable[Event], cpus: list[Cpu], *, no_idle: bool = False,
             split_wfi: bool = False) -> Timeline:
    """The CPUs' states through the span between the markers (or the whole trace)."""
    events = list(events)
    marked = any(isinstance(e, Marker) and e.name == "START" for e in events)
    model = PowerStates(cpus, no_idle, split_wfi)
    result = Timeline()
    started = not marked
    last: float | None = None
    for event in _until_stop(events, result, marked):
        if isinstance(event, Marker):
            if event.name == "START" and not started:
                started = True
                result.snapshots.append(Snapshot(event.timestamp, model.states()))
            last = event.timestamp if started else last
            continue
        _apply(model, event, result)
        if isinstance(event, Transition) and started:
            last = event.timestamp
        if started and last is not None:  # lost events: unknown since the last event
            result.snapshots.append(Snapshot(last, model.states()))
    result.end = last
    return result


def _until_stop(events: list[Event], result: Timeline, marked: bool) -> Iterator[Event]:
    """The events up to the STOP marker (that one included)."""
    for event in events:
        if isinstance(event, Transition):
            result.transitions.append(event)
        yield event
        if marked and isinstance(event, Marker) and event.name == "STOP":
            return
    if marked:
        result.problem("the trace has no TRACE_MARKER_STOP line: counted to its last event")


def _apply(model: PowerStates, event: Transition | Dropped, result: Timeline) -> None:
    if isinstance(event, Transition) and event.idle_state is not None \
            and event.cpu < len(model.cpus):
        before = model.requested[event.cpu]
        if before is not None and (before >= 0) == (event.idle_state >= 0):
            what = "entered" if event.idle_state >= 0 else "left"
            result.problem(f"a CPU {what} idle twice in a row (the second event counts)")
    try:
        model.apply(event)
    except ValueError as exc:
        result.problem(str(exc))
