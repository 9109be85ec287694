"""The ``rapl`` backend: Linux powercap energy counters (Intel and AMD RAPL).

Each zone under ``/sys/class/powercap`` with an ``energy_uj`` counter is a
site, named from its ``name`` file (``package-0``; a sub-zone after its
parent: ``package_0_core``). The counter wraps at ``max_energy_range_uj``
(about 262 J for a package: a minute at 4 W, a few seconds on a big server
under load), so between the readings at both ends it is also read in the
background every ``period`` seconds, and each wrap is added back. The period
must be shorter than the counter's range over the zone's peak power.
Since Linux 5.10 ``energy_uj`` is readable by root only.
"""

from __future__ import annotations

import posixpath
from collections import Counter as Tally
from typing import TYPE_CHECKING, Any

from ...model.parameters import Parameter
from ..availability import InstrumentUnavailable
from ..snapshots import PERIOD, discover
from .base import Counter, CounterBackend, site_name

if TYPE_CHECKING:
    from ...targets.protocols import Target

ROOT = "/sys/class/powercap"
PATTERNS = tuple(f"{ROOT}/*/{name}" for name in ("name", "energy_uj", "max_energy_range_uj"))
SAMPLING = Parameter("period", PERIOD, default=0.5,
                   description="Seconds between background readings of the counters, so "
                               "that each wrap-around is seen: shorter than the counter's "
                               "range (max_energy_range_uj) over the zone's peak power.")


class RaplBackend(CounterBackend):
    name = "rapl"
    description = ("Linux powercap (Intel/AMD RAPL) energy_uj counters, wrap-arounds "
                   "counted; one site per zone (package_0, package_0_core, psys...).")
    parameters = (SAMPLING,)

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        given = values.get("period")
        self.period = float(SAMPLING.default if given is None else given)
        if self.period <= 0:
            raise ValueError(f"period must be more than 0 s, got {self.period:g}")

    def discover(self, target: Target) -> list[str]:
        files, self.as_root = discover(target, PATTERNS)
        zones = sorted(posixpath.dirname(path) for path in files
                       if path.endswith("/energy_uj"))
        if not zones:
            raise InstrumentUnavailable(
                f"no RAPL energy counters: {ROOT} has no zone with energy_uj (not an x86 "
                "CPU with RAPL, the intel_rapl_common/intel_rapl_msr modules not loaded, "
                "or a VM)")
        unreadable = [zone for zone in zones if files[f"{zone}/energy_uj"] is None]
        if unreadable:
            raise InstrumentUnavailable(
                f"{', '.join(f'{zone}/energy_uj' for zone in unreadable)} readable by root "
                "only (Linux 5.10 and later): run as root (adb_as_root: true on a userdebug "
                "Android build; an SSH user with sudo)")
        self.counters = [self._counter(zone, files) for zone in zones]
        return [counter.site for counter in self.counters]

    def _counter(self, zone: str, files: dict[str, str | None]) -> Counter:
        try:
            wraps_at = int(files.get(f"{zone}/max_energy_range_uj") or "") * 1e-6
        except ValueError:
            raise InstrumentUnavailable(f"{zone}/max_energy_range_uj cannot be read: without "
                                        "it a wrap-around cannot be counted") from None
        return Counter(zone_sites(files)[zone], f"{zone}/energy_uj", 1e-6, wraps_at)


def zone_sites(files: dict[str, str | None]) -> dict[str, str]:
    """Each zone directory's site: its name, after its parent zone's for a sub-zone
    (``intel-rapl:0:0`` -> ``package_0_core``). Where two zones share a name
    (``intel-rapl-mmio:0`` is also ``package-0``), the MSR zone (``intel-rapl:N``) keeps
    it and the other takes its directory's name."""
    zones = sorted(posixpath.dirname(path) for path in files if path.endswith("/energy_uj"))
    sites = {}
    for zone in zones:
        own = files.get(f"{zone}/name") or posixpath.basename(zone)
        identifier = posixpath.basename(zone)
        parent = f"{ROOT}/{identifier.rsplit(':', 1)[0]}" if identifier.count(":") > 1 else ""
        parent_name = files.get(f"{parent}/name") if parent else None
        sites[zone] = site_name(f"{parent_name}_{own}" if parent_name else own)
    for keep_msr in (True, False):
        clashes = Tally(sites.values())
        sites = {zone: site if clashes[site] == 1 or (
                     keep_msr and posixpath.basename(zone).startswith("intel-rapl:"))
                 else site_name(posixpath.basename(zone)) for zone, site in sites.items()}
    return sites
