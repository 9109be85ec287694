"""What a device's CPUs support, read once at run start, and how scopes map onto CPUs.

Everything here is pure: ``probe.py`` runs the shell commands and hands their
output to ``parse_cpu_tree``. Validation of every job's runtime parameters
works on these facts only, so a whole agenda is checked with one or two
device round trips.

The cpufreq *domain* of a CPU is the set of CPUs that share its cpufreq
policy (``related_cpus``): the kernel changes their governor and frequencies
together, so settings are applied once per domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .names import CPU_SCOPE

if TYPE_CHECKING:
    from .given import Given, Problems

CPU_ROOT = "/sys/devices/system/cpu"
CPUINFO = "/proc/cpuinfo"

#: "CPU part" numbers of Arm-designed cores (implementer 0x41), as /proc/cpuinfo
#: shows them; the name becomes the scope prefix (``a55_governor``).
ARM_CORES = {
    0xC05: "a5", 0xC07: "a7", 0xC08: "a8", 0xC09: "a9", 0xC0D: "a12", 0xC0E: "a17",
    0xC0F: "a15", 0xD01: "a32", 0xD02: "a34", 0xD03: "a53", 0xD04: "a35", 0xD05: "a55",
    0xD06: "a65", 0xD07: "a57", 0xD08: "a72", 0xD09: "a73", 0xD0A: "a75", 0xD0B: "a76",
    0xD0C: "n1", 0xD0D: "a77", 0xD40: "v1", 0xD41: "a78", 0xD44: "x1", 0xD46: "a510",
    0xD47: "a710", 0xD48: "x2", 0xD49: "n2", 0xD4B: "a78c", 0xD4D: "a715", 0xD4E: "x3",
    0xD80: "a520", 0xD81: "a720", 0xD82: "x4", 0xD87: "a725",
}


class ScopeError(ValueError):
    """A scope prefix names no CPU of this device; the message says what exists."""


def parse_cpu_list(text: str) -> list[int]:
    """The kernel's CPU list syntax: ``0-3,6,8-9``."""
    cpus: list[int] = []
    for part in text.replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition("-")
        if not (first.isdigit() and (not last or last.isdigit())):
            continue
        cpus.extend(range(int(first), int(last or first) + 1))
    return sorted(set(cpus))


def cpu_range(cpus: tuple[int, ...] | list[int]) -> str:
    """``cpu4`` or ``cpus 4-7`` (``cpus 0,2``), for messages."""
    cpus = sorted(cpus)
    if len(cpus) == 1:
        return f"cpu{cpus[0]}"
    if cpus == list(range(cpus[0], cpus[-1] + 1)):
        return f"cpus {cpus[0]}-{cpus[-1]}"
    return "cpus " + ",".join(map(str, cpus))


@dataclass(frozen=True)
class CpuFacts:
    """One CPU: hotplug, cpufreq (None where unreadable) and cpuidle."""

    index: int
    online: bool = True
    hotpluggable: bool = False
    domain: tuple[int, ...] = ()
    governors: tuple[str, ...] | None = None
    frequencies: tuple[int, ...] | None = None
    min_freq: int | None = None
    max_freq: int | None = None
    idle_states: tuple[str, ...] = ()
    core: str | None = None

    @property
    def has_cpufreq(self) -> bool:
        return self.governors is not None or self.max_freq is not None

    def frequency_range(self) -> tuple[int, int] | None:
        """The lowest and highest frequency the CPU can be set to, if known."""
        if self.frequencies:
            return self.frequencies[0], self.frequencies[-1]
        if self.min_freq is not None and self.max_freq is not None:
            return self.min_freq, self.max_freq
        return None


