"""The device's CPUs as ``cpustates`` needs them, read in one command after a traced job.

WA3 takes them from the run's target_info (devlib's CpuInfo); pytest-wa
asks the device itself, once a run per device: which CPUs share a frequency
(``cpufreq/related_cpus``), their idle states' names, their highest
frequency, and the "CPU part" of each in /proc/cpuinfo (the name in the CSV
columns, ``cpu`` when it gives none). A device that cannot be asked (or a
trace read with no device at all) is laid out from the trace alone: as many
CPUs as it says, each a domain of its own, idle states unnamed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..model.errors import TargetError
from .powerstates import Cpu

if TYPE_CHECKING:
    from ..targets.protocols import Target

CPU_ROOT = "/sys/devices/system/cpu"
PROBE = (f"cd {CPU_ROOT} 2>/dev/null && grep -sH . present cpu[0-9]*/cpufreq/related_cpus "
         "cpu[0-9]*/cpufreq/cpuinfo_max_freq cpu[0-9]*/cpufreq/scaling_available_frequencies "
         "cpu[0-9]*/cpuidle/state[0-9]*/name; "
         "grep -s -e '^processor' -e '^CPU part' /proc/cpuinfo; true")
_FILE = re.compile(r"^cpu(?P<cpu>\d+)/(?P<path>[\w/]+):(?P<value>.*)$")


def probe(target: Target) -> str | None:
    """The probe's output; None when the device could not be asked."""
    try:
        result = target.execute(PROBE, timeout=60)
    except (TargetError, OSError):
        return None
    return result.stdout


def cpu_list(text: str) -> list[int]:
    """``0-3,6`` as [0, 1, 2, 3, 6] (sysfs's CPU lists)."""
    cpus: list[int] = []
    for part in text.replace(" ", ",").split(","):
        first, _, last = part.strip().partition("-")
        if first.isdigit() and (not last or last.isdigit()):
            cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


def layout(probed: str | None, at_least: int) -> list[Cpu]:
    """CPUs 0..N-1 (N: what the device or the trace says, whichever is more)."""
    files: dict[int, dict[str, str]] = {}
    present: list[int] = []
    names = _part_names(probed or "")
    for line in (probed or "").splitlines():
        if line.startswith("present:"):
            present = cpu_list(line.partition(":")[2])
        match = _FILE.match(line)
        if match:
            files.setdefault(int(match["cpu"]), {})[match["path"]] = match["value"].strip()
    count = max([at_least, len(present), *(cpu + 1 for cpu in files)])
    return [_cpu(index, files.get(index, {}), names.get(index)) for index in range(count)]


def _cpu(index: int, files: dict[str, str], name: str | None) -> Cpu:
    states = sorted((int(path[len("cpuidle/state"):-len("/name")]), value)
                    for path, value in files.items()
                    if path.startswith("cpuidle/state") and path.endswith("/name"))
    idle = tuple(value for _, value in states)
    if [number for number, _ in states] != list(range(len(states))):
        idle = ()  # a gap in the numbering: the names cannot be matched to indexes
    frequencies = [int(f) for f in (files.get("cpufreq/scaling_available_frequencies", "")
                                    .split()) if f.isdigit()]
    highest = files.get("cpufreq/cpuinfo_max_freq", "")
    top = max(frequencies) if frequencies else int(highest) if highest.isdigit() else None
    return Cpu(index, name or "cpu", tuple(cpu_list(files.get("cpufreq/related_cpus", ""))),
               idle, top)


def _part_names(text: str) -> dict[int, str]:
    """Each CPU's "CPU part" in /proc/cpuinfo (Arm's cores have one; x86 ones do not)."""
    names: dict[int, str] = {}
    cpu: int | None = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "processor" and value.strip().isdigit():
            cpu = int(value)
        elif key.strip() == "CPU part" and cpu is not None and value.strip():
            names[cpu] = value.strip()
    return names
