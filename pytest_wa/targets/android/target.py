"""The Android target: a phone (or the simulated device) through the adb server.

Shell commands go through ``adb_client`` (shell v2: real exit codes, separate
stderr, no 10 ms close sleep); files and packages go through adbutils' sync
service (``device_files``, ``packages``). Every command is wrapped so that its
process id is known and a command that runs past its timeout is killed on the
device too (``remote_shell``). Besides ``Target``, the device offers the
``HardReset``, ``Logcat``, ``Screens`` and ``Packages`` abilities.
"""

from __future__ import annotations

import contextlib
import posixpath
import secrets
import shlex
import subprocess
import time
from functools import partial

from ...model.errors import (
    CommandError,
    CommandTimeoutError,
    TargetError,
    TargetNotRespondingError,
)
from ..base import DEFAULT_TIMEOUT, CommandResult, TargetProperties
from ..remote_shell import COMMAND_NOT_FOUND, kill_command, split_pid_line, with_pid_line
from ..values import ShellValues
from . import device, device_files, packages
from .adb_client import AdbServer, AdbServerError, AdbStreamClosed, AdbStreamTimeout
from .background import AndroidBackgroundCommand
from .properties import PROPERTIES_COMMAND, parse_properties
from .shell import PidWatcher, decode, shell_result

DEFAULT_BASE_DIRECTORY = "/data/local/tmp"


