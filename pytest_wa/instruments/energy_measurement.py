"""``energy_measurement``: the energy each job's workload used, from a meter on the device.

WA3's instrument of that name drives lab meters (DAQ, Energy Probe, ACME,
Monsoon) through devlib. Most devices already count their own energy, and
need no lab: hwmon energy counters, RAPL on x86, a phone's fuel gauge,
NVIDIA GPUs through NVML. ``instrument`` names the backend (``energy/``),
``instrument_parameters`` configures it, ``sites``, ``kinds`` and
``channels`` choose what is recorded, as in WA3. The meter is read as close
to the workload as anything is: this instrument starts last and stops first.

Per site: ``<site>_total_energy`` (joules) and ``<site>_average_power``
(watts: that energy over the target's time between the two readings),
WA3's names; the readings are in ``energy_instrument_output.csv``.
"""

from __future__ import annotations

import csv
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from ..model.errors import ConfigError, InstrumentError, close_matches
from ..model.parameters import (
    Kind,
    Parameter,
    ParameterValueError,
    list_of_strings,
    resolve_parameters,
    string,
)
from ..model.runlog import RUN_LOGGER
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .energy import BACKENDS, Backend, Measurement

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

ARTIFACT = "energy_instrument_output"
KINDS = ("energy", "power")
#: The parameters of WA3's lab backends, accepted so that WA3 agendas parse.
WA3_LAB_PARAMETERS = frozenset({
    "resistor_values", "labels", "host", "port", "device_id", "v_range", "dv_range",
    "sample_rate_hz", "channel_map", "keep_raw", "device_entry", "config_file", "iio_capture",
    "iio_devices", "buffer_size", "monsoon_bin", "tty_device"})


def _identifier(key: Any) -> str:
    """WA3 accepts ``iio-capture`` for ``iio_capture``."""
    return str(key).replace("-", "_")


def _backend_parameters(value: Any) -> dict[str, Any]:
    """A mapping whose keys some backend knows (which one is checked when the run starts,
    once the backend is known); a typo is an error at collection."""
    if not isinstance(value, dict):
        raise ParameterValueError(f"expected a mapping of backend parameters, got {value!r}")
    ours = {name: [p.name for p in backend.parameters] for name, backend in BACKENDS.items()
            if backend.parameters and not getattr(backend, "accepts_any_parameter", False)}
    known = WA3_LAB_PARAMETERS | {name for names in ours.values() for name in names}
    for key in map(_identifier, value):
        if key not in known:
            listed = "; ".join(f"{name}: {', '.join(names)}" for name, names in ours.items())
            raise ParameterValueError(
                f"unknown backend parameter {key!r}.{close_matches(key, known)} The backends' "
                f"parameters are {listed} (and WA3's lab backends', accepted and unused)")
    return {_identifier(key): item for key, item in value.items()}


