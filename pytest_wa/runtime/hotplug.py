"""Hotplug: ``cpuN_online``, ``num_cores``, ``num_<cluster or core>_cores``.

``num_..._cores: N`` keeps the first N CPUs of its scope (lowest numbers)
online and takes the others offline, as WA3 does. The lowest CPU (cpu0) is
never taken offline: most kernels cannot, and a device with no CPU online is
no device. CPUs are brought online first, lowest first, then taken offline,
highest first, so at no point are fewer CPUs online than at the start and the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model.parameters import ParameterValueError, boolean, integer
from .facts import DeviceFacts, ScopeError, cpu_range
from .given import Given, Problems, resolve
from .names import CPU
from .probe import read_files

if TYPE_CHECKING:
    from .journal import Journal


@dataclass(frozen=True)
class HotplugPlan:
    """The online state wanted for each CPU the job's parameters decide."""

    online: dict[int, tuple[bool, str]]  # cpu -> (online, the key that asked)


def plan_hotplug(givens: list[Given], facts: DeviceFacts, problems: Problems
                 ) -> tuple[HotplugPlan | None, dict[int, bool]]:
    """The plan, and every CPU's online state during the job (for cpufreq and cpuidle)."""
    entries = []
    for given in givens:
        entries.extend(_entries(given, facts, problems))
    chosen = resolve(entries, problems, lambda cpu: f"both set cpu{cpu}")
    first = min(facts.cpus, default=0)
    online = {cpu: facts.cpus[cpu].online for cpu in facts.cpus}
    wanted: dict[int, tuple[bool, str]] = {}
    for cpu in sorted(facts.cpus):
        choice = chosen.get((cpu, "online"))
        if choice is None:
            continue
        state = bool(choice.value)
        if state and not facts.cpus[cpu].hotpluggable:
            continue  # a CPU that cannot be hotplugged is always online
        if not state and cpu == first:
            problems.add(choice.given, f"cpu{first} stays online: it cannot be taken offline"
                         + ("" if choice.given.name.level == CPU else
                            f" (so {choice.given.key} must be at least 1)"))
            continue
        if not state and not facts.cpus[cpu].hotpluggable:
            problems.add(choice.given, f"cpu{cpu} cannot be taken offline: the device has no "
                                       f"{facts.cpu_root}/cpu{cpu}/online")
            continue
        online[cpu] = state
        wanted[cpu] = (state, choice.given.key)
    return (HotplugPlan(wanted) if wanted else None), online


def _entries(given: Given, facts: DeviceFacts, problems: Problems
             ) -> list[tuple[int, str, bool, Given]]:
    if given.name.setting == "online":
        try:
            cpus = facts.scope_cpus(given.name.scope)
            state = boolean(given.value)
        except (ScopeError, ParameterValueError) as exc:
            problems.add(given, str(exc))
            return []
        return [(cpus[0], "online", state, given)]
    if given.name.level == CPU:
        problems.add(given, f"to take one CPU on or offline, use {given.name.scope}_online")
        return []
    try:
        cpus = facts.scope_cpus(given.name.scope)
        count = integer(given.value)
    except (ScopeError, ParameterValueError) as exc:
        problems.add(given, str(exc))
        return []
    if not 0 <= count <= len(cpus):
        problems.add(given, f"must be between 0 and {len(cpus)} (the number of "
                            f"{cpu_range(cpus)}), got {count}")
        return []
    return [(cpu, "online", index < count, given) for index, cpu in enumerate(sorted(cpus))]


def apply_hotplug(plan: HotplugPlan, facts: DeviceFacts, journal: Journal) -> None:
    """Online first (lowest first), then offline (highest first); each write recorded."""
    paths = {cpu: f"{facts.cpu_root}/cpu{cpu}/online" for cpu in plan.online}
    current = read_files(journal.target, paths.values())
    bring_up = sorted(cpu for cpu, (state, _) in plan.online.items() if state)
    take_down = sorted((cpu for cpu, (state, _) in plan.online.items() if not state),
                       reverse=True)
    for cpu in (*bring_up, *take_down):
        state, key = plan.online[cpu]
        journal.write(key, paths[cpu], int(state), current[paths[cpu]])
