"""Agenda files as pytest collectors, job iterations as pytest items.

An ``AgendaFile`` loads and validates its agenda at collection (so every input
problem is reported before anything runs, and ``--co`` never touches a
target) and yields one ``JobItem`` per job iteration in execution order.
A ``JobItem`` maps WA's job stages onto pytest's phases: WA setup in pytest's
setup (a failure is a pytest error), execute/extract/teardown in the call,
the final hooks in pytest's teardown.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from .agenda import Agenda, Job, load_agenda, order_jobs
from .errors import (
    AgendaError,
    InputError,
    Location,
    Problem,
    TargetError,
    TargetNotRespondingError,
    WAError,
)
from .job import JobContext, end_job, run_job, setup_job
from .output.runlog import RUN_LOGGER
from .plugin import looks_like_agenda
from .registry import build_catalog
from .runstate import JobRecord, get_run, get_tally, wa_seed
from .status import JobStatus

WA_PROPERTY_PREFIXES = ("wa_", "metric:", "classifier:")


class PytestWAWarning(UserWarning):
    """A job passed, but something about it deserves attention (e.g. NONCRITICAL)."""


def format_problems(error: InputError) -> str:
    """One paragraph per problem, with no traceback."""
    count = len(error.problems)
    head = f"{count} problem{'s' if count > 1 else ''} in {error.kind}:" if count > 1 else ""
    return "\n".join(filter(None, [head, *(str(p) for p in error.problems)]))


class AgendaFile(pytest.File):
    """A YAML agenda; collecting it validates it completely."""

    agenda: Agenda | None = None

    def collect(self) -> Iterator[JobItem]:
        if not looks_like_agenda(str(self.path)):
            raise AgendaError(Problem(Location(str(self.path), 1), "",
                                      "this YAML file is not an agenda: its top level has no "
                                      "'workloads' or 'sections' key"))
        catalog = build_catalog(self.ihook)
        agenda = load_agenda(str(self.path), catalog)
        self.agenda = agenda
        order = self.config.getoption("wa_order") or agenda.settings.execution_order
        jobs = [(job.name, job) for job in order_jobs(agenda.specs, order,
                                                      wa_seed(self.config))]
        if self.config.getoption("wa_matrix", False):
            from .pool.matrix import matrix_devices, matrix_jobs

            jobs = list(matrix_jobs((job for _, job in jobs), matrix_devices(self.config)))
        for name, job in jobs:
            # The node id is given as a string so that pytest >= 9.2 parses its
            # "[iteration]" as parameters, as it does for parametrized tests
            # (--lf and node-id selection compare structured ids).
            yield JobItem.from_parent(self, name=name, nodeid=f"{self.nodeid}::{name}",
                                      job=job, agenda=agenda,
                                      workload_class=catalog.workload(job.spec.workload_name),
                                      catalog=catalog)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        if isinstance(excinfo.value, InputError):
            return format_problems(excinfo.value)
        return super().repr_failure(excinfo)


def warn_at_job(warning: Warning, context: JobContext) -> None:
    """A warning located at the job's agenda line (not at pytest-wa's source)."""
    location = context.spec.location
    warnings.warn_explicit(warning, type(warning), location.path, location.line)


def _describe(stage: str, error: BaseException) -> str:
    if isinstance(error, WAError | ValueError | OSError | TimeoutError):
        return f"{stage}: {type(error).__name__}: {error}"
    # An unexpected exception is a bug in a workload or instrument: show where.
    frames = traceback.format_exception(type(error), error, error.__traceback__, limit=-6)
    return f"{stage}: " + "".join(frames).rstrip()


def failure_message(context: JobContext) -> str:
    lines = [f"{context.status.name}: {context.name} ({context.spec.workload_name}, "
             f"{context.spec.location})"]
    lines += [_describe(stage, error) for stage, error in context.errors]
    return "\n".join(lines)


class JobItem(pytest.Item):
    """One job iteration: ``<job id>-<label>[<iteration>]``."""

    def __init__(self, *, job: Job, agenda: Agenda, workload_class: type, catalog: Any,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.spec = job.spec
        self.agenda = agenda
        self.workload_class = workload_class
        self.catalog = catalog
        self.context: JobContext | None = None
        self.next_job_item: pytest.Item | None = None
        self.attempt = 0  # retries so far (set by the runtest protocol, retry.py)
        self.will_retry = False  # decided when an attempt ends (teardown)
        self._setup_failure: str | None = None
        self.extra_keyword_matches.update({job.spec.workload_name, job.spec.label,
                                           *map(str, job.spec.classifiers.values())})

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, self.spec.location.line - 1, self.name

    # --- pytest phases ---

    def setup(self) -> None:
        self._setup_failure = None
        run = start_run(self.config)
        reason = run.skip_reason(self.spec)
        workload = run.workload_for(self.spec, self.workload_class)
        context = self.context = JobContext(run, self.job, workload, self.ihook)
        if reason is not None:  # recorded like any job (teardown ends it), then skipped
            context.set_status(JobStatus.SKIPPED)
            context.add_event(f"skipped: {reason}")
            self._set_properties(JobStatus.SKIPPED)
            pytest.skip(reason)
        run.current_job = context
        run.begin_spec(context)
        if not (self._initialize(run, workload, context) and self._setup(context)):
            self._fail_setup(context)  # outside the except blocks: no chained traceback

    @staticmethod
    def _initialize(run: Any, workload: Any, context: JobContext) -> bool:
        try:
            run.initialize_once(workload, context)
        except Exception as exc:
            context.record_error("initialize", exc)
            context.set_status(JobStatus.FAILED)
            if run.settings.bail_on_init_failure:  # WA3 aborts the run (the default)
                run.stop(f"bail_on_init_failure: {context.name} failed to initialize: {exc}")
            return False
        return True

    @staticmethod
    def _setup(context: JobContext) -> bool:
        try:
            setup_job(context)
        except Exception:
            return False
        return True

    def _fail_setup(self, context: JobContext) -> None:
        stage, error = context.errors[-1]
        # Later iterations of the spec are skipped once no retry is left (teardown).
        self._setup_failure = (f"an earlier iteration of {self.spec.id} failed in "
                               f"{stage}: {error}")
        self._set_properties(JobStatus.FAILED)
        pytest.fail(failure_message(context), pytrace=False)

    def runtest(self) -> None:
        context = self.context
        assert context is not None
        run_job(context)
        self._set_properties(context.status, context)
        if context.status == JobStatus.NONCRITICAL:
            warn_at_job(PytestWAWarning(failure_message(context)), context)
        if not context.status.passed:
            pytest.fail(failure_message(context), pytrace=False)

    def teardown(self) -> None:
        context = self.context
        if context is None:
            return
        self.context = None
        if context.status == JobStatus.ABORTED:  # no report is made for an interrupted call
            get_tally(self.config).records[self.nodeid] = JobRecord(
                f"{self.spec.id}-{self.spec.label}", context.status.name)
        try:
            end_job(context)
        finally:
            context.run.current_job = None
            self.will_retry = self._after_attempt(context)
            following = (self.spec if self.will_retry else
                         self.next_job_item.spec if isinstance(self.next_job_item, JobItem)
                         else None)
            context.run.end_spec_unless(context, following)

    def _after_attempt(self, context: JobContext) -> bool:
        """Recover a lost device, then decide: retry now, or settle the job's fate.

        WA3's rules: a final status in ``retry_on_status`` is retried at once,
        up to ``max_retries``; with none left, a FAILED job stops the run if
        ``bail_on_job_failure``. A device that stopped responding is recovered
        first; if it cannot be, the run stops and nothing is retried.
        """
        run = context.run
        lost = next((error for _, error in context.errors
                     if isinstance(error, TargetNotRespondingError)), None)
        if lost is not None and run.stopped is None:
            run.recover(lost)
        settings = run.settings
        status = context.status
        if (run.stopped is None and not run.interrupted and status != JobStatus.ABORTED
                and status.name in settings.retry_on_status
                and self.attempt < settings.max_retries):
            RUN_LOGGER.warning("Job %s (%s) [%d] ended %s; retrying (retry %d of %d)",
                               context.output_id, context.label, context.iteration,
                               status.name, self.attempt + 1, settings.max_retries)
            return True
        if self._setup_failure is not None:
            run.fail_spec(self.spec, self._setup_failure)
            self._setup_failure = None
        if status == JobStatus.FAILED and settings.bail_on_job_failure:
            run.stop(f"bail_on_job_failure: {context.name} failed")
        return False

    def locate_skip(self, report: pytest.TestReport) -> None:
        """Point a skip at the agenda line of the job, not at pytest-wa's source."""
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2]
            report.longrepr = (str(self.path), self.spec.location.line, reason)

    def _set_properties(self, status: JobStatus, context: JobContext | None = None) -> None:
        """Status, identity, classifiers and metrics as user_properties (junit-xml)."""
        kept = [(k, v) for k, v in self.user_properties
                if not str(k).startswith(WA_PROPERTY_PREFIXES)]
        spec = self.spec
        kept += [("wa_status", status.name), ("wa_job_id", spec.id), ("wa_label", spec.label),
                 ("wa_iteration", self.job.iteration), ("wa_workload", spec.workload_name),
                 ("wa_retries", self.attempt),
                 ("wa_output_id", get_run(self.config).output_id(spec))]
        kept += [(f"classifier:{k}", v) for k, v in spec.classifiers.items()]
        for metric in context.metrics if context else ():
            units = f" {metric.units}" if metric.units else ""
            kept.append((f"metric:{metric.name}", f"{metric.value}{units}"))
        self.user_properties[:] = kept


