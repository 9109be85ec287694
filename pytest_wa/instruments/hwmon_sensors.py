"""The hwmon sensors of a target: found once per run, named as WA3 names them.

``/sys/class/hwmon/hwmonN`` holds a ``name`` and one ``<kind><number>_input``
file per sensor (``temp1_input`` in millidegrees C, ``in0_input`` in mV,
``curr1_input`` in mA, ``power1_input`` in uW, ``energy1_input`` in uJ),
with an optional ``<kind><number>_label``. Kinds pytest-wa does not record
(fans, humidity, PWM...) and inputs that cannot be read are set aside with
the reason, never an error: a board's odd sensor must not cost the run
(WA3 3.3.1's devlib raises TypeError on them, and the run aborts).

Each sensor gets a *site*, WA3's name for where it measures: its label, or
the device's name when it has none, less the words that name the kind
(``big_energy`` -> ``big``). Metric names are ``<site>_<quantity>``.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .snapshots import discover

if TYPE_CHECKING:
    from ..targets.protocols import Target

ROOT = "/sys/class/hwmon"
PATTERNS = (f"{ROOT}/*/name", f"{ROOT}/*/*_label", f"{ROOT}/*/*_input")


@dataclass(frozen=True)
class Quantity:
    """What a sensor kind measures: WA3's measurement name and units, and the scale from
    the sysfs unit to those units."""

    name: str
    units: str
    scale: float
    cumulative: bool = False


KINDS = {
    "temp": Quantity("temperature", "degrees", 1e-3),
    "in": Quantity("voltage", "volts", 1e-3),
    "curr": Quantity("current", "amps", 1e-3),
    "power": Quantity("power", "watts", 1e-6),
    "energy": Quantity("energy", "joules", 1e-6, cumulative=True),
}
#: Words that name a kind, dropped from labels to leave the site (as devlib does).
KIND_WORDS = ("volt", "voltage", "in", "curr", "current", "power", "energy", "temp",
              "temperature")
_INPUT = re.compile(r"^(?P<kind>[a-z_]+?)(?P<number>\d+)_input$")
_KIND_WORD = re.compile(rf"^(?:{'|'.join(KIND_WORDS)})\d*$", re.IGNORECASE)


@dataclass(frozen=True)
class Sensor:
    """One hwmon input pytest-wa records."""

    path: str  # /sys/class/hwmon/hwmon0/energy1_input
    device: str  # the hwmon device's name (scmi_sensors)
    kind: str  # the file's kind (energy)
    number: int
    label: str | None
    site: str

    @property
    def quantity(self) -> Quantity:
        return KINDS[self.kind]

    @property
    def name(self) -> str:
        """devlib's sensor name: ``<device>/<kind><number>``."""
        return f"{self.device}/{self.kind}{self.number}"

    @property
    def channel(self) -> str:
        """WA3's channel label, the stem of the metric names: ``<site>_<quantity>``."""
        return f"{self.site}_{self.quantity.name}"

    def value(self, text: str | None) -> float | None:
        """The reading in WA3's units, or None when it is not a number."""
        try:
            return int(text or "") * self.quantity.scale
        except ValueError:
            return None


@dataclass
class Survey:
    """What a target's hwmon offers: the sensors recorded, the ones set aside and why,
    and whether reading them needs root."""

    sensors: list[Sensor]
    skipped: list[str]
    as_root: bool

    def of_kind(self, *kinds: str) -> list[Sensor]:
        return [sensor for sensor in self.sensors if sensor.kind in kinds]


def survey(target: Target) -> Survey:
    """Every hwmon sensor of ``target``, in one command (two when root is needed)."""
    files, as_root = discover(target, PATTERNS)
    sensors, skipped = [], []
    for path, text in sorted(files.items(), key=lambda item: _natural(item[0])):
        match = _INPUT.match(posixpath.basename(path))
        if not match:
            continue
        directory = posixpath.dirname(path)
        device = files.get(f"{directory}/name") or posixpath.basename(directory)
        kind, number = match["kind"], int(match["number"])
        where = f"{device}/{kind}{number} ({path})"
        if kind not in KINDS:
            skipped.append(f"{where}: '{kind}' is not a kind pytest-wa records")
            continue
        label = files.get(f"{directory}/{kind}{number}_label") or None
        sensor = Sensor(path, device, kind, number, label, guess_site(device, label))
        if sensor.value(text) is None:
            skipped.append(f"{where}: unreadable ({'no value' if text is None else repr(text)})")
            continue
        sensors.append(sensor)
    return Survey(unique_sites(sensors), skipped, as_root)


def guess_site(device: str, label: str | None) -> str:
    """The label (else the device's name) without the words naming a kind, spaces made
    underscores: ``big_energy`` -> ``big``, ``Core 0`` -> ``Core_0``."""
    text = label or device
    words = [word for word in re.split(r"[\s_]+", text.strip())
             if word and not _KIND_WORD.match(word)]
    return "_".join(words) or device


def unique_sites(sensors: list[Sensor]) -> list[Sensor]:
    """Sensors whose channel names clash get longer sites (the device and the sensor's
    file, then the hwmon directory too), so no metric hides another."""
    longer = (lambda s: f"{s.device}_{s.kind}{s.number}",
              lambda s: f"{_hwmon_dir(s)}_{s.device}_{s.kind}{s.number}")
    result = list(sensors)
    for namer in longer:
        counts: dict[str, int] = defaultdict(int)
        for sensor in result:
            counts[sensor.channel] += 1
        result = [replace(sensor, site=namer(sensor)) if counts[sensor.channel] > 1
                  else sensor for sensor in result]
    return result


def _hwmon_dir(sensor: Sensor) -> str:
    return posixpath.basename(posixpath.dirname(sensor.path))


def _natural(path: str) -> list[object]:
    """hwmon2 before hwmon10, temp2 before temp10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]
