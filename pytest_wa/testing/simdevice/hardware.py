"""The device's hardware as sysfs shows it, with counters that move while it runs.

Instruments read cpufreq statistics, idle-state residency, energy counters,
temperatures and the battery from sysfs; on a real phone those numbers
advance by themselves. Here each part of the hardware is a pair of functions:
a builder that writes its tree into a fresh /sys at every boot, and a ticker
that advances its counters. ``HardwareClock`` calls every ticker ten times a
second from a thread of the device process (which shares the device's mount
namespace, so it sees the device's /sys), with the seconds since the last tick.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from . import cpus, power

#: (the device's /sys on the host, number of CPUs) -> writes a part's files.
Builder = Callable[[str, int], None]
#: (the device's /sys on the host, seconds since the last tick) -> advances counters.
Ticker = Callable[[str, float], None]

BUILDERS: tuple[Builder, ...] = (cpus.build_cpu_tree, power.build_power_tree)
TICKERS: tuple[Ticker, ...] = (cpus.tick, power.tick)
TICK = 0.1


def build(sys_root: str, cpu_count: int) -> None:
    """Every part's tree, as a fresh boot has it."""
    for builder in BUILDERS:
        builder(sys_root, cpu_count)


class HardwareClock(threading.Thread):
    """Advances every counter every ``TICK`` seconds until the device stops."""

    def __init__(self, sys_root: str) -> None:
        super().__init__(name="simdevice-hardware", daemon=True)
        self.sys_root = sys_root
        self.stopped = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        while not self.stopped.wait(TICK):
            now = time.monotonic()
            for ticker in TICKERS:
                with contextlib.suppress(OSError):  # /sys remounted by a reboot: next tick
                    ticker(self.sys_root, now - last)
            last = now

    def stop(self) -> None:
        self.stopped.set()
