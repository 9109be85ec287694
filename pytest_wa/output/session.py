"""Opening a session's run directory: location policy, then every run-level file."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..agenda.spec import RunSettings
from .location import move_aside_parent_run, prepare_run_directory
from .meta import config_pod, spec_pod, target_info_pod
from .writer import RunWriter

if TYPE_CHECKING:
    import pytest

    from .plan import RunPlan


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def output_path(config: pytest.Config) -> Path:
    """--wa-output (ini wa_output), relative to where pytest was started.

    Under pytest-xdist each worker writes a run of its own, ``<dir>/<worker id>``,
    until runs of several workers are merged into one.
    """
    given = config.getoption("wa_output") or config.getini("wa_output") or "wa_output"
    path = Path(config.invocation_params.dir, given)
    worker = _worker(config)
    return path / worker if worker else path


def _worker(config: pytest.Config) -> str | None:
    return getattr(config, "workerinput", {}).get("workerid")


def resume_path(config: pytest.Config) -> Path | None:
    given = config.getoption("wa_resume")
    return Path(config.invocation_params.dir, given) if given else None


def open_run_output(config: pytest.Config, plan: RunPlan, target: Any, device: str,
                    instruments: dict[str, dict[str, Any]], settings: RunSettings | None = None
                    ) -> tuple[RunWriter, str | None]:
    """Prepare the directory and write the run's start; returns the writer and a note."""
    resumed = resume_path(config)
    if resumed is not None:
        return _resume(resumed, plan), f"resuming the run in {resumed}"
    directory = output_path(config)
    note = move_aside_parent_run(directory.parent) if _worker(config) else None
    note = prepare_run_directory(directory, force=bool(config.getoption("wa_force"))) or note
    settings = settings or plan.first_settings() or RunSettings()
    writer = RunWriter(directory)
    writer.start(
        run_name=settings.run_name, project=settings.project,
        project_stage=settings.project_stage if isinstance(settings.project_stage, dict)
        else ({"stage": settings.project_stage} if settings.project_stage else None),
        # An xdist worker runs only some of the jobs it collected: it records those
        # as they start instead of listing every job (the others are not its own).
        jobs=[] if _worker(config) else
        [(p.output_id, p.job.spec.label, p.job.iteration) for p in plan.jobs],
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


def _resume(directory: Path, plan: RunPlan) -> RunWriter:
    from .reader import RunOutput

    writer = RunWriter(directory)
    writer.resume(RunOutput(directory),
                  jobs=[(p.output_id, p.job.spec.label, p.job.iteration) for p in plan.jobs],
                  specs=[spec_pod(p.job.spec, p.output_id) for p in plan.jobs],
                  raw_files=plan.raw_files())
    return writer
