"""The life of one job, top to bottom, and every decision about its fate.

The pytest adapter (``session/items.py``) calls these functions from its
phases and only reports what they decided. Each status is set here and
nowhere else, as WA3's runner decides it:

- a job that must not run (the run stopped, its spec failed to set up) -> SKIPPED;
- initialize, start (reboot, flash) or setup fails -> FAILED (and, once no
  retry is left, the later iterations of its spec are SKIPPED);
- execute fails -> FAILED, results are still extracted, teardown still runs;
- extraction fails after a good run -> PARTIAL;
- only teardown fails -> NONCRITICAL (passed, with a warning);
- an instrument fails from job start to teardown -> PARTIAL (numbers are missing);
- Ctrl-C -> ABORTED, teardown still runs, the interrupt goes on;
- an attempt whose status is in ``retry_on_status`` is retried at once, up to
  ``max_retries``; with none left a FAILED job stops the run under
  ``bail_on_job_failure``; a device that stopped answering is recovered
  first, and if it cannot be, the run stops (or, in a pool, this device leaves);
- an iteration of an ``iterations: auto`` spec is judged once final; when
  its spec is stable, the iterations still to come are not needed
  (``autoiter.py``: they never start, so they get no status at all).
"""

from __future__ import annotations

import datetime
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..agenda.spec import spec_key
from ..model.errors import TargetNotRespondingError
from ..model.runlog import RUN_LOGGER
from ..model.status import JobStatus
from ..plugins.context import JobContext
from .autoiter import record_iteration

if TYPE_CHECKING:
    from ..agenda.spec import Job, JobSpec
    from ..workloads.base import Workload
    from .run import RunContext

logger = RUN_LOGGER


@dataclass
class Attempt:
    """One attempt at one job iteration (retries are further attempts)."""

    context: JobContext
    number: int = 0  # retries before this attempt
    skip_reason: str | None = None
    setup_failure: str | None = None  # why later iterations are skipped, if no retry is left
    auto_verdict: str | None = None  # iterations: auto: this attempt settled its spec


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# --- 1. start: run it, or skip it ---

def start_attempt(run: RunContext, job: Job, workload_class: type, hook: Any,
                  number: int = 0) -> Attempt:
    """The attempt's context; SKIPPED (with ``skip_reason``) if the job must not run."""
    workload = workload_for(run, job.spec, workload_class)
    attempt = Attempt(JobContext(run, job, workload, hook), number)
    reason = run.progress.stopped or run.progress.spec_failures.get(spec_key(job.spec))
    if reason is not None:  # recorded like any job (finish_attempt ends it)
        attempt.context.status = JobStatus.SKIPPED
        attempt.context.add_event(f"skipped: {reason}")
        attempt.skip_reason = reason
    return attempt


def workload_for(run: RunContext, spec: JobSpec, cls: type) -> Workload:
    """The spec's workload instance, made on first use (shared by its iterations)."""
    key = spec_key(spec)
    workload = run.progress.workloads.get(key)
    if workload is None:
        workload = cls(source_directory=os.path.dirname(spec.location.path),
                       **spec.workload_parameters)
        workload.validate()
        run.progress.workloads[key] = workload
    return workload


# --- 2. setup: initialize once, job_start, setup ---

def set_up(attempt: Attempt) -> bool:
    """Spec start, the workload's initialize (once per run), job start and setup.

    False when any of them failed: the job is FAILED and its error recorded.
    """
    job = attempt.context
    run: RunContext = job.run  # type: ignore[assignment]
    run.progress.current_job = job
    _begin_spec(run, job)
    if _initialize(run, job) and _start(job) and _setup(job):
        return True
    stage, error = job.errors[-1]
    attempt.setup_failure = (f"an earlier iteration of {job.spec.id} failed in "
                             f"{stage}: {error}")
    return False


def _begin_spec(run: RunContext, job: JobContext) -> None:
    """spec_start when this job's spec differs from the previous job's."""
    key = spec_key(job.spec)
    if key != run.progress.previous_spec:
        run.progress.previous_spec = key
        job.hook.pytest_wa_spec_start(job=job)


def _initialize(run: RunContext, job: JobContext) -> bool:
    """WA's initialize: once per run for each workload instance, before its first job."""
    workload = job.workload
    if any(done is workload for done, _ in run.progress.initialized):
        return True
    try:
        workload.initialize(job)
    except Exception as exc:
        job.record_error("initialize", exc)
        job.status = JobStatus.FAILED
        if run.settings.bail_on_init_failure:  # WA3 aborts the run (the default)
            stop_run(run, f"bail_on_init_failure: {job.name} failed to initialize: {exc}")
        return False
    run.progress.initialized.append((workload, job))
    return True


def _start(job: JobContext) -> bool:
    """ITERATION_START (a reboot or a flash may fail here)."""
    job.start_time = _now()
    job.started_at = time.monotonic()
    job.status = JobStatus.STARTED
    logger.info("Running job %s (%s) [%d]", job.output_id, job.label, job.iteration)
    try:
        job.hook.pytest_wa_job_start(job=job)
    except Exception as exc:
        if not job.errors or job.errors[-1][1] is not exc:  # not recorded by its raiser
            job.record_error("start", exc)
        job.status = JobStatus.FAILED
        return False
    return True


def _setup(job: JobContext) -> bool:
    if job.job_timeout is not None:  # the limit covers setup, execute and extract_results
        job.deadline = time.monotonic() + job.job_timeout
    try:
        job.hook.pytest_wa_job_setup(job=job)
    except Exception as exc:
        job.record_error("setup", exc)
        job.status = JobStatus.FAILED
        return False
    job.setup_done = True
    job.status = JobStatus.RUNNING
    return True


