"""``thermal``: each thermal zone's temperature before, after, and at its highest during the job.

A throttled SoC explains a slow run, and it is the peak that throttles: a
temperature back to normal by the end of the workload says nothing of it.
The zones (``/sys/class/thermal/thermal_zoneN``: ``type``, ``temp`` in
millidegrees C) are read with one command just before the workload and one
just after, and every ``period`` seconds in between by a loop on the device
(two more commands per job, whatever its length), for the maximum. Not in
WA3: a pytest-wa instrument, named and shaped like WA3's hwmon.
"""

from __future__ import annotations

import csv
import fnmatch
import posixpath
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from ..model.errors import InstrumentError
from ..model.parameters import Parameter, list_of_strings
from ..model.runlog import RUN_LOGGER
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .snapshots import CHEAP, PERIOD, Sampler, Snapshot, discover, in_order, take

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

ROOT = "/sys/class/thermal"
TABLE = "thermal.csv"


@dataclass(frozen=True)
class Zone:
    directory: str  # thermal_zone0
    type: str  # cpu-thermal
    name: str  # the metric stem: its type, or the directory where types repeat

    @property
    def path(self) -> str:
        return f"{ROOT}/{self.directory}/temp"


class Thermal(Instrument):
    name = "thermal"
    description = """
        Thermal zones' temperatures before and after the workload, and the peak.

        Each thermal zone's temperature just before and just after the workload, and the
        highest seen during it (sampled on the device every period seconds).

        Metrics <zone type>_temperature_before, _after and _max (degrees C); every reading
        in thermal.csv. Zones whose temperature cannot be read (a powered-down block) are
        left out with a note; a device without a readable zone is refused.
    """
    priority = Priority.FAST
    parameters = (
        Parameter("zones", list_of_strings, default=None,
                  description="Record only these zones: types (cpu-thermal) or directories "
                              "(thermal_zone0), shell patterns allowed (cpu*); default all."),
        Parameter("period", PERIOD, default=0.5,
                  description="Seconds between readings during the workload, for the "
                              "maximum; 0: no sampling (the maximum of before and after)."),
        OPTIONAL,
    )

    zones: list[str] | None
    period: float

    def __init__(self, source_directory: str = ".", **values: object) -> None:
        super().__init__(source_directory, **values)
        self.found: list[Zone] = []
        self.left_out: list[str] = []
        self.as_root = False

    def check(self, target: Target) -> None:
        """Refuse a device without a readable thermal zone (or without the zones asked)."""
        files, self.as_root = discover(target, [f"{ROOT}/thermal_zone*/type",
                                                f"{ROOT}/thermal_zone*/temp"])
        zones, self.left_out = readable_zones(files)
        if not zones:
            raise InstrumentUnavailable(
                f"no readable thermal zone in {ROOT} (no thermal driver on this device, as "
                "in most VMs)" + "".join(f"; {reason}" for reason in self.left_out))
        if self.zones:
            chosen = [z for z in zones if any(fnmatch.fnmatchcase(z.type, p)
                                              or fnmatch.fnmatchcase(z.directory, p)
                                              for p in self.zones)]
            if not chosen:
                raise InstrumentUnavailable(
                    f"no thermal zone matches {', '.join(self.zones)}; there are: "
                    + ", ".join(f"{z.directory} ({z.type})" for z in zones))
            zones = chosen
        self.found = zones

    def pytest_wa_run_start(self, run: object) -> None:
        """Say which zones are left out, now that the run's log is open."""
        for reason in self.left_out:
            RUN_LOGGER.info("thermal: zone left out: %s", reason)

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        if not self.found:
            self.check(job.target)
        paths = [zone.path for zone in self.found]
        before = take(job.target, paths, as_root=self.as_root, clock=CHEAP)
        sampler = (Sampler(job.target, paths, self.period, name=self.name,
                           as_root=self.as_root, clock=CHEAP) if self.period else None)
        try:
            return (yield)
        finally:
            try:
                after = take(job.target, paths, as_root=self.as_root, clock=CHEAP,
                             then=sampler)
            finally:
                samples = sampler.samples() if sampler else []
            record(job, self.found, in_order(before, samples, after))


def readable_zones(files: dict[str, str | None]) -> tuple[list[Zone], list[str]]:
    """Zones with a type and a temperature that reads as a number, in zone order (where
    two share a type, their directories name them); and why the others were left out."""
    found, left_out = [], []
    for path, temp in files.items():
        if not path.endswith("/temp"):
            continue
        directory = posixpath.basename(posixpath.dirname(path))
        kind = files.get(f"{ROOT}/{directory}/type") or directory
        if _degrees(temp) is None:
            left_out.append(f"{directory} ({kind}): its temperature reads {temp!r}")
            continue
        found.append((directory, kind))
    found.sort(key=lambda item: int("".join(filter(str.isdigit, item[0])) or 0))
    types = [kind for _, kind in found]
    return [Zone(directory, kind, kind if types.count(kind) == 1 else directory)
            for directory, kind in found], left_out


def _degrees(text: str | None) -> float | None:
    try:
        return int(text or "") / 1000
    except ValueError:
        return None


def record(job: JobContext, zones: list[Zone], readings: list[Snapshot]) -> None:
    """Before, after and maximum of each zone; the readings as a CSV; an error naming
    the zones that could not be read at the start or the end."""
    failed = []
    for index, zone in enumerate(zones):
        values = [_degrees(reading.values[index]) for reading in readings]
        first, last = values[0], values[-1]
        if first is None or last is None:
            failed.append(f"{zone.directory} ({zone.type}) unreadable "
                          f"{'before' if first is None else 'after'} the workload")
            continue
        classifiers = {"zone": zone.directory, "type": zone.type}
        for suffix, value in (("before", first), ("after", last),
                              ("max", max(v for v in values if v is not None))):
            job.add_metric(f"{zone.name}_temperature_{suffix}", value, "degrees",
                           lower_is_better=True, classifiers=classifiers)
    _write_table(job, zones, readings)
    if failed:
        raise InstrumentError("; ".join(failed))


def _write_table(job: JobContext, zones: list[Zone], readings: list[Snapshot]) -> None:
    if job.output_directory is None:
        return
    start = readings[0].time
    with open(job.output_directory / TABLE, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", *(zone.name for zone in zones)])
        for reading in readings:
            temps = [_degrees(value) for value in reading.values]
            writer.writerow([f"{reading.time - start:.3f}",
                             *("" if t is None else f"{t:g}" for t in temps)])
    job.add_artifact("thermal", TABLE, "data",
                     "Each zone's temperature (degrees C) at every reading: before the "
                     "workload, every period during it, after it; time in s from the first.")
