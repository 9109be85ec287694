"""Which plugins serve a run, and the one place they are registered and removed.

A run is served by pluggy plugins besides the user's conftest files: the
reboot policy and runtime parameters (per-job device control), the target
kind's own per-job work (Android evidence), the output recorder and the
enabled instruments. They are registered when the run starts and removed
when it ends, whatever happened in between.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ..instruments import registration_order
from ..instruments.guard import guarded_plugin
from ..processors.guard import guarded_processor, report_failure

if TYPE_CHECKING:
    import pytest

    from ..plugins.context import RunView

OUTPUT_PLUGIN = "pytest-wa-output"


class RunPlugins:
    """The plugins one run registered, so that they can all be removed again."""

    def __init__(self, pluginmanager: pytest.PytestPluginManager) -> None:
        self.pluginmanager = pluginmanager
        self.registered: list[Any] = []
        #: The enabled instruments by name, as registered (guarded) with pluggy.
        self.instruments: dict[str, Any] = {}
        #: The enabled output processors (unguarded instances), for ``finalize``.
        self.processors: list[Any] = []

    def add(self, plugin: Any, name: str) -> None:
        self.pluginmanager.register(plugin, name)
        self.registered.append(plugin)

    def add_device_control(self, run: RunView, workload_classes: dict[Any, type]) -> None:
        """Reboot policy, runtime parameters and the workloads' programs: what every run
        checks before its first job, and per-job work it does.

        The reboot plugin's job_start is tryfirst, so a reboot comes before the
        runtime parameters are applied. The runtime-parameter machinery is
        imported only when some planned job has runtime parameters: it is a
        fifth of the plugin's import time, paid again by every xdist worker.
        """
        from ..control.reboot import RebootPolicyPlugin
        from ..workloads.check import ToolCheck

        self.add(RebootPolicyPlugin(run), "pytest-wa-reboot")
        self.add(ToolCheck(workload_classes), "pytest-wa-tool-check")
        if run.plan is not None and any(p.job.spec.runtime_parameters for p in run.plan.jobs):
            from ..runtime.plugin import RuntimeParametersPlugin

            self.add(RuntimeParametersPlugin(run), "pytest-wa-runtime")

    def add_target_evidence(self, target: Any) -> None:
        """A device that has a log and a screen leaves them with its jobs (Android)."""
        from ..targets.protocols import Logcat, Screens

        if isinstance(target, Logcat) and isinstance(target, Screens):
            from ..control.evidence import AndroidJobEvidence, EvidenceTarget

            self.add(AndroidJobEvidence(cast(EvidenceTarget, target)), "pytest-wa-target-jobs")

    def add_output(self, writer: Any) -> None:
        from .recorder import OutputRecorder

        self.add(OutputRecorder(writer), OUTPUT_PLUGIN)

    def add_instruments(self, instances: list[Any]) -> None:
        """The enabled instruments, in priority order (instruments/__init__.py says why)."""
        for instrument in registration_order(instances):
            plugin = guarded_plugin(instrument)
            self.add(plugin, f"pytest-wa-instrument-{instrument.name}")
            self.instruments[instrument.name] = plugin

    def add_processors(self, instances: list[Any]) -> None:
        """The enabled output processors, each guarded (processors/guard.py)."""
        for processor in instances:
            self.add(guarded_processor(processor), f"pytest-wa-processor-{processor.name}")
            self.processors.append(processor)

    def finalize_processors(self) -> None:
        """Each processor's last word, once the output is closed; a failure is reported."""
        for processor in self.processors:
            try:
                processor.finalize()
            except Exception as exc:
                report_failure(processor, "finalize", exc, None)
        self.processors.clear()

    def remove_all(self) -> None:
        for plugin in reversed(self.registered):
            self.pluginmanager.unregister(plugin)
        self.registered.clear()
        self.instruments.clear()
