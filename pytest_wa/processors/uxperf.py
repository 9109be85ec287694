"""``uxperf``: how long each marked UI action took, from the UX_PERF lines of a job's logcat
(WA3's processor).

WA3's UI automation logs ``<action> start <ns>`` and ``<action> end <ns>``
(System.nanoTime) with the tag ``UX_PERF`` around each action it measures;
any app, script or ``log -t UX_PERF ...`` may log them too. Each start and
the next end of the same action make one ``<action>_duration`` metric, in
microseconds, lower is better. The log read is the job's ``logcat`` artifact
(``logcat.log``, ``logcat -v threadtime``), which an Android device saves for
every job. A job without one is skipped with an event; a malformed marker is
an event and the other markers still count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from ..model.runlog import RUN_LOGGER
from .base import OutputProcessor

if TYPE_CHECKING:
    from ..plugins.context import JobContext

TAG = "UX_PERF"
UNITS = "microseconds"
#: A threadtime line: date, time, pid, tid, priority, tag; the message after ": ".
_LINE = re.compile(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+\d+\s+\d+\s+[VDIWEFAS]\s+(?P<tag>.*?)\s*"
                   r": (?P<message>.*)$")


@dataclass(frozen=True)
class Duration:
    """One start/end pair of an action."""

    action: str
    microseconds: float


def markers(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(when, message) of each UX_PERF line, ``when`` as logcat printed it."""
    for line in lines:
        match = _LINE.match(line.strip())
        if match and match["tag"] == TAG:
            yield line.strip()[:18], match["message"].strip()


def durations(lines: Iterable[str], problems: list[str]) -> list[Duration]:
    """Each action's start/end pairs in the log's order; what does not pair up, or does not
    read as ``<action> start|end <nanoseconds>``, is said in ``problems``."""
    started: dict[str, int] = {}
    found: list[Duration] = []
    for when, message in markers(lines):
        parts = message.split()
        if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
            problems.append(f"unexpected UX_PERF message at {when}: {message}")
            continue
        action, state, nanoseconds = parts[0], parts[1], int(parts[2])
        if state == "start":
            if action in started:
                problems.append(f"{action} started again at {when} before it ended "
                                "(the later start counts)")
            started[action] = nanoseconds
        elif state == "end":
            if action not in started:
                problems.append(f"{action} ended at {when} without a start")
                continue
            found.append(Duration(action, (nanoseconds - started.pop(action)) / 1000))
        else:
            problems.append(f"unexpected UX_PERF state {state!r} at {when}: {message}")
    problems.extend(f"{action} started and never ended" for action in started)
    return found


class Uxperf(OutputProcessor):
    name = "uxperf"
    description = """
    Durations of the UI actions a job marked with UX_PERF lines in its logcat.

    Each "<action> start <ns>" line of tag UX_PERF and the next "<action> end <ns>"
    make a metric <action>_duration in microseconds (lower is better). WA3's UI
    automation logs these markers when a workload's markers_enabled is true; any
    program may log them (log -t UX_PERF "scroll start $(date +%s%N)").
    """

    @pytest.hookimpl(tryfirst=True)  # before csv, sqlite...: they see the metrics
    def pytest_wa_job_output(self, job: JobContext) -> None:
        log = next((a for a in job.artifacts if a.name == "logcat"), None)
        if log is None or job.output_directory is None:
            RUN_LOGGER.warning("uxperf: job %s has no logcat; skipped", job.output_id)
            job.add_event("uxperf: skipped: the job has no logcat (artifact logcat: an "
                          "Android device's logcat.log, or the logcat instrument's)")
            return
        problems: list[str] = []
        path = job.output_directory / log.path
        with open(path, encoding="utf-8", errors="replace") as handle:
            found = durations(handle, problems)
        for duration in found:
            job.add_metric(f"{duration.action}_duration", duration.microseconds, UNITS,
                           lower_is_better=True)
        for problem in problems:
            RUN_LOGGER.warning("uxperf: job %s: %s", job.output_id, problem)
            job.add_event(f"uxperf: {problem}")
