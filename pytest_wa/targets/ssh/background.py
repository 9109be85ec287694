"""A command left running on an SSH target (``SshTarget.background``)."""

from __future__ import annotations

import threading
import time
from typing import Protocol

from ...model.errors import CommandTimeoutError, TargetNotRespondingError
from ..base import DEFAULT_TIMEOUT, CommandResult
from ..remote_shell import KILL_TIMEOUT
from .session import RemoteCommand


class SshShell(Protocol):
    """What a background command needs of the shell that started it."""

    @property
    def address(self) -> str: ...

    def kill_groups(self, pids: list[int], *, as_root: bool = False) -> None: ...


class SshBackgroundCommand:
    """A command running on the target; its output is drained as it comes.

    Draining matters: a command whose output nobody reads blocks once the
    channel's window (2 MB) is full, and would stop doing its work.
    """

    def __init__(self, shell: SshShell, command: str, remote: RemoteCommand, as_root: bool,
                 started: float) -> None:
        self.command = command
        self._shell = shell
        self._remote = remote
        self._as_root = as_root
        self._started = started
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="pytest-wa-ssh-background",
                                        daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            self._remote.finish(None)
        finally:
            self.done.set()

    @property
    def pids(self) -> list[int]:
        """The process groups on the target (the root shell's last, through sudo)."""
        return list(self._remote.pids)

    @property
    def finished(self) -> bool:
        return self.done.is_set()

    @property
    def exit_code(self) -> int | None:
        return self._remote.exit_status if self.finished else None

    @property
    def output(self) -> str:
        return self._remote.stderr or self._remote.stdout

    def poll(self) -> int | None:
        if not self.finished:
            return None
        code = self._remote.exit_status
        if code is None:
            raise self._lost()
        return code

    def _lost(self) -> TargetNotRespondingError:
        return TargetNotRespondingError(
            f"{self._shell.address} is not responding: the connection dropped while running "
            f"{self.command!r}")

    def _result(self, code: int) -> CommandResult:
        return CommandResult(self.command, code, self._remote.stdout, self._remote.stderr,
                             time.monotonic() - self._started)

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        if not self.done.wait(timeout):
            self.stop()
            raise CommandTimeoutError(self.command, timeout, self._remote.stdout)
        self._remote.close()
        code = self._remote.exit_status
        if code is None:
            raise self._lost()
        return self._result(code)

    def stop(self) -> CommandResult:
        """Kill the command's process groups on the target; exit code -1 if it was killed."""
        if not self.finished:
            self._shell.kill_groups(self._remote.pids, as_root=self._as_root)
            if not self.done.wait(KILL_TIMEOUT):
                self._remote.close()
                self.done.wait(KILL_TIMEOUT)
        self._remote.close()
        code = self._remote.exit_status
        return self._result(-1 if code is None else code)
