"""Output processors: WA3's cpustates, csv, postgres, sqlite, status, targz and uxperf,
and their guard.

A processor is a plugin whose methods are plain ``pytest_wa_*`` hook
implementations: ``pytest_wa_job_output`` for each job once its results are
final, ``pytest_wa_run_output`` once the run's are. Agendas enable processors
by name in ``augmentations`` beside instruments, as WA3 does.
"""

from __future__ import annotations

from .base import OutputProcessor


def builtin_output_processors() -> list[type]:
    """The output processors pytest-wa ships (imported when a catalog is built)."""
    from .cpustates import CpuStates
    from .csvproc import Csv
    from .postgres import Postgres
    from .sqliteproc import Sqlite
    from .status import Status
    from .targz import Targz
    from .uxperf import Uxperf

    return [CpuStates, Csv, Postgres, Sqlite, Status, Targz, Uxperf]


__all__ = ["OutputProcessor", "builtin_output_processors"]
