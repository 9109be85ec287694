"""What plugins are handed: the job (``JobContext``) and a view of the run (``RunView``).

Workloads receive a ``JobContext`` as ``context``, instruments as ``job``: the
target, the spec, and methods to record metrics, artifacts and events. It
records; it decides nothing: every status decision is made by the job
lifecycle (``engine/lifecycle.py``), which owns the ``JobContext`` it makes.

``RunView`` is the part of the run a plugin may use (the engine's
``RunContext`` implements it), declared here so that plugins below the
engine can name its type without importing upward.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..model.results import Artifact, Event, Metric, checked_number
from ..model.runlog import RUN_LOGGER
from ..model.status import JobStatus

if TYPE_CHECKING:
    import pytest

    from ..agenda.spec import Job, JobSpec, RunSettings
    from ..output.plan import RunPlan
    from ..output.writer import RunWriter
    from ..targets.base import CommandResult
    from ..targets.protocols import Target


class RunView(Protocol):
    """The run as plugins see it."""

    config: pytest.Config
    device: str
    notes: list[str]
    plan: RunPlan | None
    output: RunWriter | None

    @property
    def target(self) -> Target: ...
    @property
    def settings(self) -> RunSettings: ...
    def output_id(self, spec: JobSpec) -> str: ...
    def add_event(self, message: str) -> None: ...
    def add_metric(self, name: str, value: Any, units: str | None = None, *,
                   lower_is_better: bool = False,
                   classifiers: dict[str, Any] | None = None) -> Metric: ...
    def add_artifact(self, name: str, path: str, kind: str = "data",
                     description: str | None = None,
                     classifiers: dict[str, Any] | None = None) -> Artifact: ...


class JobContext:
    """A running job: its spec, target, workload, status and everything it recorded."""

    def __init__(self, run: RunView, job: Job, workload: Any, hook: Any) -> None:
        self.run = run
        #: The hook relay for this job: pytest-wa's hooks as seen from the agenda's
        #: directory (conftest.py files above it apply, others do not).
        self.hook = hook
        self.job = job
        self.spec = job.spec
        self.iteration = job.iteration
        #: The spec's workload (a ``Workload``; the engine makes it, plugins call it).
        self.workload = workload
        self.status = JobStatus.PENDING
        self.metrics: list[Metric] = []
        self.artifacts: list[Artifact] = []
        self.events: list[Event] = []
        self.outputs: list[CommandResult] = []
        self.errors: list[tuple[str, BaseException]] = []
        #: Instruments that failed while recording this job (their numbers are missing).
        self.instrument_failures: list[str] = []
        self.classifiers: dict[str, Any] = dict(job.spec.classifiers)
        self.start_time: datetime.datetime | None = None
        self.end_time: datetime.datetime | None = None
        self.duration = 0.0
        self.setup_done = False
        self.retries = 0
        self.started_at = 0.0  # time.monotonic() at job start
        self.job_timeout: float | None = run.settings.job_timeout
        self.deadline: float | None = None  # set while setup, execute and extract run
        #: The id this job has in the output (see output/plan.py), and its directory
        #: there, which exists from job start on: workloads may write files into it.
        self.output_id = run.output_id(job.spec)
        self.output_directory: Path | None = None

    # --- identity ---

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def target(self) -> Target:
        """The run's target; within ``job_timeout`` while the job's stages run."""
        if self.deadline is not None and self.job_timeout is not None:
            from ..targets.deadline import DeadlineTarget

            return DeadlineTarget(self.run.target, self.deadline,
                                  self.job_timeout)
        return self.run.target

    # --- recording ---

    def add_metric(self, name: str, value: Any, units: str | None = None, *,
                   lower_is_better: bool = False,
                   classifiers: dict[str, Any] | None = None) -> Metric:
        """Record a metric; the job's classifiers apply to it, its own ones win."""
        metric = Metric(name, checked_number(name, value), units, lower_is_better,
                        {**self.classifiers, **(classifiers or {})})
        self.metrics.append(metric)
        return metric

    def add_artifact(self, name: str, path: str | os.PathLike[str], kind: str = "data",
                     description: str | None = None,
                     classifiers: dict[str, Any] | None = None) -> Artifact:
        """Record a file the job produced; ``path`` is relative to ``output_directory``
        (or absolute inside it). Anything outside is refused (ArtifactError)."""
        from ..output.artifacts import make_artifact

        if self.output_directory is None:
            raise RuntimeError(f"{self.name} has no output directory (the job has not started)")
        artifact = make_artifact(self.output_directory, name, path, kind, description,
                                 classifiers)
        self.artifacts = [a for a in self.artifacts if a.name != name] + [artifact]
        return artifact

    def add_event(self, message: str) -> Event:
        event = Event(message)
        self.events.append(event)
        return event

    def add_output(self, result: CommandResult) -> None:
        """Keep a command's output with the job: shown when it fails, and in output.txt."""
        self.outputs.append(result)
        if self.output_directory is None:
            return
        path = self.output_directory / "output.txt"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"$ {result.command}\n{result.stdout}")
            if result.stderr:
                handle.write(f"--- stderr ---\n{result.stderr}")
            handle.write(f"--- exit code {result.exit_code}, {result.duration:.3f} s ---\n")
        if not any(a.name == "output" for a in self.artifacts):
            self.add_artifact("output", "output.txt", "log", "Commands run and their output.")

    def record_error(self, stage: str, error: BaseException) -> None:
        """Keep a stage's error with the job (its status is the lifecycle's to decide)."""
        self.errors.append((stage, error))
        RUN_LOGGER.error("%s: %s failed: %s: %s", self.name, stage, type(error).__name__, error)
        self.add_event(f"{stage} failed: {type(error).__name__}: {error}")

    def record_instrument_failure(self, instrument: str, message: str) -> None:
        """Keep an instrument's failure with the job (the lifecycle makes it PARTIAL)."""
        if instrument not in self.instrument_failures:
            self.instrument_failures.append(instrument)
        RUN_LOGGER.error("%s: %s", self.name, message)
        self.add_event(message)

    def __repr__(self) -> str:
        return f"<JobContext {self.name} {self.status.name}>"
