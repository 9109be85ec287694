"""The state of one run in one pytest process: target, output, workloads, instruments.

Created lazily by the first job item (never by ``--co`` or by a plain test
suite), kept in ``config.stash``, finished at session end. Under xdist every
worker has its own RunContext and its own device (a pool's: pytest_wa/pool/),
and writes into the one run directory from its first job on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, TargetError
from .instruments import registration_order
from .instruments.guard import guarded_plugin
from .output.runlog import RUN_LOGGER
from .parameters import resolve_parameters
from .results import Artifact, Metric, checked_number

if TYPE_CHECKING:
    import pytest

    from .agenda.spec import JobSpec, RunSettings
    from .job import JobContext
    from .output.plan import RunPlan
    from .output.writer import RunWriter
    from .targets.base import Target
    from .workloads.base import Workload


logger = RUN_LOGGER

SpecKey = tuple[str, str]


def spec_key(spec: JobSpec) -> SpecKey:
    """Specs are told apart by agenda and job id (ids repeat across agendas)."""
    return (spec.agenda, spec.id)


class RunContext:
    """One pytest-wa run as seen by one pytest process."""

    def __init__(self, config: pytest.Config, device: str) -> None:
        self.config = config
        self.device = device
        self.hook = config.hook
        self._target: Target | None = None
        self.started = False
        self.instrument_plan: dict[str, tuple[Any, dict[str, Any], str]] = {}
        self.instruments: dict[str, Any] = {}
        self._workloads: dict[SpecKey, Workload] = {}
        self._initialized: list[tuple[Workload, JobContext]] = []
        self._initialized_ids: set[int] = set()
        self._spec_failures: dict[SpecKey, str] = {}
        self.previous_spec: SpecKey | None = None
        self.current_job: JobContext | None = None
        self.plan: RunPlan | None = None
        self.output: RunWriter | None = None
        self.notes: list[str] = []
        self.interrupted = False
        self.stopped: str | None = None
        #: Set in a pool worker when its device is lost: the worker leaves and its
        #: remaining jobs go to other devices (pytest_wa/pool/worker.py).
        self.device_lost: str | None = None
        #: Collected job -> its pytest node id (xdist: the plan the controller reads).
        self.nodeids: dict[int, str] = {}
        self._log_handler: Any = None
        self._execution_plugins: list[Any] = []

    @property
    def target(self) -> Target:
        if self._target is None:
            raise RuntimeError("the run has not started; no target is connected")
        return self._target

    # --- run start / end ---

    def start(self) -> None:
        """Create and connect the target, enable instruments, fire run_start."""
        if self.started:
            return
        target = self.hook.pytest_wa_make_target(config=self.config, device=self.device)
        if target is None:
            raise ConfigError(f"cannot use device {self.device!r}: unknown device "
                              f"{self.device!r}: no target kind provides it (built in: 'local')")
        try:
            target.connect()
        except TargetError as exc:
            raise TargetError(f"cannot use device {self.device!r}: {exc}") from exc
        self._target = target
        try:
            self._register_execution_plugins()
            self.hook.pytest_wa_run_check(run=self)
            if self.plan is not None and self.plan.jobs:  # the wa_target fixture alone: none
                self._open_output()
        except BaseException:
            self._unregister_execution_plugins()
            self._target = None
            target.disconnect()
            raise
        self.started = True
        self._register_target_plugin(target)
        self._register_instruments()
        logger.info("Run started on device %s", self.device)
        self.hook.pytest_wa_run_start(run=self)

    @property
    def settings(self) -> RunSettings:
        """The run's settings: the first agenda's, with the command line's overrides."""
        from .agenda.spec import RunSettings

        settings = (self.plan.first_settings() if self.plan else None) or RunSettings()
        overrides: dict[str, Any] = {}
        if self.config.getoption("wa_reboot_policy", None):
            from .agenda.spec import REBOOT_POLICY_ALIASES

            policy = self.config.getoption("wa_reboot_policy")
            overrides["reboot_policy"] = REBOOT_POLICY_ALIASES.get(policy, policy)
        if self.config.getoption("wa_max_retries", None) is not None:
            overrides["max_retries"] = self.config.getoption("wa_max_retries")
        if self.config.getoption("wa_job_timeout", None) is not None:
            overrides["job_timeout"] = self.config.getoption("wa_job_timeout")
        return dataclasses.replace(settings, **overrides) if overrides else settings

    def _register_execution_plugins(self) -> None:
        """Reboot policy and runtime parameters: per-job work every run does.

        The reboot plugin's job_start is tryfirst, so a reboot comes before the
        runtime parameters are applied. The runtime-parameter machinery is
        imported only when some planned job has runtime parameters: it is a
        fifth of the plugin's import time, paid again by every xdist worker.
        """
        from .reboot import RebootPolicyPlugin

        plugins: list[tuple[str, Any]] = [("pytest-wa-reboot", RebootPolicyPlugin(self))]
        if self.plan is not None and any(p.job.spec.runtime_parameters for p in self.plan.jobs):
            from .runtime.plugin import RuntimeParametersPlugin

            plugins.append(("pytest-wa-runtime", RuntimeParametersPlugin(self)))
        for name, plugin in plugins:
            self.config.pluginmanager.register(plugin, name)
            self._execution_plugins.append(plugin)

    def _unregister_execution_plugins(self) -> None:
        for plugin in self._execution_plugins:
            self.config.pluginmanager.unregister(plugin)
        self._execution_plugins.clear()

    def _register_target_plugin(self, target: Target) -> None:
        """A target kind's own per-job work (Android: logcat, screenshots on failure)."""
        make_plugin = getattr(target, "job_plugin", None)
        if callable(make_plugin):
            self.config.pluginmanager.register(make_plugin(), "pytest-wa-target-jobs")
        from .devices import resolve_device

        with contextlib.suppress(ConfigError):
            self.notes.extend(resolve_device(self.config, self.device).notes)

    def _is_worker(self) -> bool:
        return getattr(self.config, "workerinput", None) is not None

    def ensure_output(self) -> None:
        """An xdist worker writes its first file at its first job: by then the
        controller has prepared the run directory (it moves a previous run aside
        when collection is done, before it hands out any job)."""
        if self.output is not None and not getattr(self.output, "ready", True):
            self.output.open()  # type: ignore[attr-defined]
            self._attach_log()

    def _attach_log(self) -> None:
        from .output.runlog import attach_run_log

        assert self.output is not None
        worker = getattr(self.config, "workerinput", {}).get("workerid")
        log_name = f"run-{worker}.log" if worker else "run.log"
        self._log_handler = attach_run_log(self.output.directory / log_name)

    def _open_output(self) -> None:
        from .output.plan import RunPlan
        from .output.recorder import OutputRecorder
        from .output.session import open_run_output

        instruments = {name: values for name, (_, values, _) in self.instrument_plan.items()}
        self.output, note = open_run_output(self.config, self.plan or RunPlan([]),
                                            self.target, self.device, instruments,
                                            self.settings, self.nodeids)
        if note:
            self.notes.append(note)
        if not self._is_worker():  # a worker's log is opened with its output
            self._attach_log()
        self.config.pluginmanager.register(OutputRecorder(self.output), "pytest-wa-output")

    def output_id(self, spec: JobSpec) -> str:
        """The job id the output uses (qualified when agendas of the session share ids)."""
        return self.plan.output_id(spec) if self.plan else spec.id

    # --- run-level results ---

    def add_metric(self, name: str, value: Any, units: str | None = None, *,
                   lower_is_better: bool = False,
                   classifiers: dict[str, Any] | None = None) -> Metric:
        """Record a run-level metric (WA3: the run's result.json)."""
        metric = Metric(name, checked_number(name, value), units, lower_is_better,
                        dict(classifiers or {}))
        self._run_result().metrics.append(metric)
        self._save_result()
        return metric

    def add_artifact(self, name: str, path: str, kind: str = "data",
                     description: str | None = None,
                     classifiers: dict[str, Any] | None = None) -> Artifact:
        """Record a run-level file; ``path`` must lie inside the run directory."""
        from .output.artifacts import make_artifact

        writer = self._writer()
        artifact = make_artifact(writer.directory, name, path, kind, description, classifiers)
        writer.result.artifacts.append(artifact)
        self._save_result()
        return artifact

    def add_event(self, message: str) -> None:
        logger.warning("%s", message)
        self._writer().add_event(message)

    def _writer(self) -> RunWriter:
        if self.output is None:
            raise RuntimeError("the run has no output directory yet (it opens at run start)")
        return self.output

    def _run_result(self) -> Any:
        return self._writer().result

    def _save_result(self) -> None:
        self._writer().write_result()

    def plan_instrument(self, name: str, cls: Any, config: dict[str, Any], source: str
                        ) -> None:
        """Remember an instrument that some collected job enables (first config wins),
        with its parameter values resolved (defaults filled in) once."""
        if name not in self.instrument_plan:
            values = resolve_parameters(cls.parameters, dict(config))[0]
            self.instrument_plan[name] = (cls, values, source)

    def _register_instruments(self) -> None:
        instances = [cls(source_directory=source, **values)
                     for cls, values, source in self.instrument_plan.values()]
        for instrument in registration_order(instances):
            plugin = guarded_plugin(instrument)
            self.config.pluginmanager.register(plugin, f"pytest-wa-instrument-{instrument.name}")
            self.instruments[instrument.name] = plugin

    def finish(self, interrupted: bool = False) -> None:
        """Finalize workloads, fire run_end, close the output, disconnect.

        Runs after an interrupt too: the output is closed whatever the hooks did.
        """
        if not self.started:
            return
        self.started = False
        self.interrupted = interrupted
        try:
            for workload, context in reversed(self._initialized):
                self._finalize(workload, context)
            self._run_end()
        finally:
            self._close()

    def _run_end(self) -> None:
        """RUN_END for every hook; one failing is reported, the output is still closed."""
        try:
            self.hook.pytest_wa_run_end(run=self)
        except Exception as exc:
            message = f"a pytest_wa_run_end hook failed: {type(exc).__name__}: {exc}"
            self.notes.append(message)
            if self.output is not None:
                self.add_event(message)
            warnings.warn(message, stacklevel=1)

    def _close(self) -> None:
        try:
            if self.output is not None:
                settings = self.plan.first_settings() if self.plan else None
                status = self.output.finish(run_name=getattr(settings, "run_name", None))
                logger.info("Run finished: %s", status.name)
                if not self._is_worker():
                    self.notes.append(f"results in {self.output.directory} (run {status.name})")
        finally:
            for instrument in self.instruments.values():
                self.config.pluginmanager.unregister(instrument)
            self.instruments.clear()
            self._unregister_execution_plugins()
            target_plugin = self.config.pluginmanager.get_plugin("pytest-wa-target-jobs")
            if target_plugin is not None:
                self.config.pluginmanager.unregister(target_plugin)
            if self._log_handler is not None:
                from .output.runlog import detach_run_log

                detach_run_log(self._log_handler)
            if self._target is not None:
                self._target.disconnect()

    @staticmethod
    def _finalize(workload: Workload, context: JobContext) -> None:
        try:
            workload.finalize(context)
        except Exception as exc:
            warnings.warn(f"workload {workload.name!r} failed to finalize: {exc}",
                          stacklevel=1)

    # --- jobs ---

    def workload_for(self, spec: JobSpec, cls: type) -> Workload:
        """The spec's workload instance, made on first use (shared by its iterations)."""
        key = spec_key(spec)
        workload = self._workloads.get(key)
        if workload is None:
            workload = cls(source_directory=os.path.dirname(spec.location.path),
                           **spec.workload_parameters)
            workload.validate()
            self._workloads[key] = workload
        return workload

    def initialize_once(self, workload: Workload, context: JobContext) -> None:
        """WA's initialize: once per run for each workload instance, before its first job."""
        if id(workload) in self._initialized_ids:
            return
        workload.initialize(context)
        self._initialized_ids.add(id(workload))
        self._initialized.append((workload, context))

    def begin_spec(self, context: JobContext) -> None:
        """Fire spec_start when this job's spec differs from the previous job's."""
        key = spec_key(context.spec)
        if key != self.previous_spec:
            self.previous_spec = key
            context.hook.pytest_wa_spec_start(job=context)

    def end_spec_unless(self, context: JobContext, next_spec: JobSpec | None) -> None:
        """Fire spec_end unless the next job continues the same spec."""
        if next_spec is None or spec_key(next_spec) != spec_key(context.spec):
            self.previous_spec = None
            context.hook.pytest_wa_spec_end(job=context)

    def skip_reason(self, spec: JobSpec) -> str | None:
        """Why a job of ``spec`` must not run: the run stopped, or its spec failed."""
        return self.stopped or self._spec_failures.get(spec_key(spec))

    def stop(self, reason: str) -> None:
        """Skip every job still to come, with ``reason`` (bail options, a lost device)."""
        if self.stopped is None:
            self.stopped = reason
            logger.error("Skipping the remaining jobs: %s", reason)
            self.notes.append(f"remaining jobs skipped: {reason}")
            if self.output is not None:
                self.add_event(f"remaining jobs skipped: {reason}")

    def recover(self, error: BaseException) -> bool:
        """After ``TargetNotRespondingError``: reconnect, else hard reset, else stop the run.

        WA3 does the same (reconnect, then a hard reset where the device has
        one) and then aborts; the remaining jobs are SKIPPED with the reason,
        and every finished job's results are already on disk.
        """
        from .device_recovery import recover_target

        outcome = recover_target(self.target, error,
                                 may_reset=self.settings.reboot_policy != "never")
        logger.warning("Device %s: %s", self.device, outcome.message)
        if self.output is not None:
            self.add_event(f"device {self.device}: {outcome.message}")
        if not outcome.recovered:
            reason = f"device {self.device!r} stopped responding ({error}); {outcome.message}"
            from .pool.worker import in_pool

            if in_pool(self.config):
                self.device_lost = reason  # the worker leaves after this job's reports
            else:
                self.stop(reason)
        return outcome.recovered

    def fail_spec(self, spec: JobSpec, reason: str) -> None:
        self._spec_failures.setdefault(spec_key(spec), reason)
