"""Opening this process's share of the run directory: where it is, and which files it writes.

A run of its own writes everything (``RunWriter``); a pool worker writes only
its jobs into the directory its controller prepared (``JobWriter``), as the
run's role says. Resuming (``--wa-resume``) continues a run in its directory.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from ..model.secrets import masked_url
from ..output.atomic import write_json
from ..output.jobwriter import SHARED_META_CLAIM, JobWriter, claim, write_plan
from ..output.location import prepare_run_directory
from ..output.meta import config_pod, spec_pod, target_info_pod
from ..output.writer import RunWriter

if TYPE_CHECKING:
    from ..agenda.spec import RunSettings
    from ..instruments.availability import PlannedInstrument
    from ..output.plan import RunPlan
    from ..output.reader import RunOutput
    from ..targets.protocols import Target
    from .role import RunRole


class OpeningRun(Protocol):
    """What opening the output needs of the run (``run.py`` has it all)."""

    config: pytest.Config
    device: str
    role: RunRole
    plan: RunPlan | None
    output: RunWriter | None
    settings: RunSettings
    nodeids: dict[int, str]
    instrument_plan: dict[str, PlannedInstrument]
    processor_plan: dict[str, PlannedInstrument]

    @property
    def target(self) -> Target: ...


def package_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def output_path(config: pytest.Config) -> Path:
    """--wa-output (ini wa_output), relative to where pytest was started.

    Every process of a pool writes into this same directory, which the
    controller prepared (pytest_wa/pool/).
    """
    given = config.getoption("wa_output") or config.getini("wa_output") or "wa_output"
    return Path(config.invocation_params.dir, given)


def resume_path(config: pytest.Config) -> Path | None:
    given = config.getoption("wa_resume")
    return Path(config.invocation_params.dir, given) if given else None


_PREVIOUS_RUN = pytest.StashKey["RunOutput"]()


def previous_run(config: pytest.Config) -> RunOutput | None:
    """The run given to --wa-resume, read once per process: collection leaves out its
    finished jobs and the output continues it (every job's result.json is read)."""
    path = resume_path(config)
    if path is None:
        return None
    if _PREVIOUS_RUN not in config.stash:
        from ..output.reader import RunOutput

        config.stash[_PREVIOUS_RUN] = RunOutput(path)  # RunOutputError if it is no run
    return config.stash[_PREVIOUS_RUN]


def open_run_output(run: OpeningRun) -> tuple[RunWriter, str | None]:
    """This process's writer, and a note for the summary (moved aside, resumed)."""
    config, plan = run.config, run.plan
    assert plan is not None  # the output is opened only for a run with jobs
    resumed = resume_path(config)
    if not run.role.owns_run_files:
        return _job_writer(run, plan, resumed or output_path(config)), None
    if resumed is not None:
        return _resume(config, resumed, plan), f"resuming the run in {resumed}"
    directory = output_path(config)
    note = prepare_run_directory(directory, force=bool(config.getoption("wa_force")))
    writer = RunWriter(directory)
    writer.start(**_start_fields(run, plan, directory))
    return writer, note


def _start_fields(run: OpeningRun, plan: RunPlan, directory: Path) -> dict[str, Any]:
    settings = run.settings
    stage = settings.project_stage
    return dict(
        run_name=settings.run_name, project=settings.project,
        project_stage=stage if isinstance(stage, dict) else ({"stage": stage} if stage else None),
        jobs=_job_rows(plan), specs=_spec_pods(plan), config=_config_pod(run, directory),
        target_info=target_info_pod(run.target), raw_files=plan.raw_files(),
        metadata={"versions": {"pytest-wa": package_version("pytest-wa"),
                               "pytest": package_version("pytest"),
                               "python": platform.python_version()},
                  "agendas": [agenda.path for agenda in plan.agendas], "device": run.device,
                  "command_line": [masked_url(str(arg))
                                   for arg in run.config.invocation_params.args]})


def _job_rows(plan: RunPlan) -> list[tuple[str, str, int]]:
    return [(p.output_id, p.job.spec.label, p.job.iteration) for p in plan.jobs]


def _spec_pods(plan: RunPlan) -> list[dict[str, Any]]:
    return [spec_pod(p.job.spec, p.output_id) for p in plan.jobs]


def _config_pod(run: OpeningRun, directory: Path) -> dict[str, Any]:
    instruments = {name: plan.values  # WA3 lists instruments and processors together
                   for name, plan in (*run.instrument_plan.items(),
                                      *run.processor_plan.items())}
    return config_pod(run.settings, run.device, instruments, str(directory),
                      _device_config(run.config, run.device))


def _device_config(config: pytest.Config, device: str) -> dict[str, Any]:
    """The device's settings as config.json shows them: kind and values, secrets masked."""
    from ..devices import resolve_device
    from ..model.errors import ConfigError

    try:
        entry = resolve_device(config, device)
    except ConfigError:  # a conftest's own make_target supplied this device
        return {}
    return {"kind": entry.kind, **entry.public_settings()}


def _resume(config: pytest.Config, directory: Path, plan: RunPlan) -> RunWriter:
    previous = previous_run(config)
    assert previous is not None  # --wa-resume was given (usually read already at collection)
    writer = RunWriter(directory)
    writer.resume(previous, jobs=_job_rows(plan), specs=_spec_pods(plan),
                  raw_files=plan.raw_files())
    return writer


# --- a pool worker's share ---

def _job_writer(run: OpeningRun, plan: RunPlan, directory: Path) -> JobWriter:
    """A worker's writer; at its ``open`` (its first job): plan.json, the device's
    target info, and the shared meta files if this worker is the first to get
    there (in a resumed run they are the first session's, and stay).

    Resuming, the writer knows the earlier attempts of every job, so that a
    job run again puts its earlier directory aside as
    ``__failed/<job>-attemptNN`` with the next free number.
    """
    meta = directory / "__meta"
    target_info = target_info_pod(run.target)

    def prepare() -> None:
        write_run_plan(run, directory)
        write_json(meta / "targets" / f"{run.device}.json", target_info)
        if claim(meta / SHARED_META_CLAIM):
            _write_shared_meta(run, plan, directory)
            write_json(meta / "target_info.json", target_info)

    writer = JobWriter(directory, run.role.worker or "gw0", prepare)
    previous = previous_run(run.config)
    if previous is not None:
        writer.adopt_jobs(previous.jobs)
    return writer


def _write_shared_meta(run: OpeningRun, plan: RunPlan, directory: Path) -> None:
    meta = directory / "__meta"
    write_json(meta / "config.json", _config_pod(run, directory))
    write_json(meta / "jobs.json", {"jobs": _spec_pods(plan)})
    (meta / "raw_config").mkdir(parents=True, exist_ok=True)
    RunWriter(directory).copy_raw_config(plan.raw_files())


def write_run_plan(run: OpeningRun, directory: Path) -> None:
    """``__meta/plan.json`` from this process's collection (pool workers)."""
    write_plan(directory, **run_plan_record(run))


def _shareable_db(spec: str | None) -> str | None:
    """The agenda's ``db`` for the pool's controller, which stores the run at its end;
    not if it holds a password (the run directory never does: use --wa-db, PGPASSWORD
    or ~/.pgpass)."""
    if not spec:
        return None
    from ..store import is_postgres, shown

    return spec if not is_postgres(spec) or shown(spec) == spec else None


def run_plan_record(run: OpeningRun) -> dict[str, Any]:
    """What ``__meta/plan.json`` holds: every job's node id and output id, the run's
    name and the agendas. A pool worker that leaves before its first job hands it
    to its controller instead of writing it (the directory may not be ready)."""
    plan = run.plan
    assert plan is not None
    settings = plan.first_settings()
    stage = getattr(settings, "project_stage", None)
    return {"jobs": [{"nodeid": run.nodeids.get(id(p.job), ""), "id": p.output_id,
                      "label": p.job.spec.label, "iteration": p.job.iteration}
                     for p in plan.jobs],
            "run": {"run_name": getattr(settings, "run_name", None),
                    "project": getattr(settings, "project", None),
                    "project_stage": stage if stage is None or isinstance(stage, dict)
                    else {"stage": stage},
                    "db": _shareable_db(getattr(settings, "db", None))},
            "metadata": {"agendas": [agenda.path for agenda in plan.agendas],
                         "devices": list(run.role.pool) or [run.device]}}
