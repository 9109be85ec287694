"""The local target: this host, through real subprocesses.

Every command runs in its own process group (a new session), so a command that
times out or is interrupted is killed with everything it started; WA3 leaves
such processes running and they skew the next measurement.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable

from ..model.errors import CommandError, CommandTimeoutError, TargetError
from .base import DEFAULT_TIMEOUT, CommandResult, TargetProperties
from .local_facts import local_properties
from .protocols import refuses_reboot
from .values import ShellValues

KILL_GRACE = 2.0


def _kill_group(process: subprocess.Popen) -> None:
    """SIGTERM the command's process group, then SIGKILL what is left after a grace."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        if wait is None:
            break
        try:
            process.wait(wait)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # children that ignored SIGTERM
            return
        except subprocess.TimeoutExpired:
            continue


def _decode(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


class LocalBackgroundCommand:
    """A command running on this host in the background."""

    def __init__(self, command: str, process: subprocess.Popen, started: float) -> None:
        self.command = command
        self._process = process
        self._started = started

    def poll(self) -> int | None:
        return self._process.poll()

    def _result(self, stdout: bytes, stderr: bytes) -> CommandResult:
        return CommandResult(self.command, self._process.returncode, _decode(stdout),
                             _decode(stderr), time.monotonic() - self._started)

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        try:
            stdout, stderr = self._process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise CommandTimeoutError(self.command, timeout) from None
        return self._result(stdout, stderr)

    def stop(self) -> CommandResult:
        if self._process.poll() is None:
            _kill_group(self._process)
        stdout, stderr = self._process.communicate()
        return self._result(stdout, stderr)


class LocalTarget(ShellValues):
    """This host as a target. ``as_root`` uses sudo when not already root."""

    kind = "local"

    def __init__(self, name: str = "local", working_directory: str | None = None) -> None:
        self.name = name
        self._base_directory = working_directory
        self.working_directory = ""
        self._properties: TargetProperties | None = None

    # --- connection ---

    def connect(self) -> None:
        base = self._base_directory or tempfile.gettempdir()
        os.makedirs(base, exist_ok=True)
        self.working_directory = tempfile.mkdtemp(prefix="pytest-wa-run-", dir=base)

    def disconnect(self) -> None:
        if self.working_directory:
            shutil.rmtree(self.working_directory, ignore_errors=True)
            self.working_directory = ""

    def is_responsive(self) -> bool:
        return True

    # --- commands ---

    def _argv(self, command: str, as_root: bool) -> list[str]:
        argv = ["/bin/sh", "-c", command]
        if as_root and os.geteuid() != 0:
            argv = ["sudo", "-n", "--", *argv]
        return argv

    def _spawn(self, command: str, as_root: bool) -> subprocess.Popen:
        try:
            return subprocess.Popen(
                self._argv(command, as_root), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                cwd=self.working_directory or None)
        except OSError as exc:
            raise TargetError(f"cannot start {command!r}: {exc}") from exc

    def execute(self, command: str, *, timeout: float = DEFAULT_TIMEOUT, as_root: bool = False,
                check: bool = False) -> CommandResult:
        started = time.monotonic()
        process = self._spawn(command, as_root)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            stdout, _ = process.communicate()
            raise CommandTimeoutError(command, timeout, _decode(stdout)) from None
        except BaseException:  # Ctrl-C and friends: never leave the command running
            _kill_group(process)
            process.communicate()
            raise
        result = CommandResult(command, process.returncode, _decode(stdout), _decode(stderr),
                               time.monotonic() - started)
        if check and not result.ok:
            raise CommandError(command, result.exit_code, result.stdout, result.stderr)
        return result

    def background(self, command: str, *, as_root: bool = False) -> LocalBackgroundCommand:
        return LocalBackgroundCommand(command, self._spawn(command, as_root), time.monotonic())

    # --- files ---

    def read_files_here(self, paths: Iterable[str]) -> dict[str, str | None]:
        """Each path's content (stripped; globs expanded), or None where it cannot be read:
        what instruments ask a remote shell for, read by Python here (a few microseconds
        a file instead of a process a command); missing paths are left out."""
        found: dict[str, str | None] = {}
        for pattern in paths:
            matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
            for path in matches:
                if not os.path.lexists(path):
                    continue
                try:
                    with open(path, encoding="utf-8", errors="replace") as handle:
                        found[path] = handle.read().strip()
                except OSError:
                    found[path] = None
        return found

    def push(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._copy(source, destination)

    def pull(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._copy(source, destination)

    @staticmethod
    def _copy(source: str, destination: str) -> None:
        try:
            if os.path.isdir(source):
                shutil.copytree(source, destination, dirs_exist_ok=True)
            else:
                shutil.copy2(source, destination)
        except OSError as exc:
            raise TargetError(f"cannot copy {source} to {destination}: {exc}") from exc

    # --- power ---

    @refuses_reboot("the local target (the host pytest runs on)")
    def reboot(self, *, hard: bool = False, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Refused: rebooting the host would end the run itself."""
        raise TargetError("the local target is the host pytest runs on; it cannot be rebooted")

    # --- facts ---

    @property
    def properties(self) -> TargetProperties:
        """This host's facts, read once; what it cannot tell is recorded as absent (the
        run names it in run.log)."""
        if self._properties is None:
            self._properties = local_properties()
        return self._properties