class EnergyMeasurement(Instrument):
    name = "energy_measurement"
    description = """
        Energy and average power during the workload, from a meter or counters.

        Energy used and average power during the workload, per site, from an energy meter
        of the device: hwmon energy counters (hwmon, juno_readenergy), RAPL (rapl), a
        battery's fuel gauge (power_supply) or NVIDIA GPUs (nvml, local target). WA3's lab
        meters (daq, energy_probe, arm_energy_probe, acme_cape, monsoon) are refused.

        Metrics <site>_total_energy (joules) and <site>_average_power (watts); the readings
        in energy_instrument_output.csv. Read just before and just after the workload (this
        instrument is the closest to it).
    """
    priority = Priority.VERY_FAST + 10  # WA3's extremely_fast: a meter hugs the workload
    parameters = (
        Parameter("instrument", string, mandatory=True, allowed_values=tuple(BACKENDS),
                  description="The energy meter (backend). " + " ".join(
                      f"{name}: {backend.description}" for name, backend in BACKENDS.items())),
        Parameter("instrument_parameters", Kind("mapping", _backend_parameters), default={},
                  description="The backend's parameters: rapl: period; power_supply: supply, "
                              "method, period; the others: none (WA3's lab backends' are "
                              "accepted and unused)."),
        Parameter("sites", list_of_strings, default=None,
                  description="Record only these sites (default: every site of the meter)."),
        Parameter("kinds", list_of_strings, default=None,
                  description="Record only these kinds: energy (total_energy), power "
                              "(average_power); default both."),
        Parameter("channels", list_of_strings, default=None,
                  description="Record only these channels, <site>_<kind> (big_energy, "
                              "battery_power); default all."),
        OPTIONAL,
    )

    instrument: str
    instrument_parameters: dict[str, Any]
    sites: list[str] | None
    kinds: list[str] | None
    channels: list[str] | None

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.backend: Backend | None = None
        self.selected: dict[str, list[str]] = {}

    def check(self, target: Target) -> None:
        """Make the backend, find its sites on ``target``, and choose what to record."""
        backend = self._make_backend()
        available = backend.discover(target)
        try:
            self.selected = select(available, self.sites, self.kinds, self.channels)
        except InstrumentUnavailable:
            backend.close()
            raise
        backend.use(list(self.selected))
        self.backend = backend

    def _make_backend(self) -> Backend:
        cls = BACKENDS[self.instrument]
        given = dict(self.instrument_parameters or {})
        if getattr(cls, "accepts_any_parameter", False):
            return cls()
        values, problems = resolve_parameters(cls.parameters, given)
        if problems:
            raise ConfigError("; ".join(
                f"config.{self.name}.instrument_parameters.{key}: backend "
                f"{self.instrument!r}: {message}" for key, message in problems))
        try:
            return cls(**values)
        except ValueError as exc:
            raise ConfigError(f"config.{self.name}.instrument_parameters: {exc}") from None

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        if self.backend is None:
            self.check(job.target)
        assert self.backend is not None
        self.backend.start(job.target)
        try:
            return (yield)
        finally:
            record(job, self.backend.stop(job.target), self.selected)

    def pytest_wa_run_start(self, run: Any) -> None:
        """Say what the meter leaves out, now that the run's log is open."""
        for reason in self.backend.left_out if self.backend else ():
            RUN_LOGGER.info("energy_measurement: left out: %s", reason)

    def pytest_wa_run_end(self, run: Any) -> None:
        if self.backend is not None:
            self.backend.close()
            self.backend = None


def select(available: list[str], sites: list[str] | None, kinds: list[str] | None,
           channels: list[str] | None) -> dict[str, list[str]]:
    """The kinds to record for each site; a site, kind or channel the meter does not have
    is a refusal naming what it has."""
    def refuse(what: str, unknown: list[str], known: list[str]) -> None:
        if unknown:
            raise InstrumentUnavailable(f"{what} {', '.join(unknown)} not measured here; "
                                        f"there are: {', '.join(known)}")
    refuse("sites", [s for s in sites or [] if s not in available], available)
    refuse("kinds", [k for k in kinds or [] if k not in KINDS], list(KINDS))
    every = [f"{site}_{kind}" for site in available for kind in KINDS]
    refuse("channels", [c for c in channels or [] if c not in every], every)
    selected: dict[str, list[str]] = {}
    for site in available:
        chosen = [kind for kind in KINDS
                  if (sites is None or site in sites) and (kinds is None or kind in kinds)
                  and (channels is None or f"{site}_{kind}" in channels)]
        if chosen:
            selected[site] = chosen
    if not selected:
        raise InstrumentUnavailable("sites, kinds and channels together select nothing")
    return selected


def record(job: JobContext, measured: Measurement, selected: dict[str, list[str]]) -> None:
    """WA3's metrics for each selected site, the readings as a CSV artifact, the notes as
    events."""
    if measured.seconds <= 0:
        raise InstrumentError(f"the readings are {measured.seconds:g} s apart: no duration "
                              "to average the power over (has the target's clock moved?)")
    for note in measured.notes:
        job.add_event(note)
    for site, kinds in selected.items():
        joules = measured.joules[site]
        if "energy" in kinds:
            job.add_metric(f"{site}_total_energy", joules, "joules", lower_is_better=True)
        if "power" in kinds:
            job.add_metric(f"{site}_average_power", joules / measured.seconds, "watts",
                           lower_is_better=True)
    if job.output_directory is not None and measured.rows:
        path = job.output_directory / f"{ARTIFACT}.csv"
        columns = list(dict.fromkeys(key for row in measured.rows for key in row))
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, columns, restval="")
            writer.writeheader()
            writer.writerows(measured.rows)
        job.add_artifact(ARTIFACT, path.name, "data",
                         "The meter's readings: time (s from the first) and, per site, energy "
                         "since the first reading (J) and power (W) where sampled.")
