"""The kernel's CPU statistics as cpufreq and cpuidle instruments read them: pure parsing.

Both instruments read their counters in one command before the workload and
one after it (``reading.read_files``); everything here works on what those
commands returned, so it is tested without a device. The units are the
kernel's: ``stats/time_in_state`` counts clock ticks of 1/USER_HZ second
(10 ms on every Linux architecture: USER_HZ is 100), a cpuidle state's
``time`` counts microseconds, ``/proc/uptime`` is seconds.

A counter that went backwards during the job was reset (the stats were
cleared, or the policy was recreated when its last CPU went offline); the
difference would be nonsense, so it is an ``InstrumentError`` naming the file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model.errors import InstrumentError

CPU_ROOT = "/sys/devices/system/cpu"
#: Seconds per unit of stats/time_in_state (clock_t: 1/USER_HZ, and USER_HZ is 100).
TIME_IN_STATE_UNIT = 0.01
#: The files of a cpufreq policy read at each side of the job.
POLICY_FILES = ("related_cpus", "scaling_governor", "scaling_cur_freq", "stats/time_in_state",
                "stats/total_trans")
#: Where the policies are: one directory each since Linux 4.3, else cpuN/cpufreq.
POLICY_DIRECTORIES = (f"{CPU_ROOT}/cpufreq/policy[0-9]*", f"{CPU_ROOT}/cpu[0-9]*/cpufreq")
#: The files of an idle state read at each side of the job, and the clock read with them.
IDLE_STATES = f"{CPU_ROOT}/cpu[0-9]*/cpuidle/state[0-9]*"
IDLE_FILES = ("name", "time", "usage")
UPTIME = "/proc/uptime"


# --- cpufreq -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    """One cpufreq policy (the CPUs that share a clock) as read at one moment."""

    name: str  # policyN, N its first CPU
    directory: str
    cpus: tuple[int, ...]
    governor: str | None
    frequency: int | None  # kHz
    time_in_state: dict[int, int] | None  # kHz -> 10 ms units; None: no stats
    transitions: int | None


def policy_paths(directory_glob: str) -> list[str]:
    """The globs to read every policy's files under ``directory_glob``."""
    return [f"{directory_glob}/{name}" for name in POLICY_FILES]


def parse_policies(files: dict[str, str | None]) -> list[Policy]:
    """The policies in ``read_files`` output, by first CPU; CPUs sharing one appear once."""
    directories: dict[str, dict[str, str | None]] = {}
    for path, text in files.items():
        for name in POLICY_FILES:
            if path.endswith(f"/{name}"):
                directories.setdefault(path[:-len(name) - 1], {})[name] = text
                break
    policies: dict[tuple[int, ...], Policy] = {}
    for directory, found in sorted(directories.items()):
        cpus = tuple(sorted(int(cpu) for cpu in (found.get("related_cpus") or "").split()
                            if cpu.isdigit()))
        if not cpus or cpus in policies:
            continue
        table = found.get("stats/time_in_state")
        policies[cpus] = Policy(
            f"policy{cpus[0]}", directory, cpus, found.get("scaling_governor"),
            _integer(found.get("scaling_cur_freq")),
            parse_time_in_state(table, f"{directory}/stats/time_in_state")
            if table is not None else None,
            _integer(found.get("stats/total_trans")))
    return sorted(policies.values(), key=lambda policy: policy.cpus)


def parse_time_in_state(text: str, path: str) -> dict[int, int]:
    """``<kHz> <ticks>`` lines as {kHz: ticks}, in the kernel's order."""
    table: dict[int, int] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) != 2 or not all(word.isdigit() for word in words):
            raise InstrumentError(f"{path}: expected '<kHz> <time>' lines, got {line!r}")
        table[int(words[0])] = int(words[1])
    return table


@dataclass(frozen=True)
class FrequencyResidency:
    """What one policy did during the job."""

    policy: Policy  # as read before the job
    cluster: int
    governor_after: str | None
    frequency_after: int | None
    seconds: dict[int, float]  # kHz -> seconds at it, every frequency of the table
    transitions: int | None

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def percent(self, frequency: int) -> float:
        return 100.0 * self.seconds[frequency] / self.total if self.total else 0.0

    @property
    def average_frequency(self) -> float | None:
        """kHz, weighted by time; None when no time was counted (a job under 10 ms)."""
        if not self.total:
            return None
        return sum(freq * time for freq, time in self.seconds.items()) / self.total


