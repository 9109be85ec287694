"""The output directory as a plugin of pytest-wa's own hooks (like WA's output processors).

It gives each job its directory before anything else sees the job, and writes
the job's result after every other ``pytest_wa_job_output`` implementation
(which may still add metrics or artifacts) has run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ..output.pods import encode_time
from ..output.writer import now

if TYPE_CHECKING:
    from ..output.writer import RunWriter
    from ..plugins.context import JobContext


class OutputRecorder:
    def __init__(self, writer: RunWriter) -> None:
        self.writer = writer

    @pytest.hookimpl(tryfirst=True)
    def pytest_wa_job_start(self, job: JobContext) -> None:
        job.output_directory = self.writer.job_started(job.output_id, job.label, job.iteration)

    @pytest.hookimpl(trylast=True)
    def pytest_wa_job_output(self, job: JobContext) -> None:
        self.writer.job_finished(job.output_id, job.label, job.iteration, job.status,
                                 job.metrics, job.artifacts, job.events, job.classifiers,
                                 {"workload": job.spec.workload_name,
                                  "agenda": job.spec.agenda, "device": job.run.device,
                                  "duration": job.duration,
                                  # When the device was busy with the job (pools: one
                                  # job at a time per device, checkable from the output).
                                  "start_time": encode_time(job.start_time)
                                  if job.start_time else None,
                                  "end_time": encode_time(now()),
                                  # --wa-baseline's per-metric thresholds (the agenda's),
                                  # kept with the run so every comparison of it uses them
                                  **({"thresholds": job.spec.thresholds}
                                     if job.spec.thresholds else {})})
