"""The state of one run in one pytest process: target, workloads, instruments.

Created lazily by the first job item (never by ``--co`` or by a plain test
suite), kept in ``config.stash``, finished at session end. Under xdist every
worker has its own RunContext and its own device.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .instruments import registration_order
from .instruments.guard import guarded_plugin
from .parameters import resolve_parameters

if TYPE_CHECKING:
    import pytest

    from .agenda.spec import JobSpec
    from .job import JobContext
    from .targets.base import Target
    from .workloads.base import Workload


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
            raise ConfigError(f"unknown device {self.device!r}: no target kind provides it "
                              "(built in: 'local')")
        target.connect()
        self._target = target
        self.started = True
        self._register_instruments()
        self.hook.pytest_wa_run_start(run=self)

    def plan_instrument(self, name: str, cls: Any, config: dict[str, Any], source: str
                        ) -> None:
        """Remember an instrument that some collected job enables (first config wins)."""
        self.instrument_plan.setdefault(name, (cls, config, source))

    def _register_instruments(self) -> None:
        instances = [cls(source_directory=source,
                         **resolve_parameters(cls.parameters, dict(config))[0])
                     for cls, config, source in self.instrument_plan.values()]
        for instrument in registration_order(instances):
            plugin = guarded_plugin(instrument)
            self.config.pluginmanager.register(plugin, f"pytest-wa-instrument-{instrument.name}")
            self.instruments[instrument.name] = plugin

    def finish(self) -> None:
        """Finalize workloads, fire run_end, unregister instruments, disconnect."""
        if not self.started:
            return
        self.started = False
        try:
            for workload, context in reversed(self._initialized):
                self._finalize(workload, context)
            self.hook.pytest_wa_run_end(run=self)
        finally:
            for instrument in self.instruments.values():
                self.config.pluginmanager.unregister(instrument)
            self.instruments.clear()
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
        return self._spec_failures.get(spec_key(spec))

    def fail_spec(self, spec: JobSpec, reason: str) -> None:
        self._spec_failures.setdefault(spec_key(spec), reason)
