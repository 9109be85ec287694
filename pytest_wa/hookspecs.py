"""Every ``pytest_wa_*`` hook: WA's signal bus expressed as pluggy hooks.

Each job stage is one hook. pytest-wa's core implements it (``trylast``) and
does the work; an instrument wraps it with ``@pytest.hookimpl(wrapper=True)``,
acting before and after ``yield`` as WA's before/successful/after signals
did. Because pluggy calls later-registered implementations first, instruments
are registered in priority order (see ``instruments/__init__.py``).

A ``conftest.py`` that implements a job or spec hook is an instrument for
every job of the agendas below it (run hooks see the whole run).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .engine.run import RunContext
    from .plugins.context import JobContext
    from .plugins.registry import Registry
    from .targets.protocols import Target

hookspec = pytest.hookspec


# --- registration (called at collection, so conftest files can add plugins) ---

@hookspec
def pytest_wa_register_workloads(registry: Registry) -> None:
    """Add workload classes: ``registry.add(MyWorkload)``.

    Implement it in a ``conftest.py`` (it then applies to agendas below that
    conftest) or in an installed plugin. Packages can also use the
    ``pytest_wa.workloads`` entry-point group.
    """


@hookspec
def pytest_wa_register_instruments(registry: Registry) -> None:
    """Add instrument classes: ``registry.add(MyInstrument)``.

    Instruments are enabled by name in an agenda's ``augmentations``. Packages
    can also use the ``pytest_wa.instruments`` entry-point group.
    """


@hookspec
def pytest_wa_register_output_processors(registry: Registry) -> None:
    """Add output processor classes: ``registry.add(MyProcessor)``.

    Output processors are enabled by name in ``augmentations``, beside
    instruments (as in WA3). Packages can also use the
    ``pytest_wa.output_processors`` entry-point group.
    """


# --- factories ---

@hookspec(firstresult=True)
def pytest_wa_make_target(config: pytest.Config, device: str) -> Target | None:
    """Create (not yet connect) the target for the device named ``device``.

    The first non-None result wins; pytest-wa's own implementation is
    ``trylast`` so a conftest can supply its own target class.
    """


# --- run ---

@hookspec
def pytest_wa_run_check(run: RunContext) -> None:
    """The target is connected and nothing is written or run yet: refuse a run that
    cannot work (raise ``ConfigError``, naming the agenda line), so the user gets
    one clear error and the previous run's output stays where it is."""


@hookspec
def pytest_wa_run_start(run: RunContext) -> None:
    """The run begins: the target is connected, no job has run yet (WA3: RUN_STARTED,
    RUN_INITIALIZED)."""


@hookspec
def pytest_wa_run_end(run: RunContext) -> None:
    """The run is over, also after an interrupt (WA3: RUN_FINALIZED, RUN_COMPLETED)."""


@hookspec
def pytest_wa_run_output(run: RunContext) -> None:
    """The run's results are final (every job's status settled, the run's status and
    end time written, the run directory complete) and the output is still open: process
    or export the run (WA3: output processors' process_run_output and
    export_run_output). Run-level metrics, artifacts and events may still be added."""


# --- specs ---

@hookspec
def pytest_wa_spec_start(job: JobContext) -> None:
    """The first of consecutive jobs of one spec begins (WA2: WORKLOAD_SPEC_START)."""


@hookspec
def pytest_wa_spec_end(job: JobContext) -> None:
    """The last of consecutive jobs of one spec ended (WA2: WORKLOAD_SPEC_END)."""


# --- jobs ---

@hookspec
def pytest_wa_job_start(job: JobContext) -> None:
    """A job (one iteration) begins, before its setup (WA3: JOB_STARTED; WA2: ITERATION_START)."""


@hookspec
def pytest_wa_job_setup(job: JobContext) -> None:
    """Set the job up; the core calls the workload's ``setup`` (WA3: *_WORKLOAD_SETUP)."""


@hookspec
def pytest_wa_job_execute(job: JobContext) -> None:
    """Run the workload: wrap this to measure exactly the execution (WA3: *_WORKLOAD_EXECUTION)."""


@hookspec
def pytest_wa_job_extract_results(job: JobContext) -> None:
    """Collect metrics and artifacts from the target (WA3: *_WORKLOAD_RESULT_EXTRACTION)."""


@hookspec
def pytest_wa_job_teardown(job: JobContext) -> None:
    """Undo the job's setup on the target (WA3: *_WORKLOAD_TEARDOWN)."""


@hookspec
def pytest_wa_job_end(job: JobContext) -> None:
    """The job is over, its status is known (WA3: JOB_COMPLETED; WA2: ITERATION_END)."""


@hookspec
def pytest_wa_job_output(job: JobContext) -> None:
    """The job's status and results are final: process or export them (WA3: output
    processors' process_job_output, JOB_OUTPUT_PROCESSED)."""


# --- flashing ---

@hookspec(firstresult=True)
def pytest_wa_flash(target: Target, flash: dict[str, Any], job: JobContext) -> bool | None:
    """Flash the device with the job's ``flash`` entry; return True once it is flashed.

    Called before the first job whose spec has a ``flash`` mapping (and again
    whenever a job asks for a different one), before that job's reboot, if the
    reboot policy has one. Leave the device booted and reachable through
    ``target`` (call ``target.reboot()`` yourself if your tool leaves it in a
    bootloader). Return None to let another implementation flash it; raise to
    fail the job. The first True wins. A run whose agenda has ``flash``
    entries and no implementation of this hook is refused before it starts.
    """
