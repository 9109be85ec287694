"""``cpuidle``: how long each CPU spent in each idle state during the job, and how often.

The kernel counts, for every CPU and idle state, the microseconds spent in it
(``cpuidle/stateN/time``) and the entries (``usage``). They are read, with
the target's clock (/proc/uptime), by one command just before the workload
and one just after; their differences are the metrics. WA3 has no such
instrument (its cpustates output processor works from an ftrace trace).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .cpustats import (
    IDLE_FILES,
    IDLE_STATES,
    UPTIME,
    IdleResidency,
    idle_residency,
    metric_word,
    parse_idle_states,
    parse_uptime,
    write_csv,
)
from .reading import read_files

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

TABLE = "cpuidle.csv"


class CpuIdle(Instrument):
    name = "cpuidle"
    description = """
        Time each CPU spent in each idle state during the workload, and how often.

        Time and share of the workload each CPU spent in each idle state, and how many
        times it entered it, from the kernel's cpuidle statistics.

        One command before the workload and one after it read every CPU's
        cpuidle/stateN/name, time and usage, with /proc/uptime as the clock. Needs a kernel
        with cpuidle (CONFIG_CPU_IDLE) and at least one idle state.
    """
    priority = Priority.FAST
    parameters = (OPTIONAL,)
    #: The states' names ({path: name}), read once by check(): a driver's states keep them.
    names: dict[str, str | None] | None = None

    def check(self, target: Target) -> None:
        """Refuse a device whose CPUs have no idle states, or whose counters cannot be read."""
        files = read_files(target, [f"{IDLE_STATES}/{name}" for name in IDLE_FILES])
        if not any(path.endswith("/name") for path in files):
            raise InstrumentUnavailable(
                f"the device has no cpuidle states: {IDLE_STATES}/ does not exist (a kernel "
                "without CONFIG_CPU_IDLE, or idle states turned off, e.g. cpuidle.off=1)")
        unreadable = sorted(path for path, text in files.items() if text is None)
        if unreadable:
            raise InstrumentUnavailable(f"cannot read {', '.join(unreadable[:3])}"
                                        + (" ..." if len(unreadable) > 3 else ""))
        self.names = {path: text for path, text in files.items() if path.endswith("/name")}

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, Any, Any]:
        before = self._read(job.target)
        try:
            return (yield)
        finally:
            after = self._read(job.target)
            _record(job, before, after)

    def _read(self, target: Target) -> dict[str, str | None]:
        """The counters and the clock (and the names, unless check() has them)."""
        wanted = IDLE_FILES if self.names is None else ("time", "usage")
        files = read_files(target, [UPTIME, *(f"{IDLE_STATES}/{name}" for name in wanted)])
        return {**(self.names or {}), **files}


def _record(job: JobContext, before: dict[str, str | None],
            after: dict[str, str | None]) -> None:
    elapsed = parse_uptime(after.get(UPTIME)) - parse_uptime(before.get(UPTIME))
    found = idle_residency(parse_idle_states(before), parse_idle_states(after), elapsed)
    words = _state_words(found)
    for cpu in sorted({residency.state.cpu for residency in found}):
        of_cpu = [residency for residency in found if residency.state.cpu == cpu]
        _add_metrics(job, cpu, of_cpu, words)
    assert job.output_directory is not None
    write_csv(job.output_directory / TABLE,
              ("cpu", "state", "name", "time_s", "residency_percent", "usage"),
              [[r.state.cpu, r.state.index, r.state.name, f"{r.seconds:.6f}",
                f"{r.percent:.2f}", r.usage] for r in found])
    job.add_artifact("cpuidle", TABLE, "data", "Time, share of the workload's duration and "
                     "entries of each idle state of each CPU during the workload.")


def _state_words(found: list[IdleResidency]) -> dict[tuple[int, int], str]:
    """Each state's part of its metric names: its name (``cluster-sleep`` ->
    ``cluster_sleep``), or ``stateN`` where that is empty, ``idle`` (the CPU's total) or
    already taken by another state of the CPU."""
    words: dict[tuple[int, int], str] = {}
    for residency in found:
        cpu, index = residency.state.cpu, residency.state.index
        word = metric_word(residency.state.name)
        taken = {words[key] for key in words if key[0] == cpu}
        words[cpu, index] = word if word and word != "idle" and word not in taken \
            else f"state{index}"
    return words


def _add_metrics(job: JobContext, cpu: int, found: list[IdleResidency],
                 words: dict[tuple[int, int], str]) -> None:
    """One CPU's metrics (see docs/instruments.md#cpuidle for the list)."""
    for residency in found:
        state = residency.state
        name = f"cpuidle_cpu{cpu}_{words[cpu, state.index]}"
        classifiers = {"cpu": cpu, "state": state.index, "idle_state": state.name}
        job.add_metric(f"{name}_time", round(residency.seconds, 6), "seconds",
                       classifiers=classifiers)
        job.add_metric(f"{name}_residency", round(residency.percent, 2), "percent",
                       classifiers=classifiers)
        job.add_metric(f"{name}_usage", residency.usage, "count", classifiers=classifiers)
    idle = sum(residency.seconds for residency in found)
    elapsed = found[0].elapsed if found else 0.0
    job.add_metric(f"cpuidle_cpu{cpu}_idle_time", round(idle, 6), "seconds",
                   classifiers={"cpu": cpu})
    job.add_metric(f"cpuidle_cpu{cpu}_idle_residency",
                   round(100.0 * idle / elapsed, 2) if elapsed > 0 else 0.0, "percent",
                   classifiers={"cpu": cpu})
