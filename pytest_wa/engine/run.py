"""One run as seen by one pytest process: its device, settings, plugins and output.

Created lazily by the first job item (never by ``--co`` or by a plain test
suite), kept in ``config.stash`` by the session, finished at session end.
It holds the run's state; the jobs' fates are decided in ``lifecycle.py``,
plugin registration lives in ``assembly.py``, the output directory in
``output_setup.py`` and device recovery in ``control/recovery.py``.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import TYPE_CHECKING, Any

from ..agenda.spec import RunSettings
from ..instruments.availability import PlannedInstrument, check_instruments
from ..model.errors import ConfigError, TargetError
from ..model.parameters import resolve_parameters
from ..model.results import Artifact, Metric, checked_number
from ..model.runlog import RUN_LOGGER
from .assembly import RunPlugins
from .autoiter import settle_unfinished
from .databases import add_database_writers, open_databases
from .progress import Progress, finalize_workloads, unfinished_status
from .role import RunRole
from .settings import merged_settings

if TYPE_CHECKING:
    import pytest

    from ..agenda.spec import JobSpec
    from ..model.errors import Location
    from ..output.plan import RunPlan
    from ..output.writer import RunWriter
    from ..targets.protocols import Target

logger = RUN_LOGGER


class RunContext:
    """One pytest-wa run in one pytest process."""

    def __init__(self, config: pytest.Config, device: str | None,
                 role: RunRole | None = None) -> None:
        self.config = config
        #: The device named on the command line (or by a pool); at start, else the
        #: agenda's WA3 device settings, else this host.
        self.device: str = device or ""
        self.role = role or RunRole()
        self.hook = config.hook
        self.started = False
        self.settings = RunSettings()  # merged with the command line at start
        self.plan: RunPlan | None = None
        self.output: RunWriter | None = None
        self.notes: list[str] = []
        self.progress = Progress()
        self.interrupted = False
        #: Set in a pool worker when its device is lost: the worker leaves and its
        #: remaining jobs go to other devices (pytest_wa/pool/worker.py).
        self.device_lost: str | None = None
        #: Collected job -> its pytest node id (pools: the plan the controller reads).
        self.nodeids: dict[int, str] = {}
        #: The workload class of each planned spec (spec key -> class), from collection.
        self.workload_classes: dict[Any, type] = {}
        #: Instruments some collected job enables, by name.
        self.instrument_plan: dict[str, PlannedInstrument] = {}
        #: Output processors some collected job enables, by name.
        self.processor_plan: dict[str, PlannedInstrument] = {}
        self.plugins = RunPlugins(config.pluginmanager)
        self._target: Target | None = None
        self._log_handler: Any = None

    @property
    def target(self) -> Target:
        if self._target is None:
            raise RuntimeError("the run has not started; no target is connected")
        return self._target

    @property
    def instruments(self) -> dict[str, Any]:
        return self.plugins.instruments

    def output_id(self, spec: JobSpec) -> str:
        """The job id the output uses (qualified when agendas of the session share ids)."""
        return self.plan.output_id(spec) if self.plan else spec.id

    def plan_instrument(self, name: str, cls: Any, config: dict[str, Any], source: str,
                        location: Location) -> None:
        """Remember an instrument or output processor that some collected job enables
        (first config wins), with its parameter values resolved (defaults filled in) once."""
        from ..processors import OutputProcessor

        plan = self.processor_plan if issubclass(cls, OutputProcessor) else self.instrument_plan
        if name not in plan:
            values = resolve_parameters(getattr(cls, "parameters", ()), dict(config))[0]
            plan[name] = PlannedInstrument(cls, values, source, location)

    # --- start ---

    def start(self) -> None:
        """Create and connect the target, check the run, open the output, enable the
        instruments, fire run_start."""
        if self.started:
            return
        self.settings = merged_settings(self.plan, self.config)
        self._choose_device()
        target = self._connect()
        try:
            self.plugins.add_device_control(self, self.workload_classes)
            instruments, left_out = self._usable_instruments(target)
            self.hook.pytest_wa_run_check(run=self)
            if self.plan is not None and self.plan.jobs:  # the wa_target fixture alone: none
                stores = open_databases(self)
                self._open_output()
                assert self.output is not None
                add_database_writers(self.plugins, stores, self.output)
        except BaseException:
            self.plugins.remove_all()
            self._target = None
            target.disconnect()
            raise
        self.started = True
        self.plugins.add_target_evidence(target)
        self._device_notes()
        self.plugins.add_instruments(instruments)
        self._add_processors()
        self._log_configuration()
        for note in left_out:
            logger.warning("%s", note)
        logger.info("Run started on device %s", self.device)
        self.hook.pytest_wa_run_start(run=self)

    def _usable_instruments(self, target: Target) -> tuple[list[Any], list[str]]:
        """The planned instruments that can work on this device, and notes on those
        left out; the run is refused over one that cannot work unless the agenda made it
        optional."""
        found = check_instruments(self.instrument_plan, target, self.device)
        if found.problems:
            raise ConfigError(found.problems)
        self.notes.extend(found.notes)
        return found.usable, found.notes

    def _add_processors(self) -> None:
        """The enabled output processors, given the default files they replace. In a
        pool the controller writes the run-level files; processors are not run there,
        and each worker says so in a warning (xdist shows workers' warnings)."""
        if not self.processor_plan or self.output is None:
            return
        if not self.output.owns_run_files:
            from ..processors.guard import ProcessorWarning

            warnings.warn(ProcessorWarning(
                "output processors are not run in a pool yet (the default results.csv "
                f"and status.txt are written): {', '.join(self.processor_plan)} left out"),
                stacklevel=1)
            return
        made = [plan.cls(source_directory=plan.source, **plan.values)
                for plan in self.processor_plan.values()]
        for processor in made:
            self.output.replaced.update(processor.replaces)
        self.plugins.add_processors(made)

    def _choose_device(self) -> None:
        """--wa-device (or the pool's device) wins over the agenda's WA3 device settings,
        with a notice; with neither, the run is on this host."""
        from ..devices.wa3 import agenda_device, use_agenda_device

        agenda = self.plan.agendas[0] if self.plan and self.plan.agendas else None
        named = self.settings.device if agenda else None
        if named and self.device:
            where = agenda.setting_locations.get("device", agenda.path) if agenda else ""
            self.notes.append(f"--wa-device {self.device} is used instead of the device the "
                              f"agenda names ({named}, {where})")
        elif named and agenda:
            entry = agenda_device(named, self.settings.device_config,
                                  agenda.setting_locations)
            if entry is not None:
                use_agenda_device(self.config, entry)
                self.device = entry.name
        self.device = self.device or "local"

    def _log_configuration(self) -> None:
        """run.log says which files configured the run (WA3's user config first)."""
        for agenda in self.plan.agendas if self.plan else ():
            self.notes.extend(note for note in agenda.notes if note not in self.notes)
            logger.info("Configuration read from %s", ", ".join(
                [*agenda.config_files, *(f for f in agenda.files
                                         if f not in agenda.config_files)]))

    def _connect(self) -> Target:
        target = self.hook.pytest_wa_make_target(config=self.config, device=self.device)
        if target is None:
            raise ConfigError(f"cannot use device {self.device!r}: unknown device "
                              f"{self.device!r}: no target kind provides it (built in: 'local')")
        try:
            target.connect()
        except TargetError as exc:
            raise TargetError(f"cannot use device {self.device!r}: {exc}") from exc
        self._target = target
        return target

    def _device_notes(self) -> None:
        from ..devices import resolve_device

        # A ConfigError: a conftest's own make_target supplied this device.
        with contextlib.suppress(ConfigError):
            self.notes.extend(resolve_device(self.config, self.device).notes)

    def _open_output(self) -> None:
        from .output_setup import open_run_output

        self.output, note = open_run_output(self)
        if note:
            self.notes.append(note)
        if self.role.owns_run_files:  # a worker's log is opened with its output
            self._attach_log()
        self.plugins.add_output(self.output)

    def ensure_output(self) -> None:
        """A pool worker writes its first file at its first job: by then the
        controller has prepared the run directory (it moves a previous run aside
        when collection is done, before it hands out any job)."""
        if self.output is not None and not getattr(self.output, "ready", True):
            self.output.open()  # type: ignore[attr-defined]
            self._attach_log()

    def _attach_log(self) -> None:
        from ..model.runlog import attach_run_log

        assert self.output is not None
        worker = self.role.worker
        log_name = f"run-{worker}.log" if worker else "run.log"
        self._log_handler = attach_run_log(self.output.directory / log_name)
        self._log_absent_facts()

    def _log_absent_facts(self) -> None:
        """Facts are information, not preconditions: one warning names each fact the
        device could not give (targets record them; run.log is open only now)."""
        absent = self.target.properties.absent
        if absent:
            listed = "; ".join(f"{fact} ({reason})" for fact, reason in absent.items())
            where = getattr(self.target, "address", None) or self.device  # for the reader
            logger.warning("%s: facts not available, recorded as absent: %s", where, listed)

    # --- run-level results ---

    def add_metric(self, name: str, value: Any, units: str | None = None, *,
                   lower_is_better: bool = False,
                   classifiers: dict[str, Any] | None = None) -> Metric:
        """Record a run-level metric (WA3: the run's result.json)."""
        metric = Metric(name, checked_number(name, value), units, lower_is_better,
                        dict(classifiers or {}))
        writer = self._writer()
        writer.result.metrics.append(metric)
        writer.write_result()
        return metric

    def add_artifact(self, name: str, path: str, kind: str = "data",
                     description: str | None = None,
                     classifiers: dict[str, Any] | None = None) -> Artifact:
        """Record a run-level file; ``path`` must lie inside the run directory."""
        from ..output.artifacts import make_artifact

        writer = self._writer()
        artifact = make_artifact(writer.directory, name, path, kind, description, classifiers)
        writer.result.artifacts.append(artifact)
        writer.write_result()
        return artifact

    def add_event(self, message: str) -> None:
        logger.warning("%s", message)
        self._writer().add_event(message)

    def _writer(self) -> RunWriter:
        if self.output is None:
            raise RuntimeError("the run has no output directory yet (it opens at run start)")
        return self.output

    # --- the device ---

    def recover(self, error: BaseException) -> str | None:
        """After ``TargetNotRespondingError``: reconnect, else hard reset (recovery.py).

        None when the device answers again; else why it is lost, for the
        lifecycle to decide what happens to the jobs still to come.
        """
        from ..control.recovery import recover_target

        outcome = recover_target(self.target, error,
                                 may_reset=self.settings.reboot_policy != "never")
        logger.warning("Device %s: %s", self.device, outcome.message)
        if self.output is not None:
            self.add_event(f"device {self.device}: {outcome.message}")
        if outcome.recovered:
            return None
        return f"device {self.device!r} stopped responding ({error}); {outcome.message}"

    # --- end ---

    def finish(self, interrupted: bool = False) -> None:
        """Finalize workloads, fire run_end, close the output, disconnect.

        Runs after an interrupt too: the output is closed whatever the hooks did.
        """
        if not self.started:
            return
        self.started = False
        self.interrupted = interrupted
        try:
            finalize_workloads(self.progress)
            settle_unfinished(self)
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
                status = self.output.finish(run_name=self.settings.run_name,
                                            settle=unfinished_status)
                logger.info("Run finished: %s", status.name)
                self._run_output()
                if self.role.owns_run_files:
                    self.notes.append(f"results in {self.output.directory} (run {status.name})")
        finally:
            self.plugins.remove_all()
            if self._log_handler is not None:
                from ..model.runlog import detach_run_log

                detach_run_log(self._log_handler)
            if self._target is not None:
                self._target.disconnect()
            self.plugins.finalize_processors()

    def _run_output(self) -> None:
        """The run's results are final and the output still open: output processors and
        ``pytest_wa_run_output`` hooks. A conftest hook that fails is reported as
        ``pytest_wa_run_end`` ones are (processors are guarded one by one)."""
        try:
            self.hook.pytest_wa_run_output(run=self)
        except Exception as exc:
            message = f"a pytest_wa_run_output hook failed: {type(exc).__name__}: {exc}"
            self.notes.append(message)
            self.add_event(message)
            warnings.warn(message, stacklevel=1)
