"""What the job lifecycle remembers across the jobs of a run, and how a run's end
settles the jobs it never finished.

Kept apart from ``lifecycle.py`` so that the run (``run.py``) can hold and
close it without importing the lifecycle that drives it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..agenda.spec import SpecKey
from ..model.status import JobStatus
from ..plugins.context import JobContext

if TYPE_CHECKING:
    from ..workloads.base import Workload
    from .autoiter import SpecRecord


@dataclass
class Progress:
    """What the lifecycle remembers across jobs of one run."""

    stopped: str | None = None  # why every job still to come is skipped
    spec_failures: dict[SpecKey, str] = field(default_factory=dict)
    previous_spec: SpecKey | None = None
    current_job: JobContext | None = None
    workloads: dict[SpecKey, Workload] = field(default_factory=dict)
    initialized: list[tuple[Workload, JobContext]] = field(default_factory=list)
    #: ``iterations: auto`` specs by output id: what their iterations gave so far.
    auto: dict[str, SpecRecord] = field(default_factory=dict)


def unfinished_status(status: JobStatus) -> JobStatus:
    """A job the run closed on before it ended: ABORTED if it was running (Ctrl-C, a
    crash), else SKIPPED (it never started)."""
    return JobStatus.ABORTED if status == JobStatus.RUNNING else JobStatus.SKIPPED


#: A job whose process died under it (a pool worker crashed) failed.
CRASHED = JobStatus.FAILED


def finalize_workloads(progress: Progress) -> None:
    """WA's finalize, in reverse order of initialize; a failure is a warning."""
    for workload, job in reversed(progress.initialized):
        try:
            workload.finalize(job)
        except Exception as exc:
            warnings.warn(f"workload {workload.name!r} failed to finalize: {exc}",
                          stacklevel=1)
