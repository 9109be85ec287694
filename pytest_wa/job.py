"""One job iteration at run time, and WA's lifecycle around it.

``JobContext`` is what workloads (as ``context``) and instruments (as ``job``)
receive: the target, the spec, and methods to record metrics, artifacts and
events. ``setup_job``/``run_job``/``end_job`` drive the stage hooks and decide
the WA status exactly once per stage, as WA3's runner does:

- setup fails -> FAILED (and later iterations of the spec are SKIPPED);
- execute fails -> FAILED, results are still extracted, teardown still runs;
- extraction fails after a good run -> PARTIAL;
- only teardown fails -> NONCRITICAL (passed, with a warning);
- Ctrl-C -> ABORTED, teardown still runs, the interrupt goes on.
"""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .output.runlog import RUN_LOGGER
from .results import Artifact, Event, Metric, checked_number
from .status import JobStatus

if TYPE_CHECKING:
    from .agenda.spec import Job
    from .run import RunContext
    from .targets.base import CommandResult, Target
    from .workloads.base import Workload


logger = RUN_LOGGER


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class JobContext:
    """A running job: its spec, target, workload, status and everything it recorded."""

    def __init__(self, run: RunContext, job: Job, workload: Workload, hook: Any) -> None:
        self.run = run
        #: The hook relay for this job: pytest-wa's hooks as seen from the agenda's
        #: directory (conftest.py files above it apply, others do not).
        self.hook = hook
        self.job = job
        self.spec = job.spec
        self.iteration = job.iteration
        self.workload = workload
        self.status = JobStatus.PENDING
        self.metrics: list[Metric] = []
        self.artifacts: list[Artifact] = []
        self.events: list[Event] = []
        self.outputs: list[CommandResult] = []
        self.errors: list[tuple[str, BaseException]] = []
        self.classifiers: dict[str, Any] = dict(job.spec.classifiers)
        self.start_time: datetime.datetime | None = None
        self.end_time: datetime.datetime | None = None
        self.duration = 0.0
        self.setup_done = False
        self.retries = 0
        self._started = 0.0
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
        """The run's target; within ``job_timeout`` while the job's stages run (deadline.py)."""
        if self.deadline is not None and self.job_timeout is not None:
            from .deadline import DeadlineTarget

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
        from .output.artifacts import make_artifact

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
        self.errors.append((stage, error))
        logger.error("%s: %s failed: %s: %s", self.name, stage, type(error).__name__, error)
        self.add_event(f"{stage} failed: {type(error).__name__}: {error}")

    # --- status ---

    def set_status(self, status: JobStatus) -> None:
        self.status = status

    def mark(self, status: JobStatus) -> None:
        """Lower the outcome: a later, milder problem never hides an earlier one."""
        if self.status in (JobStatus.RUNNING, JobStatus.OK) or status > self.status:
            self.status = status

    def __repr__(self) -> str:
        return f"<JobContext {self.name} {self.status.name}>"


def setup_job(job: JobContext) -> None:
    """ITERATION_START, then setup. Raises the setup error after marking FAILED."""
    job.start_time = _now()
    job._started = time.monotonic()
    job.set_status(JobStatus.STARTED)
    logger.info("Running job %s (%s) [%d]", job.output_id, job.label, job.iteration)
    hook = job.hook
    try:
        hook.pytest_wa_job_start(job=job)  # a reboot or a flash may fail here
    except Exception as exc:
        if not job.errors or job.errors[-1][1] is not exc:  # not recorded by its raiser
            job.record_error("start", exc)
        job.set_status(JobStatus.FAILED)
        raise
    if job.job_timeout is not None:  # the limit covers setup, execute and extract_results
        job.deadline = time.monotonic() + job.job_timeout
    try:
        hook.pytest_wa_job_setup(job=job)
    except Exception as exc:
        job.record_error("setup", exc)
        job.set_status(JobStatus.FAILED)
        raise
    job.setup_done = True
    job.set_status(JobStatus.RUNNING)


def run_job(job: JobContext) -> None:
    """Execute, extract results and tear down; leaves the final status on ``job``."""
    hook = job.hook
    try:
        _stage(job, hook.pytest_wa_job_execute, "execute", JobStatus.FAILED)
        _stage(job, hook.pytest_wa_job_extract_results, "extract_results", JobStatus.PARTIAL)
    except KeyboardInterrupt:
        job.set_status(JobStatus.ABORTED)
        raise
    finally:
        teardown_job(job)
    if job.status == JobStatus.RUNNING:
        job.set_status(JobStatus.OK)


def _stage(job: JobContext, call: Any, stage: str, failure: JobStatus) -> None:
    try:
        call(job=job)
    except Exception as exc:
        job.record_error(stage, exc)
        job.mark(failure)


def teardown_job(job: JobContext) -> None:
    """Run teardown if setup completed; a teardown failure alone is NONCRITICAL."""
    job.deadline = None  # teardown cleans up even after a job_timeout
    if not job.setup_done:
        return
    job.setup_done = False
    try:
        job.hook.pytest_wa_job_teardown(job=job)
    except Exception as exc:
        job.record_error("teardown", exc)
        if job.status in (JobStatus.RUNNING, JobStatus.OK):
            job.set_status(JobStatus.NONCRITICAL)


def end_job(job: JobContext) -> None:
    """ITERATION_END and the final-status hook; runs whatever happened before."""
    job.end_time = _now()
    job.duration = time.monotonic() - job._started if job._started else 0.0
    logger.info("Job %s (%s) [%d] completed with status %s in %.3f s", job.output_id,
                job.label, job.iteration, job.status.name, job.duration)
    hook = job.hook
    hook.pytest_wa_job_end(job=job)
    hook.pytest_wa_job_output(job=job)