@dataclass(frozen=True)
class DeviceFacts:
    """The device as runtime parameters see it."""

    device: str
    kind: str
    cpus: dict[int, CpuFacts]
    cpu_root: str = CPU_ROOT
    #: Whether commands can run as root; None when it was not asked (nothing needed it).
    root: bool | None = None
    #: sysfile_values paths found missing at run start.
    missing: frozenset[str] = frozenset()
    #: Directory -> file names, for the directories of missing paths (did-you-mean hints).
    listings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    clusters: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "clusters", _clusters(self.cpus))

    @property
    def has_cpufreq(self) -> bool:
        return any(cpu.has_cpufreq for cpu in self.cpus.values())

    @property
    def has_cpuidle(self) -> bool:
        return any(cpu.idle_states for cpu in self.cpus.values())

    @property
    def core_names(self) -> dict[str, tuple[int, ...]]:
        names: dict[str, list[int]] = {}
        for cpu in self.cpus.values():
            if cpu.core:
                names.setdefault(cpu.core, []).append(cpu.index)
        return {name: tuple(cpus) for name, cpus in names.items()}

    def scopes(self) -> list[str]:
        """Every scope prefix this device has: cpuN, big/little, core names."""
        return [*(f"cpu{n}" for n in self.cpus), *self.clusters, *self.core_names]

    def domain(self, cpu: int) -> tuple[int, ...]:
        return self.cpus[cpu].domain or (cpu,)

    def given_cpus(self, given: Given, problems: Problems) -> tuple[int, ...] | None:
        """The CPUs a given parameter's scope names; None, with the reason added to
        ``problems``, if the device has none."""
        try:
            return self.scope_cpus(given.name.scope)
        except ScopeError as exc:
            problems.add(given, str(exc))
            return None

    def scope_cpus(self, scope: str | None) -> tuple[int, ...]:
        """The CPUs a scope names; ScopeError says why none."""
        if not self.cpus:  # a device whose CPU tree could not be read (a minimal board)
            raise ScopeError(f"the device's CPUs could not be read ({self.cpu_root} has no "
                             "'present' file and no cpuN directory)")
        if scope is None:
            return tuple(self.cpus)
        match = CPU_SCOPE.fullmatch(scope)
        if match:
            if int(match[1]) in self.cpus:
                return (int(match[1]),)
            raise ScopeError(f"the device has no {scope} (it has {cpu_range(list(self.cpus))})")
        if scope in ("big", "little"):
            if scope in self.clusters:
                return self.clusters[scope]
            raise ScopeError("the device is not big.LITTLE: " + (
                "every CPU has the same maximum frequency" if self._max_freqs_known()
                else "the CPUs' maximum frequencies could not be read"))
        if scope in self.core_names:
            return self.core_names[scope]
        cores = ", ".join(self.core_names) or "none could be told from /proc/cpuinfo"
        raise ScopeError(f"{scope!r} is not a CPU, cluster or core name of the device "
                         f"(core names: {cores})")

    def _max_freqs_known(self) -> bool:
        return all(cpu.max_freq is not None for cpu in self.cpus.values())


def _clusters(cpus: dict[int, CpuFacts]) -> dict[str, tuple[int, ...]]:
    """big: the CPUs with the highest maximum frequency; little: all the others."""
    maxima = {cpu.max_freq for cpu in cpus.values()}
    if None in maxima or len(maxima) < 2:
        return {}
    top = max(m for m in maxima if m is not None)
    return {"big": tuple(c.index for c in cpus.values() if c.max_freq == top),
            "little": tuple(c.index for c in cpus.values() if c.max_freq != top)}


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isdigit() else None


@dataclass(frozen=True)
class _Policy:
    """What one cpufreq directory says about the CPUs it governs."""

    domain: tuple[int, ...]
    governors: tuple[str, ...] | None
    frequencies: tuple[int, ...] | None
    min_freq: int | None
    max_freq: int | None


