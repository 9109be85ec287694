"""cpuidle: ``idle_states`` (and ``cpuN_``/``big_``/``<core>_idle_states``).

The value names the idle states to *enable*; every other state of those CPUs
is disabled (``stateM/disable`` is 1). A state is named by its ``name`` file
(``WFI``, ``cpu-sleep-0``...), case-insensitively, or as ``stateM``; ``all``
and ``none`` are shorthands, as in WA3. CPUs offline during the job are left
alone (their cpuidle directory may not even exist then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model.errors import close_matches
from ..model.parameters import shown, type_name
from .facts import DeviceFacts, cpu_range
from .given import Given, Problems, resolve
from .names import CPU
from .probe import read_files

if TYPE_CHECKING:
    from .journal import Journal


@dataclass(frozen=True)
class CpuidlePlan:
    """``disable`` value per (cpu, state index), with the key that asked for it."""

    disable: dict[tuple[int, int], tuple[str, str]]


def plan_cpuidle(givens: list[Given], facts: DeviceFacts, online: dict[int, bool],
                 problems: Problems) -> CpuidlePlan | None:
    entries: list[tuple[int, str, str, Given]] = []
    for given in givens:
        entries.extend(_entries(given, facts, online, problems))
    chosen = resolve(entries, problems, lambda cpu: f"both set cpu{cpu}")
    disable = {}
    for cpu in sorted(facts.cpus):
        for index in range(len(facts.cpus[cpu].idle_states)):
            choice = chosen.get((cpu, f"state{index}"))
            if choice is not None:
                disable[(cpu, index)] = (choice.value, choice.given.key)
    return CpuidlePlan(disable) if disable else None


def _names(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str | int) for item in value):
        return [str(item) for item in value]
    return None


def _entries(given: Given, facts: DeviceFacts, online: dict[int, bool], problems: Problems
             ) -> list[tuple[int, str, str, Given]]:
    if not facts.has_cpuidle:
        problems.add(given, f"the device has no cpuidle states ({facts.cpu_root}/cpu*/cpuidle/"
                            "state*/name could not be read)")
        return []
    cpus = facts.given_cpus(given, problems)
    if cpus is None:
        return []
    names = _names(given.value)
    if names is None:
        problems.add(given, f"expected an idle state name, a list of them, 'all' or 'none', "
                            f"got {type_name(given.value)} {shown(given.value)}")
        return []
    live = [cpu for cpu in cpus if online.get(cpu) and facts.cpus[cpu].idle_states]
    if not live:
        problems.add(given, f"{cpu_range(cpus)} has no idle states while the job runs" +
                     (" (it is offline)" if given.name.level == CPU else ""))
        return []
    entries: list[tuple[int, str, str, Given]] = []
    for cpu in live:
        states = facts.cpus[cpu].idle_states
        enabled = _enabled(names, states)
        if isinstance(enabled, str):
            problems.add(given, f"{enabled!r} is not an idle state of cpu{cpu} (its states: "
                                f"{', '.join(states)}).{close_matches(enabled, states)}")
            return []
        entries.extend((cpu, f"state{index}", "0" if index in enabled else "1", given)
                       for index in range(len(states)))
    return entries


def _enabled(names: list[str], states: tuple[str, ...]) -> set[int] | str:
    """The indices of the states to enable, or the first name that is no state."""
    if len(names) == 1 and names[0].strip().lower() in ("all", "none"):
        return set(range(len(states))) if names[0].strip().lower() == "all" else set()
    lowered = [state.lower() for state in states]
    enabled = set()
    for name in names:
        wanted = name.strip().lower()
        if wanted in lowered:
            enabled.add(lowered.index(wanted))
        elif wanted.startswith("state") and wanted[5:].isdigit() and \
                int(wanted[5:]) < len(states):
            enabled.add(int(wanted[5:]))
        else:
            return name
    return enabled


def apply_cpuidle(plan: CpuidlePlan, facts: DeviceFacts, journal: Journal) -> None:
    """Write each ``disable`` file that differs, CPU by CPU; every write recorded."""
    paths = {slot: f"{facts.cpu_root}/cpu{slot[0]}/cpuidle/state{slot[1]}/disable"
             for slot in plan.disable}
    current = read_files(journal.target, paths.values())
    for slot, (value, key) in plan.disable.items():
        journal.write(key, paths[slot], value, current[paths[slot]])
