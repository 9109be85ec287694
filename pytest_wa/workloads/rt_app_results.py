"""rt-app's results: WA3's metrics from what it printed, per-task statistics from its logs.

rt-app prints its calibration (``pLoad = 15ns : calib_cpu 0``) and tags its
messages (``[rt-app] <error> ...``, ``<crit>``): WA3 makes ``pLoad``,
``calib_cpu``, ``error_count`` and ``crit_count`` of them. Each thread also
writes ``<log_basename>-<task>-<thread>.log`` into the use case's ``logdir``:
one row per completed phase with its measured run time and period, and, for
a phase that waits on a timer, its slack (time left before the next period;
negative when it overran) and the wake-up latency after the timer. WA3 only
keeps those files; their statistics become per-task metrics here, classified
by task and thread.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator

from .tool import Reading

PLOAD = re.compile(r"pLoad = (\d+)(\w+)(?: : calib_cpu (\d+))?")
#: rt-app's message tags that WA3's error_count and crit_count count.
COUNTED_TAGS = (("error_count", "<error>"), ("crit_count", "<crit>"))
MICROSECONDS = "us"


def read_output(output: str) -> list[Reading]:
    """pLoad and calib_cpu (when rt-app calibrated), and the error and crit counts."""
    readings: list[Reading] = []
    calibration = PLOAD.search(output)
    if calibration is not None:
        readings.append(Reading("pLoad", int(calibration[1]), calibration[2]))
        if calibration[3] is not None:
            readings.append(Reading("calib_cpu", int(calibration[3])))
    lines = output.splitlines()
    for name, tag in COUNTED_TAGS:
        readings.append(Reading(name, sum(tag in line for line in lines), "count",
                                lower_is_better=True))
    return readings


def log_owner(file_name: str, log_basename: str) -> tuple[str, int] | None:
    """(task, thread) of a log file named ``<log_basename>-<task>-<thread>.log``."""
    found = re.fullmatch(re.escape(log_basename) + r"-(.+)-(\d+)\.log", file_name)
    return (found[1], int(found[2])) if found else None


def read_log(text: str) -> list[dict[str, int]]:
    """The rows of a thread's log, by the column names of its ``#idx ...`` header."""
    columns: list[str] = []
    rows: list[dict[str, int]] = []
    for line in text.splitlines():
        if line.startswith("#idx"):
            columns = line[1:].split()
        elif columns and line.strip() and not line.startswith("#"):
            values = [int(value) for value in line.split()]
            rows.append(dict(zip(columns, values, strict=False)))
    return rows


def task_readings(task: str, thread: int, rows: list[dict[str, int]]) -> list[Reading]:
    """One thread's statistics; the slack and wake-up ones only for timer-driven phases."""
    classifiers = {"task": task, "thread": thread}
    readings = [Reading("task_activations", len(rows), "count", classifiers=classifiers)]
    readings += _means(rows, (("task_run_mean", "run"), ("task_period_mean", "period")),
                       classifiers)
    timed = [row for row in rows if row.get("c_period", 0) > 0]
    readings += _timer_readings(timed, classifiers)
    return readings


def _means(rows: list[dict[str, int]], names: tuple[tuple[str, str], ...],
           classifiers: dict[str, object]) -> Iterator[Reading]:
    for name, column in names:
        values = [row[column] for row in rows if column in row]
        if values:
            yield Reading(name, statistics.fmean(values), MICROSECONDS,
                          classifiers=dict(classifiers))


def _timer_readings(rows: list[dict[str, int]],
                    classifiers: dict[str, object]) -> Iterator[Reading]:
    """Slack over the timer-driven phases; overruns are those with negative slack (the
    timer had expired: nothing to wake from), wake-up latency is over the others."""
    slack = [row["slack"] for row in rows if "slack" in row]
    if slack:
        yield Reading("task_slack_mean", statistics.fmean(slack), MICROSECONDS,
                      classifiers=dict(classifiers))
        yield Reading("task_slack_min", min(slack), MICROSECONDS, classifiers=dict(classifiers))
        yield Reading("task_overruns", sum(value < 0 for value in slack), "count",
                      lower_is_better=True, classifiers=dict(classifiers))
    latency = [row["wu_lat"] for row in rows if "wu_lat" in row and row.get("slack", 0) >= 0]
    if latency:
        yield Reading("task_wu_lat_mean", statistics.fmean(latency), MICROSECONDS,
                      lower_is_better=True, classifiers=dict(classifiers))
        yield Reading("task_wu_lat_max", max(latency), MICROSECONDS, lower_is_better=True,
                      classifiers=dict(classifiers))