# --- 3. execute, extract results, teardown ---

def execute(attempt: Attempt) -> None:
    """Execute, extract results and tear down; leaves the final status on the job."""
    job = attempt.context
    try:
        _stage(job, job.hook.pytest_wa_job_execute, "execute", JobStatus.FAILED)
        _stage(job, job.hook.pytest_wa_job_extract_results, "extract_results",
               JobStatus.PARTIAL)
    except KeyboardInterrupt:
        job.status = JobStatus.ABORTED
        raise
    finally:
        _teardown(job)
    if job.status == JobStatus.RUNNING:
        job.status = JobStatus.OK
    _missing_numbers(job)


def _missing_numbers(job: JobContext) -> None:
    """An instrument that failed from job start to teardown left numbers out: PARTIAL."""
    if job.instrument_failures and job.status in (JobStatus.OK, JobStatus.NONCRITICAL):
        job.status = JobStatus.PARTIAL
        job.add_event(f"PARTIAL: instrument {', '.join(job.instrument_failures)} failed")


def _stage(job: JobContext, call: Any, stage: str, failure: JobStatus) -> None:
    """A failed stage lowers the outcome; a milder problem never hides an earlier one."""
    try:
        call(job=job)
    except Exception as exc:
        job.record_error(stage, exc)
        if job.status in (JobStatus.RUNNING, JobStatus.OK) or failure > job.status:
            job.status = failure


def _teardown(job: JobContext) -> None:
    """Teardown if setup completed; a teardown failure alone is NONCRITICAL."""
    job.deadline = None  # teardown cleans up even after a job_timeout
    if not job.setup_done:
        return
    job.setup_done = False
    try:
        job.hook.pytest_wa_job_teardown(job=job)
    except Exception as exc:
        job.record_error("teardown", exc)
        if job.status in (JobStatus.RUNNING, JobStatus.OK):
            job.status = JobStatus.NONCRITICAL


# --- 4. end: the final hooks, then retry, bail or skip ---

def finish_attempt(attempt: Attempt, following: JobSpec | None) -> bool:
    """ITERATION_END and the output hooks, then the attempt's fate: True to retry now.

    ``following`` is the spec of the next job in the session (None if none),
    so that spec_end fires only when the spec's consecutive jobs are done.
    """
    job = attempt.context
    run: RunContext = job.run  # type: ignore[assignment]
    try:
        _end(job)
    finally:
        run.progress.current_job = None
        retry = _decide(run, attempt)
        settled = attempt.auto_verdict is not None  # its iterations still to come are not run
        _end_spec_unless(run, job, job.spec if retry else None if settled else following)
    return retry


def _end(job: JobContext) -> None:
    job.end_time = _now()
    job.duration = time.monotonic() - job.started_at if job.started_at else 0.0
    job.hook.pytest_wa_job_end(job=job)
    logger.info("Job %s (%s) [%d] completed with status %s in %.3f s", job.output_id,
                job.label, job.iteration, job.status.name, job.duration)
    job.hook.pytest_wa_job_output(job=job)


def _decide(run: RunContext, attempt: Attempt) -> bool:
    """Recover a lost device, then retry now, or settle the job's fate."""
    job = attempt.context
    lost = next((error for _, error in job.errors
                 if isinstance(error, TargetNotRespondingError)), None)
    if lost is not None and run.progress.stopped is None:
        _recover(run, lost)
    if _should_retry(run, attempt):
        logger.warning("Job %s (%s) [%d] ended %s; retrying (retry %d of %d)", job.output_id,
                       job.label, job.iteration, job.status.name, attempt.number + 1,
                       run.settings.max_retries)
        return True
    verdict = record_iteration(run, job)
    attempt.auto_verdict = verdict.message if verdict is not None else None
    if attempt.setup_failure is not None:
        run.progress.spec_failures.setdefault(spec_key(job.spec), attempt.setup_failure)
    if job.status == JobStatus.FAILED and run.settings.bail_on_job_failure:
        stop_run(run, f"bail_on_job_failure: {job.name} failed")
    return False


def _should_retry(run: RunContext, attempt: Attempt) -> bool:
    status = attempt.context.status
    return (run.progress.stopped is None and not run.interrupted and status != JobStatus.ABORTED
            and status.name in run.settings.retry_on_status
            and attempt.number < run.settings.max_retries)


def _recover(run: RunContext, error: BaseException) -> None:
    """Reconnect or hard-reset the device; if it cannot be had back, the jobs to come
    are skipped, or (in a pool) this device leaves and the others take them."""
    outcome = run.recover(error)
    if outcome is None:
        return
    if run.role.shares_jobs:
        run.device_lost = outcome  # the worker leaves after this job's reports
    else:
        stop_run(run, outcome)


def _end_spec_unless(run: RunContext, job: JobContext, next_spec: JobSpec | None) -> None:
    """spec_end unless the next job continues the same spec."""
    if next_spec is None or spec_key(next_spec) != spec_key(job.spec):
        run.progress.previous_spec = None
        job.hook.pytest_wa_spec_end(job=job)


# --- the run ---

def stop_run(run: RunContext, reason: str) -> None:
    """Skip every job still to come, with ``reason`` (bail options, a lost device)."""
    if run.progress.stopped is None:
        run.progress.stopped = reason
        logger.error("Skipping the remaining jobs: %s", reason)
        run.notes.append(f"remaining jobs skipped: {reason}")
        if run.output is not None:
            run.add_event(f"remaining jobs skipped: {reason}")
