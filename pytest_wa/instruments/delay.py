"""``delay``: time for the device to cool down between specs, between jobs, and before a run.

WA3's instrument. Each slot (before a new spec, before each job, and just
before the workload runs, after its setup) waits either a fixed number of
seconds or until the device's temperature file reads at most a threshold
(``temperature_timeout`` bounds the wait; 0 as a threshold means the
temperature the device had when the run started). At a spec's first job the
spec's delay is used, or else the job's. Every wait is a job event saying how
long it waited and from which temperature to which, so a run's log shows why
it took the time it did. Its priority is the lowest: it runs before every
other instrument, so no measurement includes the wait.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from ..model.errors import CommandError, ConfigError, InstrumentError, TargetError
from ..model.parameters import Parameter, boolean, integer, string
from ..model.runlog import RUN_LOGGER
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

SLOTS = ("between_specs", "between_jobs", "before_start")
COOLING_MODULES = ("mbed-fan", "odroidxu3-fan")


class Delay(Instrument):
    name = "delay"
    description = """Waits between specs or jobs: a fixed time, or until the device cools down.

    The waits come between specs, between jobs or before the workload runs; a
    temperature wait lasts until the device's temperature drops to a threshold."""
    priority = Priority.VERY_SLOW
    parameters = (
        Parameter("temperature_file", string, "/sys/devices/virtual/thermal/thermal_zone0/temp",
                  "The device's file holding its temperature (an integer, in the file's units,"
                  " millidegrees Celsius for a thermal zone)."),
        Parameter("temperature_timeout", integer, 600,
                  "Seconds after which a temperature wait ends even if the threshold was not "
                  "reached (a warning and a job event say at which temperature)."),
        Parameter("temperature_poll_period", integer, 5,
                  "Seconds between two readings of the temperature while waiting."),
        Parameter("temperature_between_specs", integer, None,
                  "Wait before a new spec until the temperature is at most this (0: the "
                  "temperature when the run started)."),
        Parameter("fixed_between_specs", integer, None, "Seconds to wait before a new spec."),
        Parameter("temperature_between_jobs", integer, None,
                  "Wait before each job until the temperature is at most this (0: the "
                  "temperature when the run started).",
                  aliases=("temperature_between_iterations",)),
        Parameter("fixed_between_jobs", integer, None, "Seconds to wait before each job.",
                  aliases=("fixed_between_iterations",)),
        Parameter("fixed_before_start", integer, None,
                  "Seconds to wait after the job's setup, just before the workload runs."),
        Parameter("temperature_before_start", integer, None,
                  "Wait after the job's setup, just before the workload runs, until the "
                  "temperature is at most this."),
        Parameter("active_cooling", boolean, False,
                  "Run a fan while waiting for the temperature (WA3's mbed-fan and "
                  "odroidxu3-fan device modules); pytest-wa has none, so true is refused."),
        OPTIONAL,
    )

    temperature_file: str
    temperature_timeout: int
    temperature_poll_period: int
    temperature_between_specs: int | None
    fixed_between_specs: int | None
    temperature_between_jobs: int | None
    fixed_between_jobs: int | None
    fixed_before_start: int | None
    temperature_before_start: int | None
    active_cooling: bool

    def validate(self) -> None:
        """One kind of delay per slot, and at least one delay (as WA3 checks)."""
        for slot in SLOTS:
            if (getattr(self, f"temperature_{slot}") is not None
                    and getattr(self, f"fixed_{slot}") is not None):
                raise ValueError(f"both fixed_{slot} and temperature_{slot} are set; "
                                 "choose one")
        if not any(getattr(self, f"{kind}_{slot}") for slot in SLOTS
                   for kind in ("fixed", "temperature")) and not self._initial_thresholds():
            raise ValueError("no delay is set: set one of " + ", ".join(
                f"fixed_{slot}, temperature_{slot}" for slot in SLOTS))

    def check(self, target: Target) -> None:
        try:
            self.validate()
        except ValueError as exc:
            raise ConfigError(f"instrument 'delay': {exc}") from None
        if self.active_cooling:
            raise InstrumentUnavailable(
                "active_cooling needs a fan the device can drive (WA3's "
                f"{' or '.join(COOLING_MODULES)} device modules), which pytest-wa does not "
                "provide")
        self._spec_changed = False
        if not any(getattr(self, f"temperature_{slot}") is not None for slot in SLOTS):
            return
        try:
            initial = self._temperature(target)
        except (TargetError, InstrumentError) as exc:
            said = exc.stderr if isinstance(exc, CommandError) and exc.stderr.strip() else exc
            raise InstrumentUnavailable(
                f"it waits for the temperature in {self.temperature_file}, which cannot be "
                f"read ({' '.join(str(said).split())}); set temperature_file to the device's "
                "thermal zone") from None
        for slot in self._initial_thresholds():
            setattr(self, f"temperature_{slot}", initial)

    def _initial_thresholds(self) -> list[str]:
        """The slots whose threshold is 0: the temperature when the run starts."""
        return [slot for slot in SLOTS if getattr(self, f"temperature_{slot}") == 0]

    def pytest_wa_spec_start(self, job: JobContext) -> None:
        self._spec_changed = True

    def pytest_wa_job_start(self, job: JobContext) -> None:
        """Before each job; at a spec's first job the spec's delay, if it has one (WA3's
        order)."""
        changed, self._spec_changed = getattr(self, "_spec_changed", False), False
        if changed and self.fixed_between_specs:
            self._sleep(job, self.fixed_between_specs, "fixed_between_specs")
        elif changed and self.temperature_between_specs:
            self._cool(job, self.temperature_between_specs, "temperature_between_specs")
        elif self.fixed_between_jobs:
            self._sleep(job, self.fixed_between_jobs, "fixed_between_jobs")
        elif self.temperature_between_jobs:
            self._cool(job, self.temperature_between_jobs, "temperature_between_jobs")

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        if self.fixed_before_start:
            self._sleep(job, self.fixed_before_start, "fixed_before_start")
        elif self.temperature_before_start:
            self._cool(job, self.temperature_before_start, "temperature_before_start")
        return (yield)

    @staticmethod
    def _sleep(job: JobContext, seconds: int, reason: str) -> None:
        RUN_LOGGER.info("Job %s: waiting %d s (%s)", job.output_id, seconds, reason)
        time.sleep(seconds)
        job.add_event(f"delay: waited {seconds} s ({reason})")

    def _cool(self, job: JobContext, threshold: int, reason: str) -> None:
        """Wait until the temperature is at most ``threshold``, or the timeout."""
        started = time.monotonic()
        first = reading = self._temperature(job.target)
        if first <= threshold:
            job.add_event(f"delay: the temperature is {first}, at most {threshold} "
                          f"({reason}): no wait")
            return
        while reading > threshold:
            waited = time.monotonic() - started
            if waited >= self.temperature_timeout:
                message = (f"delay: the temperature is still {reading} after "
                           f"{self.temperature_timeout} s (temperature_timeout), above "
                           f"{threshold} ({reason}); the job goes on")
                RUN_LOGGER.warning("Job %s: %s", job.output_id, message)
                job.add_event(message)
                return
            time.sleep(self.temperature_poll_period)
            reading = self._temperature(job.target)
        job.add_event(f"delay: waited {time.monotonic() - started:.1f} s for the temperature "
                      f"to fall from {first} to {reading}, at most {threshold} ({reason})")

    def _temperature(self, target: Target) -> int:
        text = target.read_value(self.temperature_file).strip()
        try:
            return int(text)
        except ValueError:
            raise InstrumentError(f"{self.temperature_file} holds {text!r}, not a "
                                  "temperature (an integer)") from None
