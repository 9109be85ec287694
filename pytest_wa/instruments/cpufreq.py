"""``cpufreq``: where each cpufreq policy's clock spent the job, from the kernel's statistics.

WA3's cpufreq copies the whole of /sys/devices/system/cpu into a tmpfs on the
target before and after every job and pulls it as a tarball: hundreds of
milliseconds per job, and the numbers still to be dug out of the files. Here
each policy's ``stats/time_in_state`` and ``stats/total_trans`` (with its
governor and current frequency) are read with one command just before the
workload runs and one just after, and their differences become metrics: time
and share of the job at each frequency, transitions and average frequency,
per policy (the CPUs of one cluster share a policy, so per-CPU numbers are
its policy's). The whole table is a CSV artifact.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from ..model.parameters import Parameter, boolean, list_of_strings, string
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .cpustats import (
    POLICY_DIRECTORIES,
    FrequencyResidency,
    Policy,
    cpu_list,
    frequency_residency,
    parse_policies,
    policy_paths,
    write_csv,
)
from .reading import read_files

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

TABLE = "cpufreq.csv"
FILES_TABLE = "cpufreq-files.csv"
_UNUSED = ("Accepted so that WA3 agendas run unchanged; it has no effect: pytest-wa copies "
           "nothing on the target.")


class CpuFreq(Instrument):
    name = "cpufreq"
    description = """
        Time at each CPU frequency, transitions and average frequency, per policy.

        Time at each CPU frequency, frequency transitions and average frequency during the
        workload, per cpufreq policy (cluster), from the kernel's cpufreq statistics.

        One command before the workload and one after it read every policy's
        stats/time_in_state, stats/total_trans, governor and current frequency. Needs a
        kernel with cpufreq statistics (CONFIG_CPU_FREQ_STAT).
    """
    priority = Priority.FAST
    parameters = (
        Parameter("paths", list_of_strings, default=[],
                  description="More sysfs files (shell globs allowed, e.g. "
                              "/sys/class/devfreq/*/cur_freq) to read with the same commands; "
                              f"their values before and after the workload go to {FILES_TABLE}."),
        Parameter("use_tmpfs", boolean, default=None, description=_UNUSED),
        Parameter("tmpfs_mount_point", string, default=None, description=_UNUSED),
        Parameter("tmpfs_size", string, default="32m", description=_UNUSED),
        OPTIONAL,
    )

    paths: list[str]
    #: Where the policies are on this device (check() decides).
    directories = POLICY_DIRECTORIES[0]

    def check(self, target: Target) -> None:
        """Refuse a device without cpufreq policies, or without their statistics."""
        files = read_files(target, [f"{directory}/{name}" for directory in POLICY_DIRECTORIES
                                    for name in ("related_cpus", "stats/time_in_state")])
        layouts = [[path for path in files if _layout(path) == layout]
                   for layout in POLICY_DIRECTORIES]
        found = next((paths for paths in layouts
                      if any(path.endswith("/related_cpus") for path in paths)), None)
        if found is None:
            raise InstrumentUnavailable(
                f"the device has no cpufreq: neither {POLICY_DIRECTORIES[0]}/ nor "
                f"{POLICY_DIRECTORIES[1]}/ exists (a kernel without CONFIG_CPU_FREQ, or a "
                "virtual machine)")
        self.directories = _layout(found[0])
        tables = {path: files[path] for path in found if path.endswith("/stats/time_in_state")}
        if not tables:
            raise InstrumentUnavailable(
                f"the device's cpufreq keeps no statistics: {self.directories}/stats/"
                "time_in_state does not exist (the kernel needs CONFIG_CPU_FREQ_STAT)")
        if all(text is None for text in tables.values()):
            raise InstrumentUnavailable(f"cannot read {', '.join(sorted(tables))}")
        if not any(tables.values()):
            raise InstrumentUnavailable(
                f"{', '.join(sorted(tables))}: empty (kernels older than about 5.10 keep no "
                "statistics while the governor switches frequency fast, as schedutil does)")

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, Any, Any]:
        before = self._read(job.target)
        try:
            return (yield)
        finally:
            after = self._read(job.target)
            self._record(job, before, after)

    def _read(self, target: Target) -> dict[str, str | None]:
        return read_files(target, [*policy_paths(self.directories), *self.paths])

    def _record(self, job: JobContext, before: dict[str, str | None],
                after: dict[str, str | None]) -> None:
        found = frequency_residency(parse_policies(before), parse_policies(after))
        for residency in found:
            _add_metrics(job, residency)
        assert job.output_directory is not None
        write_csv(job.output_directory / TABLE, (
            "policy", "cluster", "cpus", "governor", "frequency_khz", "time_s",
            "residency_percent"), _table_rows(found))
        job.add_artifact("cpufreq", TABLE, "data", "Time at each frequency of each cpufreq "
                         "policy during the workload (kHz, seconds, percent of the policy's "
                         "counted time).")
        if self.paths:
            _record_files(job, self.paths, before, after)


def _layout(path: str) -> str:
    """Which of POLICY_DIRECTORIES a policy file is under."""
    return POLICY_DIRECTORIES[0] if "/cpufreq/policy" in path else POLICY_DIRECTORIES[1]


def _classifiers(residency: FrequencyResidency) -> dict[str, Any]:
    policy: Policy = residency.policy
    return {"policy": policy.name, "cluster": residency.cluster, "cpus": cpu_list(policy.cpus),
            "governor": policy.governor}


def _add_metrics(job: JobContext, residency: FrequencyResidency) -> None:
    """The policy's metrics (see docs/instruments.md#cpufreq for the list)."""
    name, classifiers = f"cpufreq_{residency.policy.name}", _classifiers(residency)
    if residency.transitions is not None:
        job.add_metric(f"{name}_transitions", residency.transitions, "count",
                       classifiers=classifiers)
    if residency.average_frequency is not None:
        job.add_metric(f"{name}_average_frequency", round(residency.average_frequency, 1),
                       "kHz", classifiers=classifiers)
    for frequency, seconds in residency.seconds.items():
        if seconds <= 0:
            continue
        at = {**classifiers, "frequency": frequency}
        job.add_metric(f"{name}_{frequency}khz_time", round(seconds, 2), "seconds",
                       classifiers=at)
        job.add_metric(f"{name}_{frequency}khz_residency", round(residency.percent(frequency), 2),
                       "percent", classifiers=at)
    for when, value in (("before", residency.policy.frequency),
                        ("after", residency.frequency_after)):
        if value is not None:
            job.add_metric(f"{name}_frequency_{when}", value, "kHz", classifiers=classifiers)
    if residency.governor_after != residency.policy.governor:
        job.add_event(f"cpufreq: the governor of {residency.policy.name} changed during the "
                      f"job ({residency.policy.governor} -> {residency.governor_after})")


def _table_rows(found: list[FrequencyResidency]) -> list[list[object]]:
    return [[residency.policy.name, residency.cluster, cpu_list(residency.policy.cpus),
             residency.policy.governor or "", frequency, f"{seconds:.2f}",
             f"{residency.percent(frequency):.2f}"]
            for residency in found for frequency, seconds in residency.seconds.items()]


def _record_files(job: JobContext, paths: list[str], before: dict[str, str | None],
                  after: dict[str, str | None]) -> None:
    """``paths``: each matching file's value before and after the workload."""
    rows = [[path, before.get(path, ""), after.get(path, "")]
            for path in sorted(set(before) | set(after))
            if any(fnmatch.fnmatchcase(path, pattern) for pattern in paths)]
    assert job.output_directory is not None
    write_csv(job.output_directory / FILES_TABLE, ("path", "before", "after"), rows)
    job.add_artifact("cpufreq_files", FILES_TABLE, "data",
                     f"The files of cpufreq's paths ({', '.join(paths)}) before and after the "
                     "workload.")
