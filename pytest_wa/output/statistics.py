"""``statistics.csv``: every metric's statistics over its spec's iterations, in the run directory.

Written when the run's output closes, from the jobs' own ``result.json`` files
(so a resumed run and a pool run get the same file as a run in one go), for
the analyst who opens the directory and for the HTML report. Only OK and
NONCRITICAL iterations count (``failed`` says how many others reported the
metric). Metrics are told apart by their classifiers, so the per-CPU values
of one job are separate rows.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..model.status import JobStatus
from ..stats import summarize
from .atomic import write_atomic
from .reader import RunOutput

FILE = "statistics.csv"
COLUMNS = ("id", "label", "metric", "classifiers", "units", "lower_is_better", "n", "failed",
           "mean", "median", "stdev", "cv", "ci_low", "ci_high", "min", "max", "outliers",
           "trend_p", "unstable")
_COUNTED = (JobStatus.OK, JobStatus.NONCRITICAL)

Key = tuple[str, str, str, str]


def _series(run: RunOutput) -> tuple[dict[Key, list[float]], dict[Key, int],
                                     dict[Key, tuple[str, bool]]]:
    values: dict[Key, list[float]] = {}
    failed: dict[Key, int] = {}
    about: dict[Key, tuple[str, bool]] = {}
    for job in sorted(run.jobs, key=lambda j: j.iteration):
        for metric in job.metrics:
            key = (job.id, job.label, metric.name,
                   json.dumps(metric.classifiers, sort_keys=True, default=str))
            about.setdefault(key, (metric.units or "", bool(metric.lower_is_better)))
            if job.status in _COUNTED:
                values.setdefault(key, []).append(float(metric.value))
            else:
                failed[key] = failed.get(key, 0) + 1
                values.setdefault(key, [])
    return values, failed, about


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def statistics_rows(run: RunOutput) -> list[dict[str, Any]]:
    """A row per (job id, label, metric, classifiers), in the order the jobs ran."""
    values, failed, about = _series(run)
    rows = []
    for key, series in values.items():
        units, lower = about[key]
        row: dict[str, Any] = dict(zip(COLUMNS[:4], key, strict=True))
        row.update(units=units, lower_is_better=lower, n=len(series),
                   failed=failed.get(key, 0))
        if series:
            summary = summarize(series)
            low, high = summary.ci or (None, None)
            row.update(mean=summary.mean, median=summary.median, stdev=summary.stdev,
                       cv=summary.cv, ci_low=low, ci_high=high, min=summary.minimum,
                       max=summary.maximum,
                       outliers=" ".join(str(i + 1) for i in summary.outliers),
                       trend_p=summary.trend_p, unstable="; ".join(summary.problems()))
        rows.append(row)
    return rows


def write_statistics(directory: Path) -> Path:
    """``statistics.csv`` for the run in ``directory``; its path."""
    buffer = io.StringIO()
    table = csv.writer(buffer, lineterminator="\n")
    table.writerow(COLUMNS)
    for row in statistics_rows(RunOutput(directory)):
        table.writerow([_cell(row.get(column)) for column in COLUMNS])
    path = directory / FILE
    write_atomic(path, buffer.getvalue())
    return path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number(value)
    return str(value)
