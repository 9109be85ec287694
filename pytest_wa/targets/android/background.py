"""A command left running on an Android device (``AndroidTarget.background``)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from ...model.errors import CommandTimeoutError
from ..base import DEFAULT_TIMEOUT, CommandResult
from .adb_client import ShellOutput
from .shell import PidWatcher, shell_result

#: Kills a process group on the device, given the command's pid (None: not known yet).
Kill = Callable[[int | None], None]


class AndroidBackgroundCommand:
    """A device command whose output is read by a thread while it runs.

    ``conn`` is the shell v2 stream the command was started on; ``kill``
    stops it on the device (closing the stream alone would leave it running).
    """

    def __init__(self, command: str, conn: Any, kill: Kill) -> None:
        self.command = command
        self._conn = conn
        self._kill = kill
        self._started = time.monotonic()
        self._watcher = PidWatcher()
        self._output: ShellOutput | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, daemon=True,
                                        name=f"pytest-wa adb background {command[:30]}")
        self._thread.start()

    def _read(self) -> None:
        try:
            self._output = self._conn.read_shell(float("inf"), self._watcher)
        except BaseException as exc:  # noqa: BLE001 - reported by wait()/stop()
            self._error = exc
        finally:
            self._conn.close()

    def poll(self) -> int | None:
        return self._output.exit_code if self._output is not None else None

    def _result(self) -> CommandResult:
        if self._output is None:
            stdout = getattr(self._error, "stdout", b"")
            stderr = getattr(self._error, "stderr", b"")
            self._output = ShellOutput(255, stdout, stderr)
        return shell_result(self.command, self._output, self._started)

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.stop()
            raise CommandTimeoutError(self.command, timeout)
        return self._result()

    def stop(self) -> CommandResult:
        """Kill the command on the device, once its pid is known (5 s at most)."""
        if self._thread.is_alive():
            deadline = time.monotonic() + 5
            while self._watcher.pid is None and time.monotonic() < deadline \
                    and self._thread.is_alive():
                time.sleep(0.01)
            self._kill(self._watcher.pid)
            self._thread.join(10)
            if self._thread.is_alive():
                with contextlib.suppress(OSError):
                    self._conn.sock.shutdown(2)
                self._thread.join(5)
        return self._result()
