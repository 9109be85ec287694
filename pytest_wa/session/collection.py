"""From collected items to a run: the plan, --wa-resume, the device had up front.

These run between collection and the first job: the plan gives every job a
stable output id before any selection, ``--wa-resume`` deselects what already
finished, and the device is connected once the session knows jobs will run,
so that a wrong device is one clear line, not an error per job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ..agenda.spec import spec_key
from ..model.errors import InputError, TargetError
from .state import get_run, wa_seed

if TYPE_CHECKING:
    from ..engine.run import RunContext


def job_items(items: list[pytest.Item]) -> list[Any]:
    from .items import JobItem

    return [item for item in items if isinstance(item, JobItem)]


def plan_and_resume(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Plan the run over every job collected; with --wa-resume, deselect finished jobs."""
    _plan(config, items)
    config.stash[_PLANNED] = True  # only once planned: a refused --wa-resume runs nothing


def _plan(config: pytest.Config, items: list[pytest.Item]) -> None:
    from ..output.plan import RunPlan

    jobs = job_items(items)
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
    from ..engine.output_setup import previous_run, resume_path
    from ..output.reader import RunOutputError

    try:
        previous = previous_run(config)
    except RunOutputError as exc:
        raise pytest.UsageError(f"--wa-resume {resume_path(config)}: {exc}") from None
    if previous is None:
        return None
    return {(job.id, job.iteration) for job in previous.jobs if job.status.passed}


_PLANNED = pytest.StashKey[bool]()


def jobs_will_run(session: pytest.Session) -> bool:
    """Whether the jobs collected are going to run (so the device is needed now).

    Not with --co, nor when collection failed: pytest calls collection_finish
    even then, and stops before the first item.
    """
    config = session.config
    if config.option.collectonly or not config.stash.get(_PLANNED, False):
        return False
    return not (session.testsfailed and not config.option.continue_on_collection_errors)


def prepare_run(session: pytest.Session, will_run: bool) -> None:
    """After selection: the jobs that will run, their instruments, and the device.

    Outside a pool a device that cannot be had ends the session with one line;
    a pool worker's run records it, and the worker leaves before the controller
    hears of its collection (pool/worker.py calls this first, so the call from
    plugin.py then finds the run started and has nothing left to do).
    """
    jobs = job_items(session.items)
    if not jobs:
        return
    run = get_run(session.config)
    if run.started:
        return
    run.nodeids = {id(item.job): item.nodeid for item in jobs}
    run.workload_classes = {spec_key(item.spec): item.workload_class for item in jobs}
    if run.plan is not None:
        run.plan.keep(item.job for item in jobs)
    _plan_instruments(run, jobs)
    if not will_run:
        return
    try:
        run.start()
    except (InputError, TargetError) as exc:
        if not run.role.shares_jobs:
            raise pytest.UsageError(f"pytest-wa: {exc}") from None
        run.device_lost = str(exc)


def _plan_instruments(run: RunContext, jobs: list[Any]) -> None:
    for item in jobs:
        for name in item.spec.augmentations:
            cls = item.catalog.instrument(name) or item.catalog.processor(name)
            configs = item.agenda.plugin_configs
            run.plan_instrument(cls.name, cls, configs.get(cls.name, configs.get(name, {})),
                                str(item.path.parent), item.spec.location)


def random_order_notice(config: pytest.Config, items: list[pytest.Item]) -> str | None:
    """The seed line shown after collection when any agenda runs in random order."""
    forced = config.getoption("wa_order")
    if not any((forced or item.agenda.settings.execution_order) == "random"
               for item in job_items(items)):
        return None
    seed = wa_seed(config)
    return f"pytest-wa: random execution order, seed {seed} (--wa-seed {seed} repeats it)"