class AndroidTarget(ShellValues):
    """An Android device reached through an adb server (started if needed)."""

    kind = "adb"

    def __init__(self, name: str, *, serial: str | None = None, adb_server: str | None = None,
                 adb_port: int | None = None, adb_as_root: bool = False,
                 capture_on_failure: bool = True, logcat: bool = True,
                 connect_timeout: float = 10.0, working_directory: str | None = None,
                 executables_directory: str | None = None,
                 hard_reset_command: str | None = None, boot_timeout: float = 120.0) -> None:
        self.name = name
        self.serial = serial or ""
        self.server = AdbServer(adb_server, adb_port)
        self.adb_as_root = adb_as_root
        self.capture_on_failure = capture_on_failure
        self.capture_logcat = logcat
        self.connect_timeout = connect_timeout
        self._base_directory = working_directory or DEFAULT_BASE_DIRECTORY
        self._executables_directory = executables_directory
        self.hard_reset_command = hard_reset_command
        self.boot_timeout = boot_timeout
        self.working_directory = ""
        self.is_rooted = False
        self._su: str | None = None
        self._properties: TargetProperties | None = None

    def __repr__(self) -> str:
        return f"<AndroidTarget {self.name} {self.serial or '?'} via {self.server}>"

    @property
    def address(self) -> str:
        return device.device_address(self.server, self.serial)

    @property
    def executables_directory(self) -> str:
        return self._executables_directory or self.working_directory

    @property
    def can_hard_reset(self) -> bool:
        """Whether ``reboot(hard=True)`` can power-cycle the device (HardReset)."""
        return bool(self.hard_reset_command)

    @property
    def _scratch_directory(self) -> str:
        """Where temporary files go on the device: the run's directory once connected."""
        return self.working_directory or self._base_directory

    # --- connection ---

    def connect(self) -> None:
        device.ensure_server(self.server)
        if not self.serial:
            self.serial = device.only_device(self.server)
        device.wait_for_device(self.server, self.serial, self.connect_timeout, boot=False)
        features = self.server.query(f"host-serial:{self.serial}:features")
        if "shell_v2" not in features.split(","):
            raise TargetError(f"{self.address}: the device has no shell protocol v2 "
                              "(Android 7 or later is needed for exit codes)")
        if self.adb_as_root:
            device.restart_adbd_as_root(self.server, self.serial, self.connect_timeout)
        self._check_root()
        directory = posixpath.join(self._base_directory,
                                   f"pytest-wa-run-{secrets.token_hex(4)}")
        self.execute(f"mkdir -p {shlex.quote(directory)}", check=True, timeout=30)
        self.working_directory = directory

    def disconnect(self) -> None:
        if self.working_directory:
            with contextlib.suppress(TargetError):
                self.execute(f"rm -rf {shlex.quote(self.working_directory)}", timeout=30)
            self.working_directory = ""

    def is_responsive(self) -> bool:
        """A quick ``true``; a device on TCP that dropped off adb is reattached first."""
        try:
            return self.execute("true", timeout=5).ok
        except TargetError:
            if not device.is_network_serial(self.serial):
                return False
        try:
            device.wait_for_device(self.server, self.serial, 2.0, boot=False)
            return self.execute("true", timeout=5).ok
        except TargetError:
            return False

    def _check_root(self) -> None:
        """Whether adbd runs as root, else which ``su`` (if any) gives root."""
        self.is_rooted = self._shell_text("id -u") == "0"
        self._su = None
        if not self.is_rooted:
            for su in ("su 0", "su -c"):
                if self._shell_text(f"{su} id -u 2>/dev/null") == "0":
                    self._su = su
                    break

    def _shell_text(self, command: str) -> str:
        try:
            return self.execute(command, timeout=10).stdout.strip()
        except TargetError:
            return ""

    # --- commands ---

    def _wrap(self, command: str, as_root: bool) -> str:
        """Run in the working directory, report the pid, become root if asked."""
        prefix = f"cd {shlex.quote(self.working_directory)} 2>/dev/null; " \
            if self.working_directory else ""
        if as_root and not self.is_rooted:
            if self._su is None:
                raise TargetError(f"{self.address}: as_root needs root: set adb_as_root: true "
                                  "(userdebug builds) or use a device with su")
            return prefix + with_pid_line(f"{self._su} sh -c {shlex.quote(command)}")
        return prefix + with_pid_line(command)

    def execute(self, command: str, *, timeout: float = DEFAULT_TIMEOUT, as_root: bool = False,
                check: bool = False) -> CommandResult:
        started = time.monotonic()
        watcher = PidWatcher()
        try:
            output = self.server.shell(self.serial, self._wrap(command, as_root), timeout,
                                       watcher)
        except AdbStreamTimeout as exc:
            self._kill(watcher.pid, as_root)
            _, stdout = split_pid_line(exc.stdout)
            raise CommandTimeoutError(command, timeout, decode(stdout)) from None
        except (AdbStreamClosed, AdbServerError, OSError) as exc:
            raise self._not_responding(command, exc) from None
        except BaseException:  # Ctrl-C: never leave the command running on the device
            self._kill(watcher.pid, as_root)
            raise
        result = shell_result(command, output, started)
        if check and not result.ok:
            raise CommandError(command, result.exit_code, result.stdout, result.stderr)
        return result

    def _not_responding(self, command: str, exc: BaseException) -> TargetError:
        with contextlib.suppress(AdbServerError, OSError):
            state = self.server.device_state(self.serial, timeout=2)
            if state == "device":  # the stream broke but the device is there
                return TargetError(f"{self.address}: {command}: {exc}")
        return TargetNotRespondingError(f"{self.address} is not responding: {exc}")

    def _kill(self, pid: int | None, as_root: bool) -> None:
        """Kill a timed-out or interrupted command's process group on the device."""
        if pid is None:
            return
        command = kill_command(pid)
        if as_root and not self.is_rooted and self._su:
            command = f"{self._su} sh -c {shlex.quote(command)}"
        with contextlib.suppress(AdbServerError, AdbStreamClosed, AdbStreamTimeout, OSError):
            self.server.shell(self.serial, command, 10)

    def background(self, command: str, *, as_root: bool = False) -> AndroidBackgroundCommand:
        conn = self.server.transport(self.serial, self.connect_timeout)
        try:
            conn.request(f"shell,v2,raw:{self._wrap(command, as_root)}")
        except BaseException:
            conn.close()
            raise
        return AndroidBackgroundCommand(command, conn, partial(self._kill, as_root=as_root))

    # --- files ---

    def push(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        device_files.push(self, source, destination, timeout)

    def pull(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        device_files.pull(self, source, destination, timeout)

    # --- Android extras: Packages, Screens, Logcat ---

    def install(self, apk: str, *, replace: bool = True, grant_permissions: bool = True,
                timeout: float = DEFAULT_TIMEOUT) -> None:
        """Install an APK from this host (``pm install``), by way of the working directory."""
        packages.install(self, apk, self._scratch_directory, replace=replace,
                         grant_permissions=grant_permissions, timeout=timeout)

    def uninstall(self, package: str, *, timeout: float = 120.0) -> None:
        packages.uninstall(self, package, timeout=timeout)

    def installed_packages(self) -> list[str]:
        return packages.installed_packages(self)

    def screenshot(self, destination: str, *, timeout: float = 30.0) -> None:
        """A PNG of the screen (``screencap -p``) saved at ``destination`` on this host."""
        remote = posixpath.join(self._scratch_directory, "screen.png")
        device_files.capture_to_host(self, "screencap -p {}", remote, destination, timeout)

    def ui_dump(self, destination: str, *, timeout: float = 30.0) -> None:
        """The view hierarchy as XML (``uiautomator dump``) saved at ``destination``."""
        remote = posixpath.join(self._scratch_directory, "window_dump.uix")
        device_files.capture_to_host(self, "uiautomator dump {} >/dev/null", remote,
                                     destination, timeout)

    def clear_logcat(self) -> None:
        """``logcat -c``; a device without ``logcat`` raises ``CommandError`` (exit status
        127), while other failures pass: some phones refuse to clear one of the buffers."""
        result = self.execute("logcat -c", timeout=30)
        if result.exit_code == COMMAND_NOT_FOUND:
            raise CommandError(result.command, result.exit_code, result.stdout, result.stderr)

    def dump_logcat(self, destination: str, *, timeout: float = 60.0) -> None:
        """Everything in the log buffers since the last clear, as ``logcat -v threadtime``.

        Read straight from the command's output: one round trip per job instead
        of a file on the device, a pull and a delete.
        """
        output = self.execute("logcat -d -v threadtime", check=True, timeout=timeout).stdout
        with open(destination, "w", encoding="utf-8") as handle:
            handle.write(output)

    # --- power ---

    def reboot(self, *, hard: bool = False, timeout: float | None = None) -> None:
        """Reboot and wait until the device is back, booted, and as root if configured."""
        limit = timeout or self.boot_timeout
        if hard:
            self._hard_reset()
        else:
            with contextlib.suppress(AdbServerError, OSError):
                self.server.service_text(self.serial, "reboot:", timeout=10)
        device.wait_gone(self.server, self.serial, min(limit, 30.0))
        device.wait_for_device(self.server, self.serial, limit, boot=True)
        if self.adb_as_root:
            device.restart_adbd_as_root(self.server, self.serial, self.connect_timeout)
        self._check_root()
        self._properties = None
        if self.working_directory:
            self.execute(f"mkdir -p {shlex.quote(self.working_directory)}", check=True,
                         timeout=30)

    def _hard_reset(self) -> None:
        """Power-cycle the device with ``hard_reset_command``, run on this host."""
        if not self.hard_reset_command:
            raise TargetError(f"{self.address}: no hard_reset_command is configured; "
                              "a hard reset is not possible")
        try:
            subprocess.run(self.hard_reset_command, shell=True, check=True, timeout=60,
                           stdin=subprocess.DEVNULL, capture_output=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise TargetError(f"{self.address}: hard_reset_command failed: {exc}") from None

    # --- facts ---

    @property
    def properties(self) -> TargetProperties:
        """Read once (one command); what the device cannot tell (a missing ``settings``,
        ``wm``...) is recorded as absent (the run names it in run.log)."""
        if self._properties is None:
            result = self.execute(PROPERTIES_COMMAND, timeout=30)
            self._properties = parse_properties(result.stdout, result.stderr, self.serial,
                                                self.is_rooted or self._su is not None)
        return self._properties
