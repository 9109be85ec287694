"""``proc_stat``: CPU utilisation from /proc/stat, sampled while the workload runs.

/proc/stat's ``cpu`` lines are read just before the workload starts and
just after it ends (also when it failed or ran past ``job_timeout``), so the
intervals cover the job exactly, however short; in between, a shell loop on
the target (``BackgroundSampler``) prints them every ``period`` seconds, and
is stopped as soon as the workload ends. Utilisation is procps' (``top``):
the share of the interval a CPU was neither idle nor waiting for I/O, out of
user, nice, system, idle, iowait, irq, softirq and steal (guest time is
already in user and nice).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from ..model.errors import InstrumentError, TargetError
from ..model.parameters import Kind, Parameter, ParameterValueError, number
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .jobfiles import READ_TIMEOUT, after_target, epoch_seconds, write_job_file
from .reading import BackgroundSampler

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

SAMPLE = "grep '^cpu' /proc/stat"
FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest",
          "guest_nice")
_COUNTED = 8  # user ... steal: guest and guest_nice are already in user and nice
_IDLE = (3, 4)  # idle, iowait


def _positive(value: object) -> float | int:
    converted = number(value)
    if converted <= 0:
        raise ParameterValueError(f"must be above 0, got {converted!r}")
    return converted


positive_number = Kind("positive number", _positive)


@dataclass(frozen=True)
class Sample:
    """The ``cpu`` lines at one moment: ``"cpu"`` (all CPUs) and ``"cpuN"`` -> counters."""

    timestamp: float  # seconds since the epoch, on the target's clock
    cpus: dict[str, list[int]]


def parse_sample(timestamp: float, text: str) -> Sample | None:
    """One sample, or None when it was cut short (no whole ``cpu`` line)."""
    cpus = {}
    for line in text.splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and len(values) >= 4 and all(v.isdigit() for v in values):
            cpus[name] = [int(v) for v in values]
    return Sample(timestamp, cpus) if "cpu" in cpus else None


def busy_and_total(before: list[int], after: list[int]) -> tuple[int, int]:
    """Ticks a CPU was busy, and all its ticks, between two readings; none where a
    counter went backwards (a sample cut short)."""
    deltas = [b - a for a, b in zip(before[:_COUNTED], after[:_COUNTED], strict=False)]
    if any(delta < 0 for delta in deltas):
        return 0, 0
    total = sum(deltas)
    return total - sum(deltas[i] for i in _IDLE if i < len(deltas)), total


def utilisation(samples: Sequence[Sample], cpu: str) -> float | None:
    """Percent busy over the samples where ``cpu`` is listed: an offline CPU is not,
    and its counters stand still until it is back."""
    listed = [sample.cpus[cpu] for sample in samples if cpu in sample.cpus]
    busy = total = 0
    for first, second in zip(listed, listed[1:], strict=False):
        b, t = busy_and_total(first, second)
        busy, total = busy + b, total + t
    return 100.0 * busy / total if total > 0 else None


def cpu_names(samples: Sequence[Sample]) -> list[str]:
    """Every ``cpuN`` seen, by number."""
    names = {name for sample in samples for name in sample.cpus if name != "cpu"}
    return sorted(names, key=lambda name: int(name[3:]))


def _iso(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).isoformat()


def raw_csv(samples: Sequence[Sample]) -> str:
    """WA3's proc-stat-raw.csv: each sample's counters for all CPUs together."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp", *FIELDS])
    for sample in samples:
        writer.writerow([_iso(sample.timestamp), *sample.cpus["cpu"]])
    return out.getvalue()


def util_csv(samples: Sequence[Sample], cpus: list[str]) -> str:
    """WA3's proc-stat.csv (timestamp, cpu_util) with a column per CPU added: the
    utilisation of each interval, stamped with its end."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp", "cpu_util", *(f"{cpu}_util" for cpu in cpus)])
    for first, second in zip(samples, samples[1:], strict=False):
        values = [utilisation((first, second), cpu) for cpu in ("cpu", *cpus)]
        writer.writerow([_iso(second.timestamp),
                         *("" if value is None else f"{value:.2f}" for value in values)])
    return out.getvalue()


class ProcStat(Instrument):
    name = "proc_stat"
    description = """
    CPU utilisation during the workload, sampled from /proc/stat.

    CPU utilisation while the workload runs, from /proc/stat sampled on the target every
    period seconds: proc-stat-raw.csv (the counters of each sample), proc-stat.csv (the
    utilisation of each interval, all CPUs and each CPU), and the metrics cpu_util and
    per_cpu_util (classifier cpu): the percentage of the workload's time the CPUs were
    busy, all together and each.
    """
    parameters = (
        Parameter("period", positive_number, 5, description=(
            "Seconds between samples (WA3 takes whole seconds; fractions are accepted "
            "here).")),
        OPTIONAL,
    )
    priority = Priority.NORMAL

    period: float

    def check(self, target: Target) -> None:
        try:
            result = target.execute(f"{SAMPLE} && date +%s.%N", timeout=READ_TIMEOUT)
        except TargetError as exc:
            raise InstrumentUnavailable(f"cannot read /proc/stat: {exc}") from None
        if not result.ok or not result.stdout.startswith("cpu "):
            said = (result.stderr or result.stdout).strip()[:200]
            raise InstrumentUnavailable(f"cannot read /proc/stat's cpu lines ({SAMPLE} && "
                                        f"date +%s.%N: {said or 'no cpu line'})")

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        first = read_sample(job.target)
        sampler = BackgroundSampler(job.target, SAMPLE, float(self.period))
        try:
            return (yield)
        finally:
            self._record(job, first, sampler)

    def _record(self, job: JobContext, first: Sample, sampler: BackgroundSampler) -> None:
        taken = sampler.stop()
        last = read_sample(after_target(job))
        # The loop's first sample, taken as it starts, is milliseconds after ``first``.
        middle = [s for s in (parse_sample(t, x) for t, x in taken) if s is not None
                  and first.timestamp + self.period / 2 <= s.timestamp < last.timestamp]
        samples = [first, *middle, last]
        job.add_artifact("proc-stat-raw", write_job_file(job, "proc-stat-raw.csv",
                                                         raw_csv(samples)), "raw",
                         "/proc/stat's counters for all CPUs at each sample.")
        cpus = cpu_names(samples)
        job.add_artifact("proc-stat", write_job_file(job, "proc-stat.csv",
                                                     util_csv(samples, cpus)), "data",
                         "CPU utilisation (%) of each interval between samples.")
        for cpu in ("cpu", *cpus):  # per CPU under its own name: summaries group by name
            value = utilisation(samples, cpu)
            if value is not None and cpu == "cpu":
                job.add_metric("cpu_util", value, "%")
            elif value is not None:
                job.add_metric("per_cpu_util", value, "%", classifiers={"cpu": int(cpu[3:])})
        seconds = last.timestamp - first.timestamp
        if not taken and seconds >= 3 * self.period:
            raise InstrumentError(f"proc_stat: the sampling loop on the target gave no sample "
                                  f"in {seconds:.1f} s (every {self.period:g} s was asked)")


def read_sample(target: Target) -> Sample:
    """/proc/stat's cpu lines now, with the target's time (one command)."""
    output = target.execute(f"date +%s.%N; {SAMPLE}", timeout=READ_TIMEOUT, check=True).stdout
    stamp, _, text = output.partition("\n")
    sample = parse_sample(epoch_seconds(stamp), text)
    if sample is None:
        raise InstrumentError(f"proc_stat: no cpu line in /proc/stat: {output[:200]!r}")
    return sample
