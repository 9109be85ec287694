"""``hwmon``: the device's hardware monitors just before and just after the workload.

Every hwmon sensor pytest-wa knows (temperature, voltage, current, power,
energy) is read with one command before the workload and one after it.
Momentary quantities become ``<site>_<quantity>_before`` and ``_after``
metrics; energy counters become their difference, ``<site>_energy``, in
joules: WA3's names and units. Sensors of other kinds (fans, humidity...)
and unreadable ones are left out with a note when the run starts; a device
without a single usable sensor is refused before the first job.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from ..model.errors import InstrumentError
from ..model.runlog import RUN_LOGGER
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .hwmon_sensors import ROOT, Sensor, Survey, survey
from .snapshots import Snapshot, take

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

#: Quantities whose rise is a cost (a lower value is better).
COSTS = frozenset({"energy", "power", "temperature"})


class Hwmon(Instrument):
    name = "hwmon"
    description = """
        Hardware monitor sensors before and after the workload (energy, power, temp).

        The device's hardware monitors (Linux hwmon: temperature, voltage, current, power and
        energy sensors) just before and just after the workload.

        Temperatures, voltages, currents and powers are recorded before and after
        (<site>_<quantity>_before, _after); energy counters as the energy used between the
        two (<site>_energy, joules). Sensors of other kinds, and unreadable ones, are left
        out with a note; a device with no usable sensor is refused before the first job.
    """
    priority = Priority.FAST
    parameters = (OPTIONAL,)

    def __init__(self, source_directory: str = ".", **values: object) -> None:
        super().__init__(source_directory, **values)
        self.found: Survey | None = None

    def check(self, target: Target) -> None:
        """Refuse a device without one hwmon sensor pytest-wa can record."""
        found = survey(target)
        if not found.sensors:
            raise InstrumentUnavailable(_nothing_usable(found))
        self.found = found

    def pytest_wa_run_start(self, run: object) -> None:
        """Say which sensors are left out, now that the run's log is open."""
        for reason in self.found.skipped if self.found else ():
            RUN_LOGGER.info("hwmon: sensor left out: %s", reason)

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        if self.found is None:
            self.check(job.target)
        assert self.found is not None
        paths = [sensor.path for sensor in self.found.sensors]
        before = take(job.target, paths, as_root=self.found.as_root, clock=None)
        try:
            return (yield)
        finally:
            after = take(job.target, paths, as_root=self.found.as_root, clock=None)
            record(job, self.found.sensors, before, after)


def _nothing_usable(found: Survey) -> str:
    if not found.skipped:
        return (f"no hwmon sensors: {ROOT} is missing or empty (the kernel has no hardware "
                "monitoring driver for this board, as in most VMs)")
    return ("no hwmon sensor pytest-wa can record (temperature, voltage, current, power, "
            f"energy); found only: {'; '.join(found.skipped)}. If they are unreadable as "
            "this user, connect as root (adb_as_root: true on a userdebug build)")


def record(job: JobContext, sensors: list[Sensor], before: Snapshot, after: Snapshot) -> None:
    """The metrics of every sensor read on both sides; an error naming the others."""
    failed = []
    for sensor, first, last in zip(sensors, before.values, after.values, strict=True):
        start, end = sensor.value(first), sensor.value(last)
        if start is None or end is None:
            failed.append(f"{sensor.name} unreadable {'before' if start is None else 'after'}"
                          " the workload")
            continue
        quantity = sensor.quantity
        lower = quantity.name in COSTS
        classifiers = {"sensor": sensor.name}
        if not quantity.cumulative:
            job.add_metric(f"{sensor.channel}_before", start, quantity.units,
                           lower_is_better=lower, classifiers=classifiers)
            job.add_metric(f"{sensor.channel}_after", end, quantity.units,
                           lower_is_better=lower, classifiers=classifiers)
        elif end < start:
            failed.append(f"{sensor.name} went back from {start:g} to {end:g} "
                          f"{quantity.units} (reset during the job)")
        else:
            job.add_metric(sensor.channel, end - start, quantity.units, lower_is_better=lower,
                           classifiers=classifiers)
    if failed:
        raise InstrumentError("; ".join(failed))
