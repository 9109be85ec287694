"""Before the first job: every program the planned workloads need is on hand.

A missing program found only when its spec's first job starts would cost the
jobs before it and leave the run half done; here the whole plan is checked
against the connected device at ``pytest_wa_run_check``, and every missing
program is one located error, before anything is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ..agenda.spec import spec_key
from ..model.errors import ConfigError, Problem
from ..targets.linux_facts import abi_of
from .resources import locate, missing_message
from .tool import ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import RunView


class ToolCheck:
    """A plugin of the run: refuses it when a planned workload's program is missing."""

    def __init__(self, classes: dict[Any, type]) -> None:
        self.classes = classes  # spec key -> workload class, for the planned jobs

    @pytest.hookimpl(trylast=True)
    def pytest_wa_run_check(self, run: RunView) -> None:
        if run.plan is None:
            return
        problems: list[Problem] = []
        found: dict[tuple[str, str | None], bool] = {}  # (program, binary) -> found
        for spec in {spec_key(p.job.spec): p.job.spec for p in run.plan.jobs}.values():
            cls = self.classes.get(spec_key(spec))
            if cls is not None and issubclass(cls, ToolWorkload):
                problems.extend(self._missing(spec, cls, run, found))
        if problems:
            raise ConfigError(problems)

    @staticmethod
    def _missing(spec: Any, cls: type[ToolWorkload], run: RunView,
                 found: dict[tuple[str, str | None], bool]) -> list[Problem]:
        """One problem per program of ``spec`` that nothing has."""
        problems = []
        tools = cls.tools_for(spec.workload_parameters)
        for tool in tools:
            binary = spec.workload_parameters.get("binary") if tool is tools[0] else None
            key = (tool.name, binary)
            if key not in found:
                found[key] = locate(tool, cls.name, run.target, run.config, binary) is not None
            if not found[key]:
                problems.append(Problem(spec.location, f"{spec.id} ({cls.name})", missing_message(
                    tool, cls.name, run.device, run.config, abi_of(run.target.properties.abi),
                    binary)))
        return problems
