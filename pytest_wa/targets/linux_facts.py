"""What every Linux kernel tells the same way, whichever target kind reads it.

``cpus`` means the same on every kind: the CPUs the kernel can have
(``/sys/devices/system/cpu/possible``), online or not, as WA3 counts them.
A count of the CPUs online now (``nproc``) would change with hotplug and with
the CPU affinity of whoever asked.
"""

from __future__ import annotations

POSSIBLE_CPUS = "/sys/devices/system/cpu/possible"

#: ``uname -m`` machine names (and Android's ``ro.product.cpu.abi`` names) as the ABI
#: names WA3 records and files its binaries under.
ABIS = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64",
        "armv7l": "armeabi", "i686": "x86", "i386": "x86",
        "arm64-v8a": "arm64", "armeabi-v7a": "armeabi", "armeabi": "armeabi"}


def abi_of(machine: str) -> str:
    """The ABI name of a ``uname -m`` machine (``aarch64`` → ``arm64``); unknown ones as given."""
    return ABIS.get(machine.lower(), machine)


def count_cpus(cpu_list: str) -> int | None:
    """The number of CPUs in a kernel CPU list such as ``0-3,6-7``; None if it is not one."""
    count = 0
    for part in cpu_list.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            return None
        count += (int(high) - int(low) + 1) if high else 1
    return count or None
