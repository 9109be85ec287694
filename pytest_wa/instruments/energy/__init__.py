"""Energy meters for ``energy_measurement``: one backend per kind of meter.

WA3's backend names are kept where the hardware matches: ``juno_readenergy``
reads Juno's energy meters, which its kernel shows as hwmon counters.
WA3's lab meters (``daq``, ``energy_probe``, ``arm_energy_probe``,
``acme_cape``, ``monsoon``) are accepted by name and refused before the
first job (``lab.py``). Backends are found by name here and imported with
this package; ``nvml`` imports pynvml only when it is used.
"""

from __future__ import annotations

from .base import Backend, Measurement
from .hwmon import HwmonBackend
from .lab import LAB_BACKENDS
from .nvml import NvmlBackend
from .power_supply import PowerSupplyBackend
from .rapl import RaplBackend


class JunoBackend(HwmonBackend):
    name = "juno_readenergy"
    description = ("WA3's name for Juno's on-board energy meters, read as the hwmon "
                   "counters its kernel shows (a53, a57, gpu, sys).")


BACKENDS: dict[str, type[Backend]] = {
    backend.name: backend
    for backend in (HwmonBackend, RaplBackend, PowerSupplyBackend, NvmlBackend, JunoBackend,
                    *LAB_BACKENDS)
}

__all__ = ["BACKENDS", "Backend", "Measurement"]
