"""One job spec's runtime parameters: checked against the device, planned, applied.

``read_givens`` takes the names apart without a device; ``build_plan``
checks every value against the device's facts and returns the problems
found (all of them, each located); ``apply_plan`` writes the plan in WA3's
order: sysfiles, hotplug, cpufreq, cpuidle, Android settings. Hotplug comes
before cpufreq and cpuidle because a CPU must be online to be configured;
the journal undoes it all in reverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model.errors import Location, Problem, close_matches
from .android_settings import AndroidPlan, apply_android, plan_android
from .cpufreq import CpufreqPlan, apply_cpufreq, plan_cpufreq
from .cpuidle import CpuidlePlan, apply_cpuidle, plan_cpuidle
from .facts import DeviceFacts
from .given import Given, Problems, located
from .hotplug import HotplugPlan, apply_hotplug, plan_hotplug
from .names import (
    PLAIN_SETTINGS,
    SCOPED_SETTINGS,
    UnknownName,
    UnsupportedName,
    parse_name,
    spelled,
)
from .sysfiles import SysfilesPlan, apply_sysfiles, plan_sysfiles, sysfile_paths

if TYPE_CHECKING:
    from ..agenda.spec import JobSpec
    from .journal import Journal

GROUPS = ("sysfiles", "hotplug", "cpufreq", "cpuidle", "android")


@dataclass
class Givens:
    """A spec's runtime parameters by module, and the names that are none of WA3's."""

    groups: dict[str, list[Given]] = field(default_factory=lambda: {g: [] for g in GROUPS})
    unknown: list[tuple[str, Location, UnknownName]] = field(default_factory=list)

    @property
    def needs_root(self) -> Given | None:
        """The first parameter written through sysfs (which takes root), if any."""
        return next((given for group in GROUPS if group != "android"
                     for given in self.groups[group]), None)

    def sysfile_paths(self) -> list[str]:
        return [path for given in self.groups["sysfiles"] for path in sysfile_paths(given)]


def read_givens(spec: JobSpec) -> Givens:
    """The spec's parameters taken apart by name; ``null`` values mean "not set"."""
    result = Givens()
    parameters = spec.runtime_parameters
    for key, value in parameters.items():
        where = located(parameters, key, spec.location)
        if value is None:
            continue
        try:
            name = parse_name(str(key))
        except UnknownName as exc:
            result.unknown.append((str(key), where, exc))
            continue
        result.groups[name.group].append(Given(name, value, where))
    return result


def known_names(facts: DeviceFacts) -> list[str]:
    """Every runtime parameter name valid on this device (for did-you-mean hints)."""
    scopes: list[str | None] = [None, *facts.scopes()]
    groups = [*facts.clusters, *facts.core_names]
    return [*PLAIN_SETTINGS, *(spelled(s, scope) for scope in scopes for s in SCOPED_SETTINGS),
            *(f"cpu{cpu}_online" for cpu in facts.cpus),
            *(spelled("num_cores", scope) for scope in [None, *groups])]


@dataclass(frozen=True)
class SpecPlan:
    """What one spec sets, module by module (None: nothing)."""

    sysfiles: SysfilesPlan | None = None
    hotplug: HotplugPlan | None = None
    cpufreq: CpufreqPlan | None = None
    cpuidle: CpuidlePlan | None = None
    android: AndroidPlan | None = None


def root_hint(kind: str) -> str:
    if kind == "adb":
        return ("set adb_as_root: true in the device's config (userdebug and eng builds), "
                "or use a device with su")
    return "connect as root, or allow the user passwordless sudo"


def build_plan(spec: JobSpec, facts: DeviceFacts) -> tuple[SpecPlan, Problems]:
    """Check the spec's parameters against the device; the plan and every problem found."""
    givens = read_givens(spec)
    problems = Problems()
    for key, where, error in givens.unknown:
        hint = "" if isinstance(error, UnsupportedName) else \
            "." + close_matches(key.lower(), known_names(facts))
        problems.at(where, f"runtime_parameters.{key}", f"{error}{hint}")
    first = givens.needs_root
    if first is not None and facts.root is False:
        problems.add(first, f"writing to sysfs needs root on device {facts.device!r}: "
                            f"{root_hint(facts.kind)}", key="runtime_parameters")
    groups = givens.groups
    sysfiles = plan_sysfiles(groups["sysfiles"], facts, problems)
    hotplug, online = plan_hotplug(groups["hotplug"], facts, problems)
    cpufreq = plan_cpufreq(groups["cpufreq"], facts, online, problems)
    cpuidle = plan_cpuidle(groups["cpuidle"], facts, online, problems)
    android = plan_android(groups["android"], facts, problems)
    _in_agenda_order(problems, spec)
    return SpecPlan(sysfiles, hotplug, cpufreq, cpuidle, android), problems


def _in_agenda_order(problems: Problems, spec: JobSpec) -> None:
    """Sort by line, then by the order the keys are written in (the root problem first)."""
    order = {f"runtime_parameters.{key}": index
             for index, key in enumerate(spec.runtime_parameters)}

    def rank(problem: Problem) -> tuple[int, int]:
        top = ".".join(problem.key.split(".")[:2])
        return problem.location.line, order.get(top, -1)

    problems.items.sort(key=rank)


def apply_plan(plan: SpecPlan, facts: DeviceFacts, journal: Journal) -> None:
    """Write everything the plan sets, recording each change in ``journal``."""
    if plan.sysfiles:
        apply_sysfiles(plan.sysfiles, journal)
    if plan.hotplug:
        apply_hotplug(plan.hotplug, facts, journal)
    if plan.cpufreq:
        apply_cpufreq(plan.cpufreq, facts, journal)
    if plan.cpuidle:
        apply_cpuidle(plan.cpuidle, facts, journal)
    if plan.android:
        apply_android(plan.android, facts, journal)
