"""``write_report``: a finished run directory (and a baseline) to one HTML file.

The run is read once (``RunOutput``); its metrics are gathered as ``compare``
gathers them; the page is written atomically, so a report that fails half
way never replaces a good one. Every problem a user can cause (no run there,
an unwritable path) is a ``ReportError`` with a one-line message.
"""

from __future__ import annotations

import datetime
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..compare.runs import RunMetrics, from_output
from ..output.atomic import write_atomic
from ..output.reader import RunOutput, RunOutputError
from . import gather, instruments
from .metrics import metric_rows
from .page import render


class ReportError(Exception):
    """The report cannot be written; the message is one line for the user."""


def report_data(run: RunOutput, report: Path, baseline: str | RunMetrics | None = None,
                thresholds: Sequence[str] = (), db: str | None = None) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data."""
    devices: list[str] = []
    jobs = gather.job_rows(run, devices)
    this = from_output(run, str(run.path))
    rows = metric_rows(this, {job.id: job.label for job in run.jobs})
    compared = None
    if baseline:
        from .baseline import attach

        compared = attach(rows, this, baseline, thresholds, db)
    generated = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return {"run": gather.run_summary(run, gather.href_base(run.path, report)),
            "generated": generated, "statuses": gather.status_counts(run),
            "devices": devices, "jobs": jobs, "left_out": this.left_out,
            "metrics": [row for _, row in rows], "baseline": compared,
            "residency": instruments.residencies(rows, Counter(
                job.id for job in run.jobs if instruments.counted(job.status))),
            "energy": instruments.energy(rows),
            "temperature": instruments.temperatures(run, jobs, devices)}


def notes(data: dict[str, Any]) -> list[str]:
    """What the user must hear of a report written anyway (an unusable baseline)."""
    compared = data.get("baseline") or {}
    if compared.get("error"):
        return [f"baseline {compared['name']} not shown: {compared['error']}"]
    return [compared["note"]] if compared.get("note") else []


def write_report(run_directory: str | os.PathLike[str], report: str | os.PathLike[str],
                 baseline: str | RunMetrics | None = None, thresholds: Sequence[str] = (),
                 db: str | None = None) -> tuple[Path, list[str]]:
    """Write the report of the run in ``run_directory`` to ``report``: its path, and
    notes for the user (``notes``). ``baseline`` as ``baseline.attach`` takes it."""
    target = Path(report)
    if target.is_dir():
        raise ReportError(f"{target}: is a directory (give the report's file name)")
    try:
        run = RunOutput(run_directory)
    except RunOutputError as error:
        raise ReportError(str(error)) from None
    except OSError as error:
        raise ReportError(f"{run_directory}: {error.strerror or error}") from None
    data = report_data(run, target, baseline, thresholds, db)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, render(data))
    except OSError as error:
        raise ReportError(f"{target}: cannot write the report: "
                          f"{error.strerror or error}") from None
    return target, notes(data)
