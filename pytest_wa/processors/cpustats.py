"""What ``cpustates`` reports of a timeline: residency per power state, parallelism per
cluster, and the cells of its timelines (WA3's names for states and columns).

Times are in seconds and fractions in 0..1 here; the CSV writer turns them
into percentages unless ``use_ratios`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from .powerstates import CoreState, Cpu, Timeline

#: (cluster, number of its CPUs running, seconds, of the span, of the cluster's running time)
ParallelRow = tuple[str, int, float, float, float]


@dataclass
class Stats:
    """A job's figures: the span's length, each state's share per CPU, parallelism."""

    total: float
    residency: dict[str, list[float]]
    parallel: list[ParallelRow]


def state_label(cpu: Cpu, state: CoreState) -> str:
    """The row name of power-state-stats.csv: ``0800000KHz`` for a running CPU (kHz, seven
    digits), an idle state's name (with the frequency when WFI is split), or ``unknown``."""
    idle, frequency = state
    if idle == -1:
        return "Running (unknown KHz)" if frequency is None else f"{frequency:07}KHz"
    if idle is None:
        return "unknown"
    if frequency is not None:
        return f"{cpu.idle_name(idle)}-{frequency:07}KHz"
    return cpu.idle_name(idle)


def timeline_cell(cpu: Cpu, state: CoreState) -> str | int:
    """A cell of power-state-timeline.csv: the frequency of a running CPU, else its state."""
    idle, frequency = state
    if idle == -1:
        return "Running (unknown kHz)" if frequency is None else frequency
    if idle is None:
        return "unknown"
    if frequency is not None:
        return f"{cpu.idle_name(idle)} ({frequency})"
    return cpu.idle_name(idle)


def utilization_cell(cpu: Cpu, state: CoreState) -> float | None:
    """A running CPU's frequency over its highest (utilization-timeline.csv)."""
    frequency = state[1]
    if frequency is None or not cpu.max_frequency:
        return None
    return frequency / cpu.max_frequency


def clusters(cpus: list[Cpu]) -> dict[str, set[int]]:
    """The frequency domains in CPU order, named 0, 1...; then ``all``. A CPU with no known
    domain is a domain of its own."""
    domains: list[tuple[int, ...]] = []
    for cpu in cpus:
        domain = tuple(sorted(cpu.domain)) or (cpu.index,)
        if domain not in domains:
            domains.append(domain)
    named = {str(number): set(domain) for number, domain in enumerate(domains)}
    named["all"] = {cpu.index for cpu in cpus}
    return named


def intervals(line: Timeline) -> list[tuple[float, list[CoreState]]]:
    """How long each snapshot's states lasted."""
    if line.end is None:
        return []
    ends = [s.timestamp for s in line.snapshots[1:]] + [line.end]
    return [(max(end - snap.timestamp, 0.0), snap.states)
            for snap, end in zip(line.snapshots, ends, strict=True)]


def stats(line: Timeline, cpus: list[Cpu]) -> Stats | None:
    """The job's figures; None when the span holds no power event at all."""
    if not line.snapshots or line.end is None:
        return None
    total = max(line.end - line.snapshots[0].timestamp, 0.0)
    spans = intervals(line)
    return Stats(total, residency(spans, cpus, total), parallel(spans, cpus, total))


def residency(spans: list[tuple[float, list[CoreState]]], cpus: list[Cpu],
              total: float) -> dict[str, list[float]]:
    """Each state's share of the span, per CPU (0 where a CPU never was in it)."""
    seconds: dict[str, list[float]] = {}
    for duration, states in spans:
        for position, (cpu, state) in enumerate(zip(cpus, states, strict=True)):
            row = seconds.setdefault(state_label(cpu, state), [0.0] * len(cpus))
            row[position] += duration
    return {label: [(t / total if total else 0.0) for t in row]
            for label, row in sorted(seconds.items())}


def parallel(spans: list[tuple[float, list[CoreState]]], cpus: list[Cpu],
             total: float) -> list[ParallelRow]:
    """For each cluster and each number of its CPUs: how long exactly that many ran, of the
    span and of the time at least one ran (0 for none running)."""
    groups = clusters(cpus)
    times = {name: [0.0] * (len(members) + 1) for name, members in groups.items()}
    for duration, states in spans:
        running = {cpu for cpu, (idle, _) in enumerate(states) if idle == -1}
        for name, members in groups.items():
            times[name][len(members & running)] += duration
    rows: list[ParallelRow] = []
    for name, counts in times.items():
        running_time = sum(counts[1:])
        for number, seconds in enumerate(counts):
            of_running = seconds / running_time if number and running_time else 0.0
            rows.append((name, number, seconds, seconds / total if total else 0.0,
                         of_running))
    return rows
