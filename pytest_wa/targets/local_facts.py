"""What this host is, read with Python: each fact on its own, none of them fatal.

The local target needs no shell for its facts: ``platform.uname`` cannot
fail, and the rest are a file or a call each. A file that is not there (no
``/sys/devices/system/cpu`` in a container that hides it) or a call that
fails costs that fact only: it is left empty and listed in ``absent``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import sys
from collections.abc import Callable
from typing import TypeVar

from .base import TargetProperties
from .linux_facts import POSSIBLE_CPUS, abi_of, count_cpus

MODEL_FILES = ("/proc/device-tree/model", "/sys/class/dmi/id/product_name")
_T = TypeVar("_T")


def local_properties(possible_cpus: str = POSSIBLE_CPUS) -> TargetProperties:
    """This host's facts; ``possible_cpus`` is the kernel's CPU list (a test points it away)."""
    absent: dict[str, str] = {}
    uname = platform.uname()
    cpus = _read("cpus", lambda: _cpu_count(possible_cpus), absent)
    hostname = _read("hostname", socket.gethostname, absent)
    return TargetProperties(
        os=uname.system.lower(), kernel=uname.release, abi=abi_of(uname.machine),
        cpus=cpus or 0, hostname=hostname or "", model=host_model(),
        extra={"kernel_version": uname.version, "arch": uname.machine}, absent=absent)


def _read(name: str, read: Callable[[], _T], absent: dict[str, str]) -> _T | None:
    """``read()``, or None with the reason noted in ``absent`` when it fails."""
    try:
        return read()
    except (OSError, ValueError) as exc:
        absent[name] = str(exc)
        return None


def _cpu_count(possible_cpus: str) -> int:
    """The kernel's CPU list on Linux (as the other kinds count); the OS's count elsewhere."""
    if not sys.platform.startswith("linux"):
        count = os.cpu_count()
        if count is None:
            raise ValueError("the operating system does not tell")
        return count
    with open(possible_cpus, encoding="ascii") as handle:
        text = handle.read().strip()
    count = count_cpus(text)
    if count is None:
        raise ValueError(f"{possible_cpus}: not a CPU list: {text[:60]!r}")
    return count


def host_model() -> str:
    """The device-tree or DMI model name; "" on the many hosts that have neither."""
    for path in MODEL_FILES:
        with contextlib.suppress(OSError), open(path, encoding="utf-8",
                                                 errors="replace") as handle:
            return handle.read().strip("\x00\n ")
    return ""