def random_order_notice(config: pytest.Config, items: list[pytest.Item]) -> str | None:
    """The seed line shown after collection when any agenda runs in random order."""
    forced = config.getoption("wa_order")
    if not any(isinstance(item, JobItem) and
               (forced or item.agenda.settings.execution_order) == "random" for item in items):
        return None
    seed = wa_seed(config)
    return f"pytest-wa: random execution order, seed {seed} (--wa-seed {seed} repeats it)"


def plan_and_resume(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Plan the run over every job collected; with --wa-resume, deselect finished jobs."""
    from .output.plan import RunPlan

    jobs = [item for item in items if isinstance(item, JobItem)]
    if not jobs:
        return
    run = get_run(config)
    run.plan = RunPlan((item.job, item.agenda) for item in jobs)
    done = finished_jobs(config)
    if done is None:
        return
    skipped = [item for item in jobs if (run.output_id(item.spec), item.job.iteration) in done]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        gone = set(skipped)
        items[:] = [item for item in items if item not in gone]
        run.notes.append(f"--wa-resume: {len(skipped)} job(s) already finished OK, not rerun")


def finished_jobs(config: pytest.Config) -> set[tuple[str, int]] | None:
    """(job id, iteration) of the jobs that passed in the run given to --wa-resume."""
    from .output.reader import RunOutputError
    from .output.session import previous_run, resume_path

    try:
        previous = previous_run(config)
    except RunOutputError as exc:
        raise pytest.UsageError(f"--wa-resume {resume_path(config)}: {exc}") from None
    if previous is None:
        return None
    return {(job.id, job.iteration) for job in previous.jobs if job.status.passed}


def start_run(config: pytest.Config) -> Any:
    """The started run; a device that cannot be had ends the session with one clear line."""
    run = get_run(config)
    try:
        run.start()
    except (InputError, TargetError) as exc:
        pytest.exit(f"pytest-wa: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    return run
