"""The run's runtime-parameter plugin: validate at run start, apply per job, restore after.

- Run check (the target is connected, nothing is written yet): the device
  is read once and every planned spec's parameters are checked; all problems
  end the session as one ConfigError before the first job, and the previous
  run's output stays where it is.
- Job start (trylast: after the reboot policy, the output directory and
  instruments' own starts, as WA3 configures the target after JOB_STARTED):
  the plan is applied, each write journaled. A failure is raised again in
  the job's setup (tryfirst), where a setup failure belongs: the job is
  FAILED with the reason, and no other job_start hook is cut short.
- Job end (trylast, also after a failure or an abort): the journal is undone
  in reverse. A value that cannot be restored is a warning and a job event,
  never a change of the job's status.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import pytest

from ..agenda.spec import spec_key
from ..model.errors import ConfigError, Problem
from ..model.runlog import RUN_LOGGER
from .facts import DeviceFacts
from .journal import Journal
from .plan import SpecPlan, apply_plan, build_plan, read_givens
from .probe import probe_device, with_root_check

if TYPE_CHECKING:
    from ..agenda.spec import JobSpec, SpecKey
    from ..plugins.context import JobContext
    from ..plugins.context import RunView as RunContext

logger = RUN_LOGGER
MAX_JOBS_NAMED = 3


class RuntimeParameterError(ConfigError):
    """What is wrong with the agendas' runtime parameters on this device, found at run start.

    The session ends with it as one ``ERROR:`` paragraph; with several
    problems, a count comes first so that the list reads as one report.
    """

    kind = "runtime parameters"

    def __str__(self) -> str:
        body = super().__str__()
        count = len(self.problems)
        return body if count == 1 else f"{count} problems in runtime parameters (no job was " \
                                       f"run):\n{body}"


class RuntimeParametersPlugin:
    """Validates runtime parameters at run start, applies them per job, restores them."""

    def __init__(self, run: Any) -> None:
        self.run: RunContext = run
        self._facts: DeviceFacts | None = None
        self._plans: dict[SpecKey, SpecPlan] = {}
        self._active: dict[int, tuple[JobContext, Journal]] = {}
        self._failures: dict[int, BaseException] = {}
        self._checked = False

    # --- run check: validation ---

    def pytest_wa_run_check(self, run: RunContext) -> None:
        """Check every planned job before anything is written: no output, no job."""
        self._checked = True
        if run.plan is None:
            return
        specs = {spec_key(p.job.spec): p.job.spec for p in run.plan.jobs
                 if p.job.spec.runtime_parameters}
        if specs:
            self._prepare(list(specs.values()))

    @pytest.hookimpl(tryfirst=True)
    def pytest_wa_run_start(self, run: RunContext) -> None:
        """Only if the run had no check (a run started by other means than RunContext.start)."""
        if not self._checked:
            self.pytest_wa_run_check(run)

    def _prepare(self, specs: list[JobSpec]) -> None:
        """Plan every spec, or raise one ConfigError listing every problem of every spec."""
        facts = self._device_facts(specs)
        found: list[tuple[JobSpec, Problem]] = []
        for spec in specs:
            plan, problems = build_plan(spec, facts)
            found.extend((spec, problem) for problem in problems.items)
            self._plans[spec_key(spec)] = plan
        if found:
            raise RuntimeParameterError(merge_problems(found))

    def _device_facts(self, specs: list[JobSpec]) -> DeviceFacts:
        """Read the device once (a second command, as root, only if sysfs is written)."""
        target = self.run.target
        if self._facts is None:
            self._facts = probe_device(target, self.run.device)
        givens = [read_givens(spec) for spec in specs]
        paths = [path for g in givens for path in g.sysfile_paths()]
        if any(g.needs_root for g in givens) and (self._facts.root is None or paths):
            self._facts = with_root_check(target, self._facts, paths)
        return self._facts

    # --- jobs: apply, restore ---

    @pytest.hookimpl(trylast=True)
    def pytest_wa_job_start(self, job: JobContext) -> None:
        if not job.spec.runtime_parameters:
            return
        journal = Journal(job.target)
        self._active[id(job)] = (job, journal)
        try:
            key = spec_key(job.spec)
            if key not in self._plans:  # a spec the run plan did not list
                self._prepare([job.spec])
            assert self._facts is not None
            apply_plan(self._plans[key], self._facts, journal)
        except Exception as exc:
            self._failures[id(job)] = exc
            return
        if journal.changes:
            logger.info("Job %s: runtime parameters set (%d value(s) changed)", job.output_id,
                        len(journal.changes))

    @pytest.hookimpl(tryfirst=True)
    def pytest_wa_job_setup(self, job: JobContext) -> None:
        failure = self._failures.pop(id(job), None)
        if failure is not None:
            raise failure

    @pytest.hookimpl(trylast=True)
    def pytest_wa_job_end(self, job: JobContext) -> None:
        self._failures.pop(id(job), None)
        active = self._active.pop(id(job), None)
        if active is not None:
            self._restore(job, active[1], record=job.add_event)

    @pytest.hookimpl(trylast=True)
    def pytest_wa_run_end(self, run: RunContext) -> None:
        """A job whose end never came (an interrupt at the wrong moment) is restored here."""
        for job, journal in list(self._active.values()):
            self._restore(job, journal, record=run.add_event)
        self._active.clear()

    def _restore(self, job: JobContext, journal: Journal, record: Any) -> None:
        """Undo a job's changes; whatever fails is reported, never raised."""
        try:
            problems = journal.restore()
        except Exception as exc:  # a bug here must not hide the job's own outcome
            problems = [f"restoring failed: {type(exc).__name__}: {exc}"]
        for path in journal.unrestorable:
            logger.info("Job %s: runtime parameters: %s was not restored (it could not be "
                        "read before the job)", job.output_id, path)
        for message in problems:
            text = f"runtime parameters: {message}"
            logger.warning("Job %s: %s", job.output_id, text)
            with contextlib.suppress(Exception):
                record(text)
            _warn(text, job)


def _warn(text: str, job: JobContext) -> None:
    """A warning at the job's agenda line; never an exception (not even under -W error),
    which would cut the job's end short and lose its results."""
    from ..model.warnings import PytestWAWarning, warn_at

    with contextlib.suppress(Exception):
        warn_at(PytestWAWarning(f"{job.name}: {text}"), job.spec.location)


def merge_problems(found: list[tuple[JobSpec, Problem]]) -> list[Problem]:
    """One problem per mistake, not per job: a config-level mistake names the other jobs."""
    merged: dict[tuple[str, str, str], tuple[Problem, list[str]]] = {}
    for spec, problem in found:
        slot = (problem.location.path, problem.key, problem.message)
        _, jobs = merged.setdefault(slot, (problem, []))
        if spec.id not in jobs:
            jobs.append(spec.id)
    result = []
    for problem, jobs in merged.values():
        others = jobs[1:]
        if others:
            named = ", ".join(others[:MAX_JOBS_NAMED])
            more = f" and {len(others) - MAX_JOBS_NAMED} more" \
                if len(others) > MAX_JOBS_NAMED else ""
            problem = Problem(problem.location, problem.key,
                              f"{problem.message} (also in job {named}{more})")
        result.append(problem)
    return sorted(result, key=lambda p: (p.location.path, p.location.line))
