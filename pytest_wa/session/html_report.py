"""``--wa-html PATH``: the HTML report, written once the run directory is finished.

Called at the end of the session by whichever process finished the run
directory: a run of its own (plugin.py, after ``RunContext.finish``) or a
pool's controller (pool/controller.py, after its run files); never by a pool
worker. The report is built from the directory alone (pytest_wa/report/), so
both get the same one. Its baseline and thresholds are the session's
``--wa-baseline`` (as loaded before the run) and ``--wa-threshold``. A report
that cannot be written is one line in the summary: the results are already
safe on disk, and nothing here may change the session's outcome.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .state import session_notes


def _session_baseline(config: pytest.Config) -> Any:
    """The baseline ``--wa-baseline`` loaded before the run (its directory may since
    have been moved aside), so the report's verdicts are the session's; None
    without one."""
    check = config.pluginmanager.get_plugin("pytest-wa-baseline")
    return None if check is None else check.baseline


def write_html_report(config: pytest.Config, directory: Path) -> None:
    """The report of the run in ``directory``, if ``--wa-html`` asks for one."""
    path = config.getoption("wa_html", None)
    if not path:
        return
    notes = session_notes(config)
    target = Path(config.invocation_params.dir) / str(path)
    try:
        from ..report.writer import ReportError, write_report

        written, said = write_report(directory, target, _session_baseline(config),
                                     config.getoption("wa_threshold"))
    except ReportError as error:
        notes.append(f"HTML report not written: {error}")
    except Exception as error:  # a bug of ours: one line, and the run's results stay
        notes.append(f"HTML report not written: {type(error).__name__}: {error}")
    else:
        notes.extend(f"HTML report: {note}" for note in said)
        notes.append(f"HTML report in {written}")


def report_run(config: pytest.Config, run: Any) -> None:
    """After ``RunContext.finish``: the report, if this process owns the run's files."""
    output = getattr(run, "output", None)
    if output is not None and run.role.owns_run_files:
        write_html_report(config, Path(output.directory))
