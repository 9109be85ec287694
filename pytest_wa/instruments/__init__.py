"""Instruments: enabling them, and the one place where their order is decided.

pluggy calls later-registered implementations first and nests wrappers in
call order (the first called is the outermost). So the highest-priority
(fastest) instrument is registered first: it is called last, ends up
innermost, and runs closest to the workload on both sides of every stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .base import Instrument, Priority


def registration_order(instruments: Iterable[Any]) -> list[Any]:
    """Instrument instances in the order they must be registered with pluggy."""
    return sorted(instruments, key=lambda instrument: -int(getattr(instrument, "priority", 0)))


def builtin_instruments() -> list[type]:
    """The instruments pytest-wa ships (imported when a catalog is built, not before)."""
    from .cpufreq import CpuFreq
    from .cpuidle import CpuIdle
    from .delay import Delay
    from .dmesg import Dmesg
    from .energy_measurement import EnergyMeasurement
    from .execution_time import ExecutionTime
    from .file_poller import FilePoller
    from .fps import Fps
    from .hwmon import Hwmon
    from .interrupts import Interrupts
    from .logcat import Logcat
    from .perf import Perf
    from .proc_stat import ProcStat
    from .screen_capture import ScreenCapture
    from .sysfs_extractor import SysfsExtractor
    from .thermal import Thermal
    from .trace_cmd import TraceCmd

    return [CpuFreq, CpuIdle, Delay, Dmesg, EnergyMeasurement, ExecutionTime, FilePoller, Fps,
            Hwmon, Interrupts, Logcat, Perf, ProcStat, ScreenCapture, SysfsExtractor, Thermal,
            TraceCmd]


__all__ = ["Instrument", "Priority", "builtin_instruments", "registration_order"]