def _cpufreq_policies(files: dict[str, str]) -> dict[int, _Policy]:
    """cpufreq facts per CPU, from cpuN/cpufreq/* and cpufreq/policyN/* files.

    A policy directory lists all its CPUs, online or not, so an offline CPU
    whose own cpufreq link is gone still gets its domain's facts.
    """
    directories: dict[str, dict[str, str]] = {}
    for path, value in files.items():
        directory, _, name = path.rpartition("/")
        if directory.endswith("/cpufreq") or directory.startswith("cpufreq/"):
            directories.setdefault(directory, {})[name] = value
    result: dict[int, _Policy] = {}
    for directory, values in sorted(directories.items()):
        owner = directory.split("/")[0]
        domain = parse_cpu_list(values.get("related_cpus", ""))
        if not domain and CPU_SCOPE.fullmatch(owner):
            domain = [int(owner[3:])]
        freqs = sorted({int(f) for f in values.get("scaling_available_frequencies", "").split()
                        if f.isdigit()})
        governors = values.get("scaling_available_governors")
        policy = _Policy(tuple(domain), tuple(governors.split()) if governors else None,
                         tuple(freqs) or None, _int(values.get("cpuinfo_min_freq")),
                         _int(values.get("cpuinfo_max_freq")))
        for cpu in domain:
            result.setdefault(cpu, policy)
    return result


def parse_cpuinfo(text: str) -> dict[int, str]:
    """Core names by CPU from /proc/cpuinfo (Arm-designed cores only)."""
    names: dict[int, str] = {}
    cpu: int | None = None
    implementer: int | None = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        try:
            if key == "processor":
                cpu, implementer = int(value), None
            elif key == "cpu implementer":
                implementer = int(value, 0)
            elif key == "cpu part" and cpu is not None and implementer == 0x41:
                name = ARM_CORES.get(int(value, 0))
                if name:
                    names[cpu] = name
        except ValueError:
            continue
    return names


def parse_cpu_tree(output: str, cpuinfo_path: str = CPUINFO) -> tuple[dict[str, str], str]:
    """Split the probe's ``grep -H`` output into cpu-tree files and /proc/cpuinfo text."""
    files: dict[str, list[str]] = {}
    cpuinfo: list[str] = []
    for line in output.splitlines():
        path, sep, value = line.partition(":")
        if not sep:
            continue
        if path == cpuinfo_path:
            cpuinfo.append(value)
        else:
            files.setdefault(path, []).append(value)
    return {path: "\n".join(lines).strip() for path, lines in files.items()}, "\n".join(cpuinfo)


def build_facts(device: str, kind: str, files: dict[str, str], cpuinfo: str,
                cpu_root: str = CPU_ROOT) -> DeviceFacts:
    """DeviceFacts from the cpu tree's files (relative to ``cpu_root``) and cpuinfo."""
    present = parse_cpu_list(files.get("present", "")) or sorted(
        int(path.split("/")[0][3:]) for path in files
        if CPU_SCOPE.fullmatch(path.split("/")[0]))
    online = set(parse_cpu_list(files["online"])) if "online" in files else set(present)
    policies = _cpufreq_policies(files)
    cores = parse_cpuinfo(cpuinfo)
    idle: dict[int, list[tuple[int, str]]] = {}
    for path, value in files.items():
        parts = path.split("/")
        if len(parts) == 4 and parts[1] == "cpuidle" and parts[3] == "name" and \
                parts[2].startswith("state") and parts[2][5:].isdigit():
            idle.setdefault(int(parts[0][3:]), []).append((int(parts[2][5:]), value))
    cpus: dict[int, CpuFacts] = {}
    for cpu in present:
        policy = policies.get(cpu) or _Policy((cpu,), None, None, None, None)
        states = sorted(idle.get(cpu, []))
        if [index for index, _ in states] != list(range(len(states))):
            states = []  # a gap in stateN numbering: not a tree we understand
        cpus[cpu] = CpuFacts(
            index=cpu, online=cpu in online, hotpluggable=f"cpu{cpu}/online" in files,
            domain=policy.domain, governors=policy.governors, frequencies=policy.frequencies,
            min_freq=policy.min_freq, max_freq=policy.max_freq,
            idle_states=tuple(name for _, name in states), core=cores.get(cpu))
    return DeviceFacts(device, kind, cpus, cpu_root)