def frequency_residency(before: list[Policy], after: list[Policy]) -> list[FrequencyResidency]:
    """Each policy's time per frequency and transitions between two readings."""
    later = {policy.cpus: policy for policy in after}
    found = []
    for cluster, first in enumerate(before):
        last = later.get(first.cpus)
        if last is None:
            raise InstrumentError(f"cpufreq {first.name} ({first.directory}) was gone after "
                                  "the job: all of its CPUs went offline during it")
        if first.time_in_state is None or last.time_in_state is None:
            raise InstrumentError(f"cannot read {first.directory}/stats/time_in_state")
        if not first.time_in_state or not last.time_in_state:
            raise InstrumentError(
                f"{first.directory}/stats/time_in_state is empty: kernels older than about "
                "5.10 keep no statistics while a governor switches frequency fast (schedutil); "
                "use another governor, or a newer kernel")
        path = f"{first.directory}/stats/time_in_state"
        seconds = {freq: _difference(last.time_in_state.get(freq, 0), ticks, f"{path} ({freq})")
                   * TIME_IN_STATE_UNIT for freq, ticks in first.time_in_state.items()}
        transitions = None
        if first.transitions is not None and last.transitions is not None:
            transitions = _difference(last.transitions, first.transitions,
                                      f"{first.directory}/stats/total_trans")
        found.append(FrequencyResidency(first, cluster, last.governor, last.frequency, seconds,
                                        transitions))
    return found


# --- cpuidle -----------------------------------------------------------------------------

@dataclass(frozen=True)
class IdleState:
    """One idle state of one CPU as read at one moment."""

    cpu: int
    index: int
    name: str
    time: int  # microseconds
    usage: int


_STATE_PATH = re.compile(r"/cpu(\d+)/cpuidle/state(\d+)/(\w+)$")


def parse_idle_states(files: dict[str, str | None]) -> dict[tuple[int, int], IdleState]:
    """{(cpu, state index): state}, from ``read_files`` output; unreadable counters are
    an InstrumentError."""
    found: dict[tuple[int, int], dict[str, str | None]] = {}
    for path, text in files.items():
        match = _STATE_PATH.search(path)
        if match and match.group(3) in IDLE_FILES:
            found.setdefault((int(match.group(1)), int(match.group(2))), {})[match.group(3)] = text
    states = {}
    for (cpu, index), values in sorted(found.items()):
        directory = f"cpu{cpu}/cpuidle/state{index}"
        numbers = [_integer(values.get(name)) for name in ("time", "usage")]
        if None in numbers:
            raise InstrumentError(f"cannot read {CPU_ROOT}/{directory}/time and usage "
                                  f"(got {values.get('time')!r}, {values.get('usage')!r})")
        states[cpu, index] = IdleState(cpu, index, values.get("name") or f"state{index}",
                                       numbers[0] or 0, numbers[1] or 0)
    return states


def parse_uptime(text: str | None) -> float:
    """The first number of /proc/uptime: seconds since boot."""
    try:
        return float((text or "").split()[0])
    except (IndexError, ValueError):
        raise InstrumentError(f"cannot read {UPTIME} (got {text!r})") from None


@dataclass(frozen=True)
class IdleResidency:
    """What one idle state of one CPU did during the job."""

    state: IdleState  # as read before the job
    seconds: float
    usage: int
    elapsed: float  # seconds the job lasted, by the target's clock

    @property
    def percent(self) -> float:
        return 100.0 * self.seconds / self.elapsed if self.elapsed > 0 else 0.0


def idle_residency(before: dict[tuple[int, int], IdleState], after: dict[tuple[int, int],
                   IdleState], elapsed: float) -> list[IdleResidency]:
    """Each state's time and entries between two readings ``elapsed`` seconds apart."""
    found = []
    for key, first in sorted(before.items()):
        last = after.get(key)
        where = f"{CPU_ROOT}/cpu{first.cpu}/cpuidle/state{first.index}"
        if last is None:
            raise InstrumentError(f"{where} was gone after the job")
        found.append(IdleResidency(
            first, _difference(last.time, first.time, f"{where}/time") / 1e6,
            _difference(last.usage, first.usage, f"{where}/usage"), elapsed))
    return found


# --- shared ------------------------------------------------------------------------------

def metric_word(name: str) -> str:
    """A state or policy name as part of a metric name: ``cluster-sleep`` -> ``cluster_sleep``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def cpu_list(cpus: Sequence[int]) -> str:
    """``0-3``, or ``0,2`` when not contiguous: the kernel's list syntax."""
    if len(cpus) > 1 and list(cpus) == list(range(cpus[0], cpus[-1] + 1)):
        return f"{cpus[0]}-{cpus[-1]}"
    return ",".join(map(str, cpus))


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _difference(after: int, before: int, what: str) -> int:
    if after < before:
        raise InstrumentError(f"{what} went backwards during the job ({before} -> {after}): "
                              "the counter was reset")
    return after - before


def _integer(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None
