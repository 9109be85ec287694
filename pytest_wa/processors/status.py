"""``status``: WA3's status.txt, the run's status and a line per job.

pytest-wa writes a ``status.txt`` for every run already, in WA3's format.
Enabling ``status`` hands that file to this processor, which writes it as
WA3's processor does to the letter (only OK jobs count as "completed without
error", an unset run name is "None") and records it as the run's ``run_status_summary`` artifact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.runlog import RUN_LOGGER
from ..output.atomic import write_atomic
from ..output.textfiles import status_text
from .base import OutputProcessor

if TYPE_CHECKING:
    from ..plugins.context import RunView

FILE = "status.txt"


class Status(OutputProcessor):
    name = "status"
    description = """
    Writes status.txt, the run's status and a line per job.

    The run's name, status and date, its events, how many jobs completed without
    error, and one line per job (id, workload, iteration, status, first event).
    """
    replaces = (FILE,)

    def pytest_wa_run_output(self, run: RunView) -> None:
        writer = run.output
        assert writer is not None
        path = writer.directory / FILE
        run_name = str(writer.info.get("run_name"))  # WA3 prints an unset name as None
        write_atomic(path, status_text(run_name, writer.status, writer.result.events,
                                       writer.order, ok_only=True))
        RUN_LOGGER.info("Status available in %s", path)
        if writer.owns_run_files:
            run.add_artifact("run_status_summary", FILE, "export")
