"""The ``power_supply`` backend: a battery's fuel gauge (Android phones, laptops).

Two ways, ``method``:

- ``charge_counter``: the gauge's coulomb counter (uAh) read just before and
  just after the workload, times the mean battery voltage. Two reads, and the
  gauge integrates every spike; but a gauge updates its counter every few
  seconds to a minute and in steps of a few hundred uAh, so a job shorter than
  that can read zero or a whole step. Good for jobs of minutes.
- ``current_now``: current x voltage read every ``period`` seconds on the
  device and integrated over time. Sees short jobs, but misses what happens
  between two readings, and ``current_now`` itself is often averaged by the
  gauge over its own window (Android leaves it to each vendor).

``auto`` takes charge_counter where the battery has one. Either way the
number is what left the battery: on a phone charging over USB it is the net
flow, not the device's consumption (a note says so when the battery reports
charging or full); measure on battery (wireless adb, or charging disabled).
Signs differ between vendors (Pixel: negative current while discharging;
others positive), so the magnitude is taken and the status decides the sign.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from ...model.errors import InstrumentError
from ...model.parameters import Parameter, string
from ..availability import InstrumentUnavailable
from ..snapshots import PERIOD, Sampler, Snapshot, discover, in_order, take
from .base import Backend, Measurement, site_name

if TYPE_CHECKING:
    from ...targets.protocols import Target

ROOT = "/sys/class/power_supply"
FIELDS = ("type", "status", "voltage_now", "current_now", "charge_counter")
METHODS = ("auto", "charge_counter", "current_now")
CHARGING = ("Charging", "Full")


class PowerSupplyBackend(Backend):
    name = "power_supply"
    description = ("A battery's fuel gauge: charge_counter x voltage, or current_now x "
                   "voltage_now sampled on the device; one site, the battery.")
    parameters = (
        Parameter("supply", string, default=None,
                  description="The power_supply to read (a name in /sys/class/power_supply); "
                              "default: the first of type Battery."),
        Parameter("method", string, default="auto", allowed_values=METHODS,
                  description="charge_counter (the gauge's coulomb counter, read at both "
                              "ends), current_now (current x voltage sampled every period), "
                              "or auto: charge_counter where the battery has one."),
        Parameter("period", PERIOD, default=0.25,
                  description="Seconds between readings with method current_now."),
    )

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self.supply: str = values.get("supply") or ""
        self.method: str = values.get("method") or "auto"
        given = values.get("period")
        self.period = float(0.25 if given is None else given)
        if self.period <= 0:
            raise ValueError(f"period must be more than 0 s, got {self.period:g}")
        self.as_root = False
        self.paths: list[str] = []
        self._before: Snapshot | None = None
        self._sampler: Sampler | None = None

    def discover(self, target: Target) -> list[str]:
        files, self.as_root = discover(target, [f"{ROOT}/*/{name}" for name in FIELDS])
        directory = self._choose(files)
        has = {name for name in FIELDS if files.get(f"{directory}/{name}") is not None}
        if self.method == "auto":
            self.method = "charge_counter" if "charge_counter" in has else "current_now"
        missing = [name for name in (self.method, "voltage_now", "status") if name not in has]
        if missing:
            raise InstrumentUnavailable(
                f"{directory} has no readable {', '.join(missing)} (needed by method "
                f"{self.method}; it has {', '.join(sorted(has))})")
        self.paths = [f"{directory}/{name}" for name in (self.method, "voltage_now", "status")]
        return [site_name(posixpath.basename(directory))]

    def _choose(self, files: dict[str, str | None]) -> str:
        supplies = {posixpath.basename(posixpath.dirname(path)): value
                    for path, value in files.items() if path.endswith("/type")}
        if self.supply:
            if self.supply not in supplies:
                raise InstrumentUnavailable(
                    f"no power supply {self.supply!r} in {ROOT}; there are: "
                    f"{', '.join(sorted(supplies)) or 'none'}")
            return f"{ROOT}/{self.supply}"
        batteries = sorted(name for name, kind in supplies.items() if kind == "Battery")
        if not batteries:
            raise InstrumentUnavailable(
                f"no battery in {ROOT} (supplies: {', '.join(sorted(supplies)) or 'none'}): "
                "a board, desktop or VM without a fuel gauge")
        return f"{ROOT}/{batteries[0]}"

    def start(self, target: Target) -> None:
        self._before = take(target, self.paths, as_root=self.as_root)
        if self.method == "current_now":
            self._sampler = Sampler(target, self.paths, self.period,
                                    name="energy_measurement", as_root=self.as_root)

    def stop(self, target: Target) -> Measurement:
        before, sampler = self._before, self._sampler
        self._before = self._sampler = None
        if before is None:
            raise InstrumentError("stop without start")
        try:
            after = take(target, self.paths, as_root=self.as_root, then=sampler)
        finally:
            samples = sampler.samples() if sampler else []
        readings = in_order(before, samples, after)
        site = self.sites[0] if self.sites else "battery"
        measured = (_by_charge(site, readings) if self.method == "charge_counter"
                    else _by_current(site, readings))
        charging = [r.values[2] for r in (before, after) if r.values[2] in CHARGING]
        if charging:
            measured.notes.append(
                f"energy_measurement: the battery was {charging[0]}: the energy measured is "
                "its net flow, not the device's consumption")
        return measured


def _read(snapshot: Snapshot, what: str) -> tuple[float, float]:
    """The first value (charge or current) and the voltage of a reading, as numbers."""
    try:
        return float(snapshot.values[0] or ""), float(snapshot.values[1] or "")
    except ValueError:
        raise InstrumentError(f"unreadable {what} or voltage_now: {snapshot.values}") from None


def _by_charge(site: str, readings: list[Snapshot]) -> Measurement:
    """Charge that left the battery (uAh) times its mean voltage (uV)."""
    first, last = readings[0], readings[-1]
    charge0, volts0 = _read(first, "charge_counter")
    charge1, volts1 = _read(last, "charge_counter")
    joules = (charge0 - charge1) * 3.6e-3 * (volts0 + volts1) / 2 * 1e-6
    seconds = last.time - first.time
    rows = [{"time": 0.0, f"{site}_energy": 0.0}, {"time": seconds, f"{site}_energy": joules}]
    return Measurement({site: joules}, seconds, rows)


def _by_current(site: str, readings: list[Snapshot]) -> Measurement:
    """Power at each reading (|current| x voltage, negative while charging), integrated
    with the trapezoidal rule."""
    start = readings[0].time
    rows: list[dict[str, float]] = []
    total, previous = 0.0, None
    for reading in readings:
        amps, volts = _read(reading, "current_now")
        sign = -1.0 if reading.values[2] == "Charging" else 1.0
        watts = sign * abs(amps) * 1e-6 * volts * 1e-6
        if previous is not None:
            total += (watts + previous[1]) / 2 * (reading.time - previous[0])
        previous = (reading.time, watts)
        rows.append({"time": reading.time - start, f"{site}_power": watts,
                     f"{site}_energy": total})
    return Measurement({site: total}, readings[-1].time - start, rows)
