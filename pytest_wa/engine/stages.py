"""pytest-wa's own implementations of its hooks: the work each stage does.

They are ``trylast`` so that a conftest or an installed plugin can replace a
factory (first result wins) or wrap a stage (wrappers always surround these).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target


class CoreStages:
    """Calls the workload's lifecycle method for each stage hook."""

    @pytest.hookimpl(trylast=True)
    def pytest_wa_job_setup(self, job: JobContext) -> None:
        job.workload.setup(job)

    @pytest.hookimpl(trylast=True)
    def pytest_wa_job_execute(self, job: JobContext) -> None:
        job.workload.run(job)

    @pytest.hookimpl(trylast=True)
    def pytest_wa_job_extract_results(self, job: JobContext) -> None:
        job.workload.extract_results(job)

    @pytest.hookimpl(trylast=True)
    def pytest_wa_job_teardown(self, job: JobContext) -> None:
        job.workload.teardown(job)

    @pytest.hookimpl(trylast=True)
    def pytest_wa_make_target(self, config: pytest.Config, device: str) -> Target | None:
        from ..devices import resolve_device
        from ..devices.factory import build_target

        return build_target(resolve_device(config, device))
