"""Agenda files as pytest collectors, job iterations as pytest items.

An ``AgendaFile`` loads and validates its agenda at collection (so every input
problem is reported before anything runs, and ``--co`` never touches a
target) and yields one ``JobItem`` per job iteration in execution order.
A ``JobItem`` maps the job lifecycle (``engine/lifecycle.py``) onto pytest's
phases and reports what it decided: WA setup in pytest's setup (a failure is
a pytest error), execute/extract/teardown in the call, the final hooks in
pytest's teardown. It decides nothing itself.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

from ..agenda import Agenda, Job, load_agenda, order_jobs
from ..devices.wa3 import check_agenda_device
from ..engine.autoiter import unneeded
from ..engine.lifecycle import Attempt, execute, finish_attempt, set_up, start_attempt
from ..engine.role import run_role
from ..model.errors import AgendaError, InputError, WAError
from ..model.status import JobStatus
from ..model.warnings import PytestWAWarning, warn_at
from ..plugins.context import JobContext
from .catalog import session_catalog
from .detect import agenda_verdict
from .state import JobRecord, get_run, get_tally, start_run, wa_seed

WA_PROPERTY_PREFIXES = ("wa_", "metric:", "classifier:")


def format_problems(error: InputError) -> str:
    """One paragraph per problem, with no traceback."""
    count = len(error.problems)
    head = f"{count} problem{'s' if count > 1 else ''} in {error.kind}:" if count > 1 else ""
    return "\n".join(filter(None, [head, *(str(p) for p in error.problems)]))


class AgendaFile(pytest.File):
    """A YAML agenda; collecting it validates it completely.

    It may also be a YAML file named on the command line, or one that only
    looks like an agenda gone wrong (``detect.py``): the scan's verdict says
    why it is no agenda, or where it is mis-nested; a file that is not valid
    YAML goes on to the loader, which shows the YAML error and its line.
    """

    agenda: Agenda | None = None

    def collect(self) -> Iterator[JobItem]:
        verdict = agenda_verdict(str(self.path), named=True)
        if verdict.problem is not None:
            raise AgendaError(verdict.problem)
        catalog = session_catalog(self.ihook)
        agenda = self.agenda = load_agenda(str(self.path), catalog)
        if not self.config.getoption("wa_device"):  # else --wa-device wins, whatever it says
            check_agenda_device(agenda)
        for name, job in self._named_jobs(agenda):
            # The node id is given as a string so that pytest >= 9.2 parses its
            # "[iteration]" as parameters, as it does for parametrized tests
            # (--lf and node-id selection compare structured ids).
            yield JobItem.from_parent(self, name=name, nodeid=f"{self.nodeid}::{name}",
                                      job=job, agenda=agenda,
                                      workload_class=catalog.workload(job.spec.workload_name),
                                      catalog=catalog)

    def _named_jobs(self, agenda: Agenda) -> list[tuple[str, Job]]:
        """The agenda's jobs in execution order (and, under --wa-matrix, per device)."""
        order = self.config.getoption("wa_order") or agenda.settings.execution_order
        jobs = order_jobs(agenda.specs, order, wa_seed(self.config))
        if self.config.getoption("wa_matrix", False):
            from ..agenda.matrix import matrix_jobs

            return list(matrix_jobs(jobs, list(run_role(self.config).pool)))
        return [(job.name, job) for job in jobs]

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> Any:
        if isinstance(excinfo.value, InputError):
            return format_problems(excinfo.value)
        return super().repr_failure(excinfo)


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
        self.current: Attempt | None = None
        self.next_job_item: pytest.Item | None = None
        self.attempt = 0  # retries so far (set by the runtest protocol, protocol.py)
        self.will_retry = False  # decided when an attempt ends (teardown)
        self.extra_keyword_matches.update({job.spec.workload_name, job.spec.label,
                                           *map(str, job.spec.classifiers.values())})

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, self.spec.location.line - 1, self.name

    @property
    def context(self) -> JobContext | None:
        return self.current.context if self.current else None

    # --- pytest phases ---

    def setup(self) -> None:
        run = start_run(self.config)
        not_needed = unneeded(run, self.job)
        if not_needed is not None:  # iterations: auto, its spec is stable: never started
            self._not_needed(*not_needed)
        attempt = self.current = start_attempt(run, self.job, self.workload_class,
                                               self.ihook, self.attempt)
        if attempt.skip_reason is not None:
            self._set_properties(JobStatus.SKIPPED)
            pytest.skip(attempt.skip_reason)
        if not set_up(attempt):
            self._set_properties(JobStatus.FAILED)
            pytest.fail(failure_message(attempt.context), pytrace=False)

    def runtest(self) -> None:
        assert self.current is not None
        execute(self.current)
        context = self.current.context
        self._set_properties(context.status, context)
        if context.status == JobStatus.NONCRITICAL:
            warn_at(PytestWAWarning(failure_message(context)), context.spec.location)
        if not context.status.passed:
            pytest.fail(failure_message(context), pytrace=False)

    def teardown(self) -> None:
        attempt, self.current = self.current, None
        if attempt is None:
            return
        context = attempt.context
        if context.status == JobStatus.ABORTED:  # no report is made for an interrupted call
            get_tally(self.config).records[self.nodeid] = JobRecord(
                f"{self.spec.id}-{self.spec.label}", context.status.name)
        following = (self.next_job_item.spec if isinstance(self.next_job_item, JobItem)
                     else None)
        self.will_retry = finish_attempt(attempt, following)
        if attempt.auto_verdict is not None:  # this iteration settled its auto spec
            self.user_properties.append(("wa_auto_verdict", attempt.auto_verdict))

    def locate_skip(self, report: pytest.TestReport) -> None:
        """Point a skip at the agenda line of the job, not at pytest-wa's source."""
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2]
            report.longrepr = (str(self.path), self.spec.location.line, reason)

    def _not_needed(self, reason: str, verdict: str) -> NoReturn:
        """Skipped with the verdict as reason, and no WA status: the iteration did not
        run, and WA's tally of iterations leaves it out (session/auto_summary.py)."""
        spec = self.spec
        self.user_properties[:] = [
            *((k, v) for k, v in self.user_properties if not str(k).startswith("wa_")),
            ("wa_job_id", spec.id), ("wa_label", spec.label),
            ("wa_iteration", self.job.iteration), ("wa_device", get_run(self.config).device),
            ("wa_auto", spec.auto.describe() if spec.auto else ""),
            ("wa_auto_not_needed", "true"), ("wa_auto_verdict", verdict)]
        pytest.skip(reason)

    def _set_properties(self, status: JobStatus, context: JobContext | None = None) -> None:
        """Status, identity, classifiers and metrics as user_properties (junit-xml)."""
        kept = [(k, v) for k, v in self.user_properties
                if not str(k).startswith(WA_PROPERTY_PREFIXES)]
        spec = self.spec
        kept += [("wa_status", status.name), ("wa_job_id", spec.id), ("wa_label", spec.label),
                 ("wa_iteration", self.job.iteration), ("wa_workload", spec.workload_name),
                 ("wa_retries", self.attempt),
                 ("wa_output_id", get_run(self.config).output_id(spec)),
                 ("wa_device", get_run(self.config).device)]
        if spec.auto is not None:
            kept.append(("wa_auto", spec.auto.describe()))
        kept += [(f"classifier:{k}", v) for k, v in spec.classifiers.items()]
        for metric in context.metrics if context else ():
            units = f" {metric.units}" if metric.units else ""
            kept.append((f"metric:{metric.name}", f"{metric.value}{units}"))
        self.user_properties[:] = kept
