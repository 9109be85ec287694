"""Opening a session's run directory: location policy, then every run-level file."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..agenda.spec import RunSettings
from .atomic import write_json
from .location import prepare_run_directory
from .meta import config_pod, spec_pod, target_info_pod
from .writer import RunWriter

if TYPE_CHECKING:
    from .plan import RunPlan
    from .reader import RunOutput


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def output_path(config: pytest.Config) -> Path:
    """--wa-output (ini wa_output), relative to where pytest was started.

    Under pytest-xdist every worker writes into this same directory, which the
    controller prepared (pytest_wa/pool/).
    """
    given = config.getoption("wa_output") or config.getini("wa_output") or "wa_output"
    return Path(config.invocation_params.dir, given)


def _worker(config: pytest.Config) -> str | None:
    return getattr(config, "workerinput", {}).get("workerid")


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
        from .reader import RunOutput

        config.stash[_PREVIOUS_RUN] = RunOutput(path)  # RunOutputError if it is no run
    return config.stash[_PREVIOUS_RUN]


def open_run_output(config: pytest.Config, plan: RunPlan, target: Any, device: str,
                    instruments: dict[str, dict[str, Any]], settings: RunSettings | None = None,
                    nodeids: dict[int, str] | None = None) -> tuple[RunWriter, str | None]:
    """Prepare the directory and write the run's start; returns the writer and a note.

    An xdist worker writes into the directory the controller prepared, and
    only its jobs and the meta files (pytest_wa/pool/worker.py).
    """
    settings = settings or plan.first_settings() or RunSettings()
    resumed = resume_path(config)
    if _worker(config):
        from ..pool.worker import open_worker_output

        directory = resumed or output_path(config)
        shared = RunWriter(directory)

        def write_shared() -> None:
            write_json(shared.meta / "config.json",
                       config_pod(settings, device, instruments, str(directory),
                                  _device_config(config, device)))
            write_json(shared.meta / "jobs.json",
                       {"jobs": [spec_pod(p.job.spec, p.output_id) for p in plan.jobs]})
            (shared.meta / "raw_config").mkdir(parents=True, exist_ok=True)
            shared._copy_raw(plan.raw_files())

        return open_worker_output(config, directory, plan, nodeids or {}, write_shared,
                                  target_info_pod(target), device,
                                  previous=previous_run(config)), None
    if resumed is not None:
        return _resume(config, resumed, plan), f"resuming the run in {resumed}"
    directory = output_path(config)
    note = prepare_run_directory(directory, force=bool(config.getoption("wa_force")))
    writer = RunWriter(directory)
    writer.start(
        run_name=settings.run_name, project=settings.project,
        project_stage=settings.project_stage if isinstance(settings.project_stage, dict)
        else ({"stage": settings.project_stage} if settings.project_stage else None),
        jobs=[(p.output_id, p.job.spec.label, p.job.iteration) for p in plan.jobs],
        specs=[spec_pod(p.job.spec, p.output_id) for p in plan.jobs],
        config=config_pod(settings, device, instruments, str(directory),
                          _device_config(config, device)),
        target_info=target_info_pod(target), raw_files=plan.raw_files(),
        metadata={"versions": {"pytest-wa": _version("pytest-wa"),
                               "pytest": _version("pytest"),
                               "python": platform.python_version()},
                  "agendas": [agenda.path for agenda in plan.agendas], "device": device,
                  "command_line": list(config.invocation_params.args)})
    return writer, note


def _device_config(config: pytest.Config, device: str) -> dict[str, Any]:
    """The device's settings as config.json shows them: kind and values, secrets masked."""
    from ..devices import resolve_device
    from ..errors import ConfigError

    try:
        entry = resolve_device(config, device)
    except ConfigError:  # a conftest's own make_target supplied this device
        return {}
    return {"kind": entry.kind, **entry.public_settings()}


def _resume(config: pytest.Config, directory: Path, plan: RunPlan) -> RunWriter:
    previous = previous_run(config)
    assert previous is not None  # --wa-resume was given (usually read already at collection)
    writer = RunWriter(directory)
    writer.resume(previous,
                  jobs=[(p.output_id, p.job.spec.label, p.job.iteration) for p in plan.jobs],
                  specs=[spec_pod(p.job.spec, p.output_id) for p in plan.jobs],
                  raw_files=plan.raw_files())
    return writer
