"""The value types every target kind shares: a command's result, a device's facts.

Every call that touches the target takes a timeout (``DEFAULT_TIMEOUT`` when
the caller gives none); nothing waits forever. What a target can do is
declared in ``protocols.py`` (the package ``pytest_wa.targets`` exports both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True)
class CommandResult:
    """What a finished command left: its exit code and both output streams."""

    command: str
    exit_code: int
    stdout: str
    stderr: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class TargetProperties:
    """Facts about a target, recorded with every run (WA3's target_info)."""

    os: str
    kernel: str
    abi: str
    cpus: int
    hostname: str
    model: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: The facts the device could not give (a missing tool or file), each with the reason.
    #: They are still present above, empty: "" for text, 0 CPUs, None in ``extra``.
    absent: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"os": self.os, "kernel": self.kernel, "abi": self.abi, "cpus": self.cpus,
                "hostname": self.hostname, "model": self.model, **self.extra}
