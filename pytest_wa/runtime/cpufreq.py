"""cpufreq: ``governor``, ``frequency``, ``min_frequency``, ``max_frequency``, ``gov_tunables``.

Each applies to every CPU, or to a scope (``cpu2_``, ``big_``, ``a55_``...).
The kernel shares one policy between the CPUs of a domain (``related_cpus``),
so settings are resolved and written once per domain, through a CPU of it
that is online during the job. ``frequency`` pins a domain: it sets the
minimum and the maximum (and ``scaling_setspeed`` under the userspace
governor), so it cannot be combined with ``min_frequency``/``max_frequency``
of the same scope, but a narrower scope may override either bound.

Order of writes, per domain: governor, then its tunables (their directory
exists only once the governor runs), then minimum and maximum in the order
that keeps min <= max at every step, then ``scaling_setspeed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model.errors import TargetError, close_matches
from ..model.parameters import ParameterValueError, integer, shown, string, type_name
from .facts import CpuFacts, DeviceFacts, cpu_range, parse_cpu_list
from .given import Choice, Given, Problems, located, resolve
from .probe import read_files

if TYPE_CHECKING:
    from .journal import Journal

#: Which bounds each frequency setting decides.
_FREQUENCY_FIELDS = {"frequency": ("min", "max", "setspeed"), "min_frequency": ("min",),
                     "max_frequency": ("max",)}
_STATE_FILES = ("scaling_governor", "scaling_min_freq", "scaling_max_freq", "scaling_setspeed")


@dataclass
class DomainPlan:
    """What to set for one cpufreq domain; each value with the parameter that gave it."""

    cpus: tuple[int, ...]
    governor: Choice | None = None
    tunables: dict[str, Choice] = field(default_factory=dict)
    min: Choice | None = None
    max: Choice | None = None
    setspeed: Choice | None = None


@dataclass(frozen=True)
class CpufreqPlan:
    domains: list[DomainPlan]


#: The path of a cpufreq file of a domain, through the CPU of it chosen to write through.
PathOf = Callable[[DomainPlan, str], str]


def plan_cpufreq(givens: list[Given], facts: DeviceFacts, online: dict[int, bool],
                 problems: Problems) -> CpufreqPlan | None:
    """Check every cpufreq parameter against the device and resolve it per domain."""
    entries: list[tuple[tuple[int, ...], str, Any, Given]] = []
    for given in givens:
        entries.extend(_entries(given, facts, online, problems))
    chosen = resolve(entries, problems, lambda domain: f"both set {cpu_range(domain)}")
    plans: dict[tuple[int, ...], DomainPlan] = {}
    for (domain, name), choice in chosen.items():
        assert isinstance(domain, tuple)
        plan = plans.setdefault(domain, DomainPlan(domain))
        if name.startswith("tunable:"):
            plan.tunables[name.partition(":")[2]] = choice
        else:
            setattr(plan, name, choice)
    for plan in plans.values():
        if plan.min and plan.max and plan.min.value > plan.max.value:
            problems.add(plan.min.given, f"the minimum frequency {plan.min.value} would be "
                                         f"above the maximum {plan.max.value} "
                                         f"({plan.max.given.key}) for {cpu_range(plan.cpus)}")
    return CpufreqPlan(sorted(plans.values(), key=lambda p: p.cpus)) if plans else None


def _entries(given: Given, facts: DeviceFacts, online: dict[int, bool], problems: Problems
             ) -> list[tuple[tuple[int, ...], str, Any, Given]]:
    if not facts.has_cpufreq:
        problems.add(given, f"the device has no cpufreq ({facts.cpu_root}/cpu*/cpufreq "
                            "could not be read)")
        return []
    cpus = facts.given_cpus(given, problems)
    if cpus is None:
        return []
    domains = sorted({facts.domain(cpu) for cpu in cpus})
    live = [domain for domain in domains if any(online.get(cpu) for cpu in domain)]
    if not live:
        problems.add(given, f"no CPU of {cpu_range(cpus)} is online during the job, so its "
                            "cpufreq policy cannot be set")
        return []
    setting = given.name.setting
    if setting == "gov_tunables":
        return [(domain, f"tunable:{name}", value, given)
                for name, value in _tunables(given, problems).items() for domain in live]
    entries: list[tuple[tuple[int, ...], str, Any, Given]] = []
    for domain in live:
        cpu = facts.cpus[domain[0]]
        try:
            if setting == "governor":
                entries.append((domain, "governor", _governor(given.value, cpu), given))
            else:
                value = _frequency(given.value, cpu)
                entries.extend((domain, bound, value, given)
                               for bound in _FREQUENCY_FIELDS[setting])
        except ParameterValueError as exc:
            problems.add(given, str(exc))
            return []
    return entries


def _governor(value: Any, cpu: CpuFacts) -> str:
    governor = string(value).strip()
    if cpu.governors is not None and governor not in cpu.governors:
        raise ParameterValueError(
            f"{governor!r} is not a governor of cpu{cpu.index} (available: "
            f"{', '.join(cpu.governors)}).{close_matches(governor, cpu.governors)}")
    return governor


def _frequency(value: Any, cpu: CpuFacts) -> int:
    """A frequency in kHz the CPU offers; ``min``/``max`` are its lowest and highest."""
    span = cpu.frequency_range()
    if isinstance(value, str) and value.strip().lower() in ("min", "max"):
        if span is None:
            raise ParameterValueError(f"cannot tell what {value!r} is for cpu{cpu.index}: "
                                      "its frequencies could not be read")
        return span[0] if value.strip().lower() == "min" else span[1]
    try:
        frequency = integer(value)
    except ParameterValueError:
        raise ParameterValueError(f"expected a frequency in kHz (an integer), 'min' or 'max', "
                                  f"got {shown(value)} ({type_name(value)})") from None
    if cpu.frequencies and frequency not in cpu.frequencies:
        nearest = min(cpu.frequencies, key=lambda f: (abs(f - frequency), f))
        raise ParameterValueError(
            f"{frequency} is not an available frequency of cpu{cpu.index} (available: "
            f"{', '.join(map(str, cpu.frequencies))}). The nearest is {nearest}.")
    if span and not span[0] <= frequency <= span[1]:
        raise ParameterValueError(f"{frequency} is outside cpu{cpu.index}'s range "
                                  f"{span[0]}-{span[1]} kHz")
    return frequency


def _tunables(given: Given, problems: Problems) -> dict[str, str]:
    if not isinstance(given.value, dict):
        problems.add(given, f"expected a mapping of tunable names to values, got "
                            f"{type_name(given.value)} {shown(given.value)}")
        return {}
    tunables: dict[str, str] = {}
    for name, value in given.value.items():
        where = located(given.value, name, given.location)
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            problems.add(given, f"a tunable must be a file name, got {shown(name)}",
                         location=where)
        elif isinstance(value, dict | list) or value is None:
            problems.add(given, f"expected a value to write, got {type_name(value)} "
                                f"{shown(value)}", location=where, key=f"{given.path}.{name}")
        else:
            tunables[name] = str(int(value) if isinstance(value, bool) else value)
    return tunables


def apply_cpufreq(plan: CpufreqPlan, facts: DeviceFacts, journal: Journal) -> None:
    """Governors, tunables, then frequencies, domain by domain; every write recorded."""
    root = facts.cpu_root
    paths = [f"{root}/online"] + [f"{root}/cpu{cpu}/cpufreq/{name}" for domain in plan.domains
                                  for cpu in domain.cpus for name in _STATE_FILES]
    state = read_files(journal.target, paths)
    online = set(parse_cpu_list(state[f"{root}/online"] or "")) or set(facts.cpus)
    reps = {}
    for domain in plan.domains:
        rep = next((cpu for cpu in domain.cpus if cpu in online and
                    state[f"{root}/cpu{cpu}/cpufreq/scaling_governor"] is not None), None)
        if rep is None:
            raise TargetError(f"{_first_key(domain)}: no CPU of {cpu_range(domain.cpus)} is "
                              "online with a cpufreq policy, so it cannot be set")
        reps[domain.cpus] = rep

    def path(domain: DomainPlan, name: str) -> str:
        return f"{root}/cpu{reps[domain.cpus]}/cpufreq/{name}"

    for domain in plan.domains:
        if domain.governor:
            journal.write(domain.governor.given.key, path(domain, "scaling_governor"),
                          domain.governor.value, state[path(domain, "scaling_governor")])
    governors = {domain.cpus: domain.governor.value if domain.governor
                 else state[path(domain, "scaling_governor")] or "" for domain in plan.domains}
    _apply_tunables(plan, facts, journal, governors, path)
    for domain in plan.domains:
        _apply_frequencies(domain, journal, state, path,
                           userspace=governors[domain.cpus] == "userspace")


def _first_key(domain: DomainPlan) -> str:
    for choice in (domain.governor, domain.min, domain.max, *domain.tunables.values()):
        if choice is not None:
            return choice.given.key
    return "cpufreq"


def _apply_tunables(plan: CpufreqPlan, facts: DeviceFacts, journal: Journal,
                    governors: dict[tuple[int, ...], str], path: PathOf) -> None:
    """Write tunables where the running governor keeps them: per policy, else global."""
    wanted = [(domain, name, choice) for domain in plan.domains
              for name, choice in domain.tunables.items()]
    if not wanted:
        return

    def candidates(domain: DomainPlan, name: str) -> tuple[str, str]:
        governor = governors[domain.cpus]
        return path(domain, f"{governor}/{name}"), f"{facts.cpu_root}/cpufreq/{governor}/{name}"

    current = read_files(journal.target, [p for domain, name, _ in wanted
                                          for p in candidates(domain, name)])
    for domain, name, choice in wanted:
        per_policy, shared = candidates(domain, name)
        chosen = per_policy if current[per_policy] is not None else shared
        if current[chosen] is None:
            raise TargetError(f"{choice.given.key}: governor {governors[domain.cpus]!r} of "
                              f"{cpu_range(domain.cpus)} has no tunable {name!r} (neither "
                              f"{per_policy} nor {shared} can be read)")
        journal.write(choice.given.key, chosen, choice.value, current[chosen])


def _apply_frequencies(domain: DomainPlan, journal: Journal, state: dict[str, str | None],
                       path: PathOf, *, userspace: bool) -> None:
    if not (domain.min or domain.max or domain.setspeed):
        return
    low_path, high_path = path(domain, "scaling_min_freq"), path(domain, "scaling_max_freq")
    low, high = _int(journal.known.get(low_path, state[low_path])), \
        _int(journal.known.get(high_path, state[high_path]))
    new_low = domain.min.value if domain.min else low
    new_high = domain.max.value if domain.max else high
    if new_low is None or new_high is None:
        raise TargetError(f"{_first_key(domain)}: cannot read the current frequency limits of "
                          f"{cpu_range(domain.cpus)} ({low_path}, {high_path})")
    if new_low > new_high:
        given = domain.min or domain.max
        assert given is not None
        raise TargetError(f"{given.given.key}: {cpu_range(domain.cpus)} would have a minimum "
                          f"frequency ({new_low}) above its maximum ({new_high}); set both "
                          "min_frequency and max_frequency")
    steps = [(domain.min, low_path, new_low), (domain.max, high_path, new_high)]
    if high is not None and new_low > high:
        steps.reverse()  # raise the maximum first, so that min <= max at every step
    for choice, file, value in steps:
        if choice is not None:
            journal.write(choice.given.key, file, value, state[file])
    if domain.setspeed and userspace:
        setspeed = path(domain, "scaling_setspeed")
        old = state[setspeed]
        # Under another governor the file reads "<unsupported>": restoring the
        # governor is what puts the old behaviour back, so that is not restored.
        journal.write(domain.setspeed.given.key, setspeed, domain.setspeed.value,
                      old if old and old.isdigit() else None)


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None
