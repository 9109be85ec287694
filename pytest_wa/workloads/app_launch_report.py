"""Reading ``am start -W``'s launch report, as Android 7 to 14 print it.

Android 7-9 report ``ThisTime``, ``TotalTime`` and ``WaitTime``; Android 10
added ``LaunchState`` (COLD, WARM, HOT) and dropped ``ThisTime``. A start that
fails prints ``Error: ...`` (and often ``Error type N``) and still exits 0,
so the report, not the exit status, says whether the app started. A start
that only brought a running task to the front prints a ``Warning:`` and may
have no times at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FIELD = re.compile(r"^(?P<key>Status|LaunchState|Activity|ThisTime|TotalTime|WaitTime):"
                    r"\s*(?P<value>.*?)\s*$", re.MULTILINE)
_PROBLEM = re.compile(r"^(Error.*|Exception.*)$", re.MULTILINE)
_WARNING = re.compile(r"^Warning: (.*)$", re.MULTILINE)

#: Report field -> WA-style metric name (milliseconds, lower is better).
TIMES = {"TotalTime": "total_time", "WaitTime": "wait_time", "ThisTime": "this_time"}


@dataclass(frozen=True)
class LaunchReport:
    status: str | None
    launch_state: str | None
    activity: str | None
    times: dict[str, int]  # metric name -> milliseconds
    problems: list[str]  # Error lines: the app did not start
    warnings: list[str]


def read_report(text: str) -> LaunchReport:
    """The launch report in ``am start -W``'s output (any Android 7-14 layout)."""
    fields = {m["key"]: m["value"] for m in _FIELD.finditer(text)}
    times = {metric: int(fields[key]) for key, metric in TIMES.items()
             if fields.get(key, "").lstrip("-").isdigit()}
    state = fields.get("LaunchState")
    return LaunchReport(fields.get("Status"), state.split()[0] if state else None,
                        fields.get("Activity"), times,
                        [m.group(1) for m in _PROBLEM.finditer(text)],
                        _WARNING.findall(text))


def failure(report: LaunchReport) -> str | None:
    """Why the launch did not happen, or None if it did."""
    if report.problems:
        return "; ".join(report.problems)
    if report.status not in (None, "ok"):
        return f"Status: {report.status}"
    if "total_time" not in report.times:
        detail = f" ({'; '.join(report.warnings)})" if report.warnings else ""
        return f"am start -W reported no TotalTime{detail}"
    return None
