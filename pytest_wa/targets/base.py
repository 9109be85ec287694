"""What a target can do, as small protocols (labgrid-style), plus shared value types.

A workload or instrument asks only for the capability it needs
(``CommandRunner`` to run a command, ``FileTransfer`` to move files...).
Every call that touches the target takes a timeout; nothing waits forever.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

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

    def as_dict(self) -> dict[str, Any]:
        return {"os": self.os, "kernel": self.kernel, "abi": self.abi, "cpus": self.cpus,
                "hostname": self.hostname, "model": self.model, **self.extra}


class BackgroundCommand(Protocol):
    """A command started with ``background``; ``stop`` kills it and all it started."""

    def poll(self) -> int | None: ...
    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> CommandResult: ...
    def stop(self) -> CommandResult: ...


@runtime_checkable
class Connection(Protocol):
    name: str

    def connect(self) -> None: ...
    def disconnect(self) -> None: ...
    def is_responsive(self) -> bool: ...


@runtime_checkable
class CommandRunner(Protocol):
    def execute(self, command: str, *, timeout: float = DEFAULT_TIMEOUT, as_root: bool = False,
                check: bool = False) -> CommandResult: ...
    def background(self, command: str, *, as_root: bool = False) -> BackgroundCommand: ...


@runtime_checkable
class FileTransfer(Protocol):
    def push(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT
             ) -> None: ...
    def pull(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT
             ) -> None: ...


@runtime_checkable
class ValueAccess(Protocol):
    """sysfs/procfs-style files: one value each."""

    def read_value(self, path: str) -> str: ...
    def write_value(self, path: str, value: object, *, verify: bool = True) -> None: ...


@runtime_checkable
class Power(Protocol):
    def reboot(self, *, hard: bool = False, timeout: float = DEFAULT_TIMEOUT) -> None: ...


@runtime_checkable
class Target(Connection, CommandRunner, FileTransfer, ValueAccess, Power, Protocol):
    """Everything a device under test offers; each target kind implements it all."""

    working_directory: str

    @property
    def properties(self) -> TargetProperties: ...
