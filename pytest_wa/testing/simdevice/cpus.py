"""The device's CPUs as a phone shows them: cpufreq and cpuidle sysfs trees and /proc/cpuinfo.

The CPUs form two clusters, big.LITTLE style: the first half (rounded up) is
the LITTLE cluster, the rest the big one, each with its own frequency table
and one cpufreq policy shared by its CPUs (``cpuN/cpufreq`` is a symlink to
``cpufreq/policyM`` as on real kernels, so writing one CPU's governor changes
its whole cluster). Every file is owned by root, mode 0644: the shell user
can read them but not write them, as on a production phone.

Each policy keeps cpufreq statistics (``stats/time_in_state`` in 10 ms units,
``stats/total_trans``) and each CPU has three idle states (``cpuidle/stateN``
with ``time`` in microseconds and ``usage``). ``tick`` makes them move as on a
phone: see cpuactivity.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import cpuactivity

LITTLE_FREQS = (300000, 576000, 768000, 1017600, 1248000, 1497600, 1804800)
BIG_FREQS = (710400, 1056000, 1401600, 1766400, 2016000, 2323200, 2419200)
GOVERNORS = "schedutil performance powersave userspace ondemand conservative"
DEFAULT_GOVERNOR = "schedutil"
#: (name, desc, exit latency in us, target residency in us) of every CPU's idle states.
IDLE_STATES = (("WFI", "ARM WFI", 1, 1),
               ("cpu-sleep", "CPU power down", 150, 600),
               ("cluster-sleep", "Cluster power down", 900, 2500))


@dataclass(frozen=True)
class Cluster:
    index: int
    cpus: tuple[int, ...]
    freqs: tuple[int, ...]
    part: str  # the "CPU part" cpuinfo shows (Cortex-A55, Cortex-A78)

    @property
    def policy(self) -> str:
        return f"policy{self.cpus[0]}"


def clusters(count: int) -> list[Cluster]:
    little = (count + 1) // 2
    result = [Cluster(0, tuple(range(little)), LITTLE_FREQS, "0xd05")]
    if count > little:
        result.append(Cluster(1, tuple(range(little, count)), BIG_FREQS, "0xd41"))
    return result


def cpu_list(cpus: tuple[int, ...] | list[int]) -> str:
    """Kernel list syntax: ``0-3`` for a contiguous range, else ``0,2``."""
    if not cpus:
        return ""
    if list(cpus) == list(range(cpus[0], cpus[-1] + 1)) and len(cpus) > 1:
        return f"{cpus[0]}-{cpus[-1]}"
    return ",".join(map(str, cpus))


def build_cpu_tree(sys_root: str, count: int) -> None:
    """Write devices/system/cpu under ``sys_root`` (the device's /sys)."""
    files = _cpu_set_files(count)
    links: dict[str, str] = {}
    for cluster in clusters(count):
        files.update(_policy_files(cluster))
        files.update(_per_cpu_files(cluster))
        files.update(_idle_files(cluster))
        links.update({f"cpu{cpu}/cpufreq": f"../cpufreq/{cluster.policy}"
                      for cpu in cluster.cpus})
    _write_tree(os.path.join(sys_root, "devices", "system", "cpu"), files, links)


def _cpu_set_files(count: int) -> dict[str, str]:
    """The CPU masks at the top of the tree: every CPU present and online."""
    everything = tuple(range(count))
    return {
        "online": cpu_list(everything),
        "offline": "",
        "possible": cpu_list(everything),
        "present": cpu_list(everything),
        "kernel_max": str(max(count - 1, 0)),
        "cpuidle/current_driver": "psci_idle",
        "cpuidle/current_governor": "menu",
        "cpuidle/current_governor_ro": "menu",
        "cpuidle/available_governors": "ladder menu teo",
    }


def _policy_files(cluster: Cluster) -> dict[str, str]:
    """The cluster's cpufreq policy, at the middle of its table under schedutil."""
    policy = f"cpufreq/{cluster.policy}"
    members = " ".join(map(str, cluster.cpus))
    lowest, highest = str(cluster.freqs[0]), str(cluster.freqs[-1])
    current = str(cluster.freqs[len(cluster.freqs) // 2])
    return {
        f"{policy}/scaling_governor": DEFAULT_GOVERNOR,
        f"{policy}/scaling_available_governors": GOVERNORS,
        f"{policy}/scaling_available_frequencies": " ".join(map(str, cluster.freqs)),
        f"{policy}/scaling_min_freq": lowest,
        f"{policy}/scaling_max_freq": highest,
        f"{policy}/scaling_cur_freq": current,
        f"{policy}/cpuinfo_min_freq": lowest,
        f"{policy}/cpuinfo_max_freq": highest,
        f"{policy}/cpuinfo_cur_freq": current,
        f"{policy}/cpuinfo_transition_latency": "0",
        f"{policy}/scaling_driver": "simdevice-cpufreq",
        f"{policy}/related_cpus": members,
        f"{policy}/affected_cpus": members,
        f"{policy}/scaling_setspeed": "<unsupported>",
        f"{policy}/stats/time_in_state": "\n".join(f"{freq} 0" for freq in cluster.freqs),
        f"{policy}/stats/total_trans": "0",
    }


def _per_cpu_files(cluster: Cluster) -> dict[str, str]:
    """Each CPU of the cluster: online, and its place in the topology."""
    files: dict[str, str] = {}
    for position, cpu in enumerate(cluster.cpus):
        files[f"cpu{cpu}/online"] = "1"
        files[f"cpu{cpu}/topology/physical_package_id"] = str(cluster.index)
        files[f"cpu{cpu}/topology/cluster_id"] = str(cluster.index)
        files[f"cpu{cpu}/topology/core_id"] = str(position)
        files[f"cpu{cpu}/topology/core_siblings_list"] = cpu_list(cluster.cpus)
        files[f"cpu{cpu}/topology/thread_siblings_list"] = str(cpu)
    return files


def _idle_files(cluster: Cluster) -> dict[str, str]:
    """Each CPU's idle states, all enabled and never entered yet (a fresh boot)."""
    files: dict[str, str] = {}
    for cpu in cluster.cpus:
        for index, (name, desc, latency, residency) in enumerate(IDLE_STATES):
            state = f"cpu{cpu}/cpuidle/state{index}"
            files.update({f"{state}/name": name, f"{state}/desc": desc,
                          f"{state}/latency": str(latency), f"{state}/residency": str(residency),
                          f"{state}/power": "4294967295", f"{state}/disable": "0",
                          f"{state}/default_status": "enabled", f"{state}/time": "0",
                          f"{state}/usage": "0", f"{state}/above": "0", f"{state}/below": "0",
                          f"{state}/rejected": "0"})
    return files


def _write_tree(base: str, files: dict[str, str], links: dict[str, str]) -> None:
    """Files owned by root, mode 0644 (readable, not writable, by the shell user)."""
    for relative, content in files.items():
        path = os.path.join(base, relative)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        with open(path, "w", encoding="ascii") as handle:
            handle.write(content + "\n")
        os.chmod(path, 0o644)
    for relative, target in links.items():
        os.symlink(target, os.path.join(base, relative))


def cpuinfo_text(count: int, hardware: str) -> str:
    """/proc/cpuinfo as an arm64 kernel prints it."""
    blocks = []
    for cluster in clusters(count):
        for cpu in cluster.cpus:
            blocks.append(
                f"processor\t: {cpu}\n"
                "BogoMIPS\t: 38.40\n"
                "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp "
                "cpuid asimdrdm lrcpc dcpop asimddp\n"
                "CPU implementer\t: 0x41\n"
                "CPU architecture: 8\n"
                "CPU variant\t: 0x1\n"
                f"CPU part\t: {cluster.part}\n"
                "CPU revision\t: 0\n")
    return "\n".join(blocks) + f"\nHardware\t: {hardware}\n"


def tick(sys_root: str, seconds: float) -> None:
    """Advances the cpufreq and idle statistics by ``seconds`` (see cpuactivity.py)."""
    cpuactivity.advance(os.path.join(sys_root, "devices", "system", "cpu"), seconds)
