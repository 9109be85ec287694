"""What every Android command shares: its process id, its output, its result.

Each command is wrapped so that its first stdout line names its process id
(``remote_shell``); the watcher takes it from the stream as it arrives, so
that a command that must stop can be killed on the device, and the result
leaves that line out.
"""

from __future__ import annotations

import time

from ..base import CommandResult
from ..remote_shell import split_pid_line
from .adb_client import ShellOutput


def decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class PidWatcher:
    """Takes the wrapped command's process id from the first stdout chunk(s)."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self._head = b""

    def __call__(self, chunk: bytes) -> None:
        if self.pid is None and len(self._head) < 64:
            self._head += chunk
            self.pid, _ = split_pid_line(self._head)


def shell_result(command: str, output: ShellOutput, started: float) -> CommandResult:
    """A finished command's result, without the wrapper's pid line."""
    _, stdout = split_pid_line(output.stdout)
    return CommandResult(command, output.exit_code, decode(stdout), decode(output.stderr),
                         time.monotonic() - started)
