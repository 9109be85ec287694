"""The ``hwmon`` backend (and WA3's ``juno_readenergy``): hwmon energy counters.

Boards whose power meters have a kernel driver show them as hwmon
``energyN_input`` counters in microjoules: Arm's Juno (its SCP firmware's
energy meters, through scpi/scmi sensors: the meters WA3's
``juno_readenergy`` reads with a binary of its own), boards with SCMI
sensors, AMD CPUs (``amd_energy``). Each counter is a site; the counters
are 64-bit, so reading them at both ends of the workload is enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..availability import InstrumentUnavailable
from ..hwmon_sensors import ROOT, survey
from .base import Counter, CounterBackend

if TYPE_CHECKING:
    from ...targets.protocols import Target


class HwmonBackend(CounterBackend):
    name = "hwmon"
    description = ("hwmon energy counters (energyN_input, uJ): Juno, SCMI sensors, "
                   "amd_energy...; one site per counter, named from its label.")

    def discover(self, target: Target) -> list[str]:
        found = survey(target)
        energy = found.of_kind("energy")
        if not energy:
            raise InstrumentUnavailable(_no_counters(found.sensors, found.skipped))
        self.as_root = found.as_root
        self.counters = [Counter(sensor.site, sensor.path, sensor.quantity.scale)
                         for sensor in energy]
        return [counter.site for counter in self.counters]


def _no_counters(sensors: list, skipped: list[str]) -> str:
    if not sensors and not skipped:
        return (f"no hwmon energy counters: {ROOT} is missing or empty (no hardware "
                "monitoring driver on this device, as in most VMs)")
    kinds = sorted({sensor.kind for sensor in sensors})
    return (f"no hwmon energy counter (energyN_input) in {ROOT}; its sensors are "
            f"{', '.join(kinds) or 'none usable'}. Try backend rapl (x86), power_supply "
            "(a battery) or the hwmon instrument for the power sensors")
