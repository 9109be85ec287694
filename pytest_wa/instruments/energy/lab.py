"""WA3's backends for lab meters pytest-wa does not drive: accepted, then refused clearly.

An agenda written for WA3 names its meter (``instrument: daq``) with the
meter's own parameters. Those meters need a second machine or a USB device
and their vendor's tools (daq-server, caiman, iio-capture, monsoon.py,
arm-probe); pytest-wa has no driver for them, so the name is accepted (the
agenda still parses, its other jobs still run with ``optional: true``) and
the run is refused before the first job with what the meter was and what
can measure energy instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..availability import InstrumentUnavailable
from .base import Backend, Measurement

if TYPE_CHECKING:
    from ...targets.protocols import Target

INSTEAD = ("pytest-wa measures energy with what the device itself has: instrument: hwmon "
           "(energy counters), rapl (x86), power_supply (a battery) or nvml (NVIDIA GPUs)")


class LabBackend(Backend):
    """One of WA3's lab meters; ``hardware`` says what it is."""

    hardware: ClassVar[str] = ""
    #: Any parameter is accepted: the backend never runs, and the agenda is WA3's.
    accepts_any_parameter: ClassVar[bool] = True

    def discover(self, target: Target) -> list[str]:
        raise InstrumentUnavailable(
            f"WA3's '{self.name}' backend drives {self.hardware}, lab hardware pytest-wa has "
            f"no driver for. {INSTEAD}")

    def start(self, target: Target) -> None:
        raise InstrumentUnavailable(f"the '{self.name}' backend cannot measure")

    def stop(self, target: Target) -> Measurement:
        raise InstrumentUnavailable(f"the '{self.name}' backend cannot measure")


def _lab(name: str, hardware: str) -> type[LabBackend]:
    return type(f"{name.title().replace('_', '')}Backend", (LabBackend,),
                {"name": name, "hardware": hardware,
                 "description": f"WA3's backend for {hardware}: refused (no driver)."})


LAB_BACKENDS = (
    _lab("daq", "a National Instruments DAQ through ARM's daq-server"),
    _lab("energy_probe", "an ARM Energy Probe through caiman"),
    _lab("arm_energy_probe", "an ARM Energy Probe through arm-probe"),
    _lab("acme_cape", "a BayLibre ACME cape through iio-capture"),
    _lab("monsoon", "a Monsoon power monitor through monsoon.py"),
)
