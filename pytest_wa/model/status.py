"""WA job statuses and how each one appears in pytest.

Values are WA3's (``Status`` levels), so that they serialise exactly as WA3
writes them. NONCRITICAL comes from WA2 (only teardown failed) and is given
the next free value.
"""

from __future__ import annotations

import enum


class JobStatus(enum.IntEnum):
    UNKNOWN = 0
    NEW = 1
    PENDING = 2
    STARTED = 3
    CONNECTED = 4
    INITIALIZED = 5
    RUNNING = 6
    OK = 7
    PARTIAL = 8
    FAILED = 9
    ABORTED = 10
    SKIPPED = 11
    NONCRITICAL = 12

    def __str__(self) -> str:
        return self.name

    @property
    def is_final(self) -> bool:
        return self >= JobStatus.OK

    @property
    def passed(self) -> bool:
        """Whether pytest counts the job as passed."""
        return self in (JobStatus.OK, JobStatus.NONCRITICAL)


# pytest category, short letter and colour for each final status in the terminal.
TERMINAL: dict[JobStatus, tuple[str, str, str]] = {
    JobStatus.OK: ("passed", ".", "green"),
    JobStatus.NONCRITICAL: ("passed", "N", "yellow"),
    JobStatus.PARTIAL: ("failed", "P", "red"),
    JobStatus.FAILED: ("failed", "F", "red"),
    JobStatus.ABORTED: ("failed", "A", "red"),
    JobStatus.SKIPPED: ("skipped", "s", "yellow"),
}

SUMMARY_ORDER = (JobStatus.OK, JobStatus.NONCRITICAL, JobStatus.PARTIAL, JobStatus.FAILED,
                 JobStatus.ABORTED, JobStatus.SKIPPED)
