"""``execution_time``: how long the workload's run stage took (WA3's instrument).

It wraps only the execute stage, as close to the workload as possible, so
setup and result extraction are not counted.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from .base import Instrument, Priority

if TYPE_CHECKING:
    from ..plugins.context import JobContext


class ExecutionTime(Instrument):
    name = "execution_time"
    description = "Adds the metric execution_time: seconds spent in the workload's run stage."
    priority = Priority.VERY_FAST

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        started = time.perf_counter()
        try:
            return (yield)
        finally:
            job.add_metric("execution_time", time.perf_counter() - started, "seconds",
                           lower_is_better=True)
