"""The validated model of an agenda: run settings, job specs and jobs.

These are frozen dataclasses built once at collection time; everything after
collection reads them and never re-validates. Field names follow WA3's JobSpec
and RunConfiguration so that ``__meta/jobs.json`` can carry them unchanged.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from ..model.errors import Location

EXECUTION_ORDERS = ("by_iteration", "by_section", "by_workload", "random")
EXECUTION_ORDER_ALIASES = {"by_spec": "by_workload", "classic": "by_workload"}
REBOOT_POLICIES = ("never", "as_needed", "initial", "each_job", "each_iteration",
                   "run_completion")
REBOOT_POLICY_ALIASES = {"each_spec": "each_job"}
RETRYABLE_STATUSES = ("RUNNING", "OK", "PARTIAL", "FAILED", "ABORTED", "SKIPPED")
#: ``iterations: auto``: add iterations until the metrics are steady (AutoIterations).
AUTO = "auto"


@dataclass(frozen=True)
class RunSettings:
    """Run-wide settings from an agenda's ``config``/``global`` (WA3 RunConfiguration)."""

    run_name: str | None = None
    project: str | None = None
    project_stage: Any = None
    execution_order: str = "by_iteration"
    reboot_policy: str = "as_needed"
    retry_on_status: tuple[str, ...] = ("FAILED", "PARTIAL")
    max_retries: int = 2
    bail_on_init_failure: bool = True
    bail_on_job_failure: bool = False
    allow_phone_home: bool = True
    job_timeout: float | None = None
    device: str | None = None
    device_config: dict[str, Any] = field(default_factory=dict)
    #: The results database the run is also stored in (``--wa-db`` wins).
    db: str | None = None


@dataclass(frozen=True)
class AutoIterations:
    """``iterations: auto``: run at least ``min_iterations`` and at most
    ``max_iterations``, stopping once every metric's coefficient of variation is
    within ``target_cv`` (a fraction: 0.03 is 3 %). The defaults are docs/agendas.md's."""

    target_cv: float = 0.03
    min_iterations: int = 3
    max_iterations: int = 10
    #: The metrics that decide (names or shell-style patterns); empty: every metric.
    target_metrics: tuple[str, ...] = ()

    def describe(self) -> str:
        """The settings as one line (junit-xml, the run's metadata)."""
        metrics = f" target_metrics={','.join(self.target_metrics)}" \
            if self.target_metrics else ""
        return (f"target_cv={100 * self.target_cv:g}% min_iterations={self.min_iterations} "
                f"max_iterations={self.max_iterations}{metrics}")

    def decides(self, metric: str) -> bool:
        """Whether the metric named ``metric`` is one the verdict waits for."""
        return not self.target_metrics or any(
            fnmatch.fnmatchcase(metric, pattern) for pattern in self.target_metrics)


@dataclass(frozen=True)
class JobSpec:
    """One workload entry as it applies in one section: what to run and how often.

    ``id`` is WA3's job id (``<section ids>-<workload id>``); ``augmentations``
    holds the instruments enabled for this spec after config, section and
    workload toggles were merged. With ``iterations: auto``, ``auto`` holds its
    settings and ``iterations`` is ``max_iterations`` (the items collected).
    """

    id: str
    workload_id: str
    section_ids: tuple[str, ...]
    workload_name: str
    label: str
    iterations: int
    workload_parameters: dict[str, Any]
    runtime_parameters: dict[str, Any]
    boot_parameters: dict[str, Any]
    classifiers: dict[str, Any]
    flash: dict[str, Any]
    augmentations: tuple[str, ...]
    location: Location
    agenda: str
    #: Per metric name, the smallest change in % that a baseline comparison counts
    #: (pytest-wa's own setting; not in WA3's JobSpec, so not in ``to_pod``).
    thresholds: dict[str, float] = field(default_factory=dict)
    auto: AutoIterations | None = None

    @property
    def section_id(self) -> str | None:
        """The innermost section (None for a job outside every section)."""
        return self.section_ids[-1] if self.section_ids else None

    def to_pod(self) -> dict[str, Any]:
        """A JSON-ready description, in WA3's JobSpec field names."""
        return {
            "id": self.id,
            "workload_name": self.workload_name,
            "label": self.label,
            "iterations": self.iterations,
            "workload_parameters": self.workload_parameters,
            "runtime_parameters": self.runtime_parameters,
            "boot_parameters": self.boot_parameters,
            "classifiers": self.classifiers,
            "flash": self.flash,
            "augmentations": list(self.augmentations),
        }


@dataclass(frozen=True)
class Job:
    """One iteration of one spec: the unit that becomes a pytest item."""

    spec: JobSpec
    iteration: int

    @property
    def name(self) -> str:
        """The pytest item name: ``<job id>-<label>[<iteration>]``."""
        return f"{self.spec.id}-{self.spec.label}[{self.iteration}]"

    @property
    def output_name(self) -> str:
        """WA3's job output directory name: ``<job id>-<label>-<iteration>``."""
        return f"{self.spec.id}-{self.spec.label}-{self.iteration}"


@dataclass(frozen=True)
class Agenda:
    """A loaded, validated agenda file."""

    path: str
    settings: RunSettings
    specs: tuple[JobSpec, ...]
    plugin_configs: dict[str, dict[str, Any]]
    files: tuple[str, ...]
    explicit_settings: frozenset[str] = frozenset()
    #: Where each run setting was written (the last of the config files and agenda).
    setting_locations: dict[str, Location] = field(default_factory=dict)
    #: Config files read before the agenda (WA3's user config.yaml).
    config_files: tuple[str, ...] = ()
    #: What the user should know about the files (WA3 settings pytest-wa does not use).
    notes: tuple[str, ...] = ()

    @property
    def job_count(self) -> int:
        return sum(spec.iterations for spec in self.specs)


SpecKey = tuple[str, str]


def spec_key(spec: JobSpec) -> SpecKey:
    """Specs are told apart by agenda and job id (ids repeat across agendas)."""
    return (spec.agenda, spec.id)
