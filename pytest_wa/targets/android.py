"""The Android target: a phone (or the simulated device) through the adb server.

Shell commands go through ``adb_client`` (shell v2: real exit codes, separate
stderr, no 10 ms close sleep); files and packages go through adbutils' sync
service. Every command is wrapped so that its process id is known and a
command that runs past its timeout is killed on the device too
(``remote_shell``).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
import shlex
import subprocess
import threading
import time
from typing import Any

from ..errors import (
    CommandError,
    CommandTimeoutError,
    TargetError,
    TargetNotRespondingError,
)
from .adb_client import (
    AdbServer,
    AdbServerError,
    AdbStreamClosed,
    AdbStreamTimeout,
    ShellOutput,
)
from .base import DEFAULT_TIMEOUT, CommandResult, TargetProperties
from .remote_shell import kill_command, split_pid_line, with_pid_line
from .values import ShellValues

DEFAULT_BASE_DIRECTORY = "/data/local/tmp"
POLL_INTERVAL = 0.2


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _is_network_serial(serial: str) -> bool:
    """``host:port`` serials are devices adb reaches over TCP (``adb connect``)."""
    host, _, port = serial.rpartition(":")
    return bool(host) and port.isdigit()


class _PidWatcher:
    """Takes the wrapped command's process id from the first stdout chunk(s)."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self._head = b""

    def __call__(self, chunk: bytes) -> None:
        if self.pid is None and len(self._head) < 64:
            self._head += chunk
            self.pid, _ = split_pid_line(self._head)


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
        return f"adb {self.serial or '(any)'} (server {self.server.host}:{self.server.port})"

    @property
    def executables_directory(self) -> str:
        return self._executables_directory or self.working_directory

    # --- connection ---

    def connect(self) -> None:
        self._ensure_server()
        if not self.serial:
            self.serial = self._only_device()
        self._wait_for_device(self.connect_timeout, boot=False)
        features = self.server.query(f"host-serial:{self.serial}:features")
        if "shell_v2" not in features.split(","):
            raise TargetError(f"{self.address}: the device has no shell protocol v2 "
                              "(Android 7 or later is needed for exit codes)")
        if self.adb_as_root:
            self._restart_adbd_as_root()
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
            if not _is_network_serial(self.serial):
                return False
        try:
            self._wait_for_device(2.0, boot=False)
            return self.execute("true", timeout=5).ok
        except TargetError:
            return False

    def _ensure_server(self) -> None:
        """Use the running adb server, or start one when it is on this host."""
        with contextlib.suppress(AdbServerError):
            self.server.query("host:version", timeout=2)
            return
        if self.server.host not in ("127.0.0.1", "localhost", "::1"):
            raise TargetError(f"cannot reach the adb server at {self.server.host}:"
                              f"{self.server.port}")
        from adbutils._utils import adb_path

        try:
            subprocess.run([adb_path(), "-P", str(self.server.port), "start-server"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=30, check=True)
            self.server.query("host:version", timeout=5)
        except (OSError, subprocess.SubprocessError, AdbServerError) as exc:
            raise TargetError(f"cannot start an adb server on port {self.server.port}: "
                              f"{exc}") from None

    def _only_device(self) -> str:
        listing = self.server.query("host:devices")
        ready = [line.split("\t")[0] for line in listing.splitlines()
                 if line.endswith("\tdevice")]
        if len(ready) == 1:
            return ready[0]
        found = ", ".join(ready) or "none"
        raise TargetError(f"set the device serial: adb server {self.server.host}:"
                          f"{self.server.port} has {len(ready)} devices ready ({found})")

    def _wait_for_device(self, timeout: float, *, boot: bool) -> None:
        """Until adb reports the device ready (and, after a reboot, booted)."""
        deadline = time.monotonic() + timeout
        state = "absent"
        answer = ""
        while True:
            try:
                if _is_network_serial(self.serial) and state in ("absent", "offline"):
                    answer = self.server.query(f"host:connect:{self.serial}", timeout=5)
                state = self.server.device_state(self.serial)
            except AdbServerError as exc:
                state = f"unreachable ({exc})"
            if state == "unauthorized":
                raise TargetError(f"{self.address}: unauthorized: accept the USB debugging "
                                  "prompt on the device")
            if state == "device" and (not boot or self._boot_completed()):
                return
            if time.monotonic() >= deadline:
                what = "did not finish booting" if state == "device" else f"is {state}"
                detail = f" (adb connect: {answer.strip()})" if state == "absent" and answer \
                    else ""
                raise TargetNotRespondingError(f"{self.address} {what} after {timeout:g} s"
                                               f"{detail}")
            time.sleep(POLL_INTERVAL)

    def _boot_completed(self) -> bool:
        try:
            output = self.server.shell(self.serial, "getprop sys.boot_completed", 5)
        except (AdbServerError, AdbStreamClosed, AdbStreamTimeout, OSError):
            return False
        return _decode(output.stdout).strip() == "1"

    def _restart_adbd_as_root(self) -> None:
        answer = self.server.service_text(self.serial, "root:").strip()
        if "cannot run as root" in answer:
            raise TargetError(f"{self.address}: adb_as_root: {answer}")
        if "already running as root" not in answer:
            self._wait_gone(5.0)
            self._wait_for_device(self.connect_timeout, boot=False)

    def _check_root(self) -> None:
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

    def _wait_gone(self, timeout: float) -> None:
        """After reboot/root the device drops off adb; wait for that before waiting back."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.server.device_state(self.serial) != "device":
                    return
                self.server.shell(self.serial, "true", 1)
            except (AdbServerError, AdbStreamClosed, AdbStreamTimeout, OSError):
                return
            time.sleep(0.05)

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
        watcher = _PidWatcher()
        try:
            output = self.server.shell(self.serial, self._wrap(command, as_root), timeout,
                                       watcher)
        except AdbStreamTimeout as exc:
            self._kill(watcher.pid, as_root)
            _, stdout = split_pid_line(exc.stdout)
            raise CommandTimeoutError(command, timeout, _decode(stdout)) from None
        except (AdbStreamClosed, AdbServerError, OSError) as exc:
            raise self._not_responding(command, exc) from None
        except BaseException:  # Ctrl-C: never leave the command running on the device
            self._kill(watcher.pid, as_root)
            raise
        result = self._result(command, output, started)
        if check and not result.ok:
            raise CommandError(command, result.exit_code, result.stdout, result.stderr)
        return result

    @staticmethod
    def _result(command: str, output: ShellOutput, started: float) -> CommandResult:
        _, stdout = split_pid_line(output.stdout)
        return CommandResult(command, output.exit_code, _decode(stdout), _decode(output.stderr),
                             time.monotonic() - started)

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
        return AndroidBackgroundCommand(self, command, conn, as_root)

    # --- files ---

    def _device(self, timeout: float) -> Any:
        import adbutils

        client = adbutils.AdbClient(host=self.server.host, port=self.server.port,
                                    socket_timeout=timeout)
        return client.device(self.serial)

    def push(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        try:
            device = self._device(timeout)
            if os.path.isdir(source):
                for root, _, files in os.walk(source):
                    relative = os.path.relpath(root, source)
                    remote = posixpath.normpath(posixpath.join(
                        destination, relative.replace(os.sep, "/")))
                    self.execute(f"mkdir -p {shlex.quote(remote)}", check=True, timeout=timeout)
                    for name in files:
                        device.sync.push(os.path.join(root, name), posixpath.join(remote, name))
            else:
                device.sync.push(source, destination)
        except TargetError:
            raise
        except Exception as exc:  # adbutils raises its own and socket errors
            raise TargetError(f"{self.address}: cannot push {source} to {destination}: "
                              f"{exc}") from None

    def pull(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        quoted = shlex.quote(source)
        found = self.execute(f"if [ -d {quoted} ]; then cd {quoted} && find . -type f; "
                             f"elif [ -e {quoted} ]; then echo .; else exit 3; fi",
                             timeout=timeout)
        if found.exit_code == 3:
            raise TargetError(f"{self.address}: cannot pull {source}: no such file or "
                              "directory on the device")
        if not found.ok:
            raise TargetError(f"{self.address}: cannot pull {source}: "
                              f"{(found.stderr or found.stdout).strip()}")
        listing = found.stdout.splitlines()
        try:
            device = self._device(timeout)
            if listing == ["."]:
                os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
                device.sync.pull(source, destination)
                return
            for relative in listing:
                local = os.path.join(destination, *relative[2:].split("/"))
                os.makedirs(os.path.dirname(local), exist_ok=True)
                device.sync.pull(posixpath.join(source, relative[2:]), local)
        except Exception as exc:
            raise TargetError(f"{self.address}: cannot pull {source} to {destination}: "
                              f"{exc}") from None

    # --- Android extras ---

    def install(self, apk: str, *, replace: bool = True, grant_permissions: bool = True,
                timeout: float = DEFAULT_TIMEOUT) -> None:
        """Install an APK from this host (``pm install``), by way of the working directory."""
        directory = posixpath.join(self.working_directory or self._base_directory,
                                   f"install-{secrets.token_hex(4)}")
        remote = posixpath.join(directory, os.path.basename(apk))
        self.execute(f"mkdir -p {shlex.quote(directory)}", check=True, timeout=30)
        flags = (" -r" if replace else "") + (" -g" if grant_permissions else "")
        try:
            self.push(apk, remote, timeout=timeout)
            result = self.execute(f"pm install{flags} {shlex.quote(remote)}", timeout=timeout)
        finally:
            self.execute(f"rm -rf {shlex.quote(directory)}", timeout=30)
        if not result.ok or "Success" not in result.stdout:
            detail = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
            raise TargetError(f"{self.address}: cannot install {apk}: {detail[0]}")

    def uninstall(self, package: str, *, timeout: float = 120.0) -> None:
        result = self.execute(f"pm uninstall {shlex.quote(package)}", timeout=timeout)
        if not result.ok or "Success" not in result.stdout:
            detail = (result.stdout + result.stderr).strip() or "no output"
            raise TargetError(f"{self.address}: cannot uninstall {package}: {detail}")

    def installed_packages(self) -> list[str]:
        output = self.execute("pm list packages", check=True, timeout=60).stdout
        return [line.split(":", 1)[1].strip() for line in output.splitlines()
                if line.startswith("package:")]

    def _capture_to_host(self, command: str, remote_name: str, destination: str,
                         timeout: float) -> None:
        remote = posixpath.join(self.working_directory or self._base_directory, remote_name)
        self.execute(command.format(shlex.quote(remote)), check=True, timeout=timeout)
        try:
            self.pull(remote, destination, timeout=timeout)
        finally:
            self.execute(f"rm -f {shlex.quote(remote)}", timeout=30)

    def screenshot(self, destination: str, *, timeout: float = 30.0) -> None:
        """A PNG of the screen (``screencap -p``) saved at ``destination`` on this host."""
        self._capture_to_host("screencap -p {}", "screen.png", destination, timeout)

    def ui_dump(self, destination: str, *, timeout: float = 30.0) -> None:
        """The view hierarchy as XML (``uiautomator dump``) saved at ``destination``."""
        self._capture_to_host("uiautomator dump {} >/dev/null", "window_dump.uix",
                              destination, timeout)

    def clear_logcat(self) -> None:
        self.execute("logcat -c", timeout=30)

    def dump_logcat(self, destination: str, *, timeout: float = 60.0) -> None:
        """Everything in the log buffers since the last clear, as ``logcat -v threadtime``.

        Read straight from the command's output: one round trip per job instead
        of a file on the device, a pull and a delete.
        """
        output = self.execute("logcat -d -v threadtime", check=True, timeout=timeout).stdout
        with open(destination, "w", encoding="utf-8") as handle:
            handle.write(output)

    def job_plugin(self) -> Any:
        """What this target adds to every job: logcat capture and failure evidence."""
        from .android_jobs import AndroidJobEvidence

        return AndroidJobEvidence(self)

    # --- power ---

    def reboot(self, *, hard: bool = False, timeout: float | None = None) -> None:
        """Reboot and wait until the device is back, booted, and as root if configured."""
        limit = timeout or self.boot_timeout
        if hard:
            if not self.hard_reset_command:
                raise TargetError(f"{self.address}: no hard_reset_command is configured; "
                                  "a hard reset is not possible")
            try:
                subprocess.run(self.hard_reset_command, shell=True, check=True, timeout=60,
                               stdin=subprocess.DEVNULL, capture_output=True)
            except (OSError, subprocess.SubprocessError) as exc:
                raise TargetError(f"{self.address}: hard_reset_command failed: {exc}") from None
        else:
            with contextlib.suppress(AdbServerError, OSError):
                self.server.service_text(self.serial, "reboot:", timeout=10)
        self._wait_gone(min(limit, 30.0))
        self._wait_for_device(limit, boot=True)
        if self.adb_as_root:
            self._restart_adbd_as_root()
        self._check_root()
        self._properties = None
        if self.working_directory:
            self.execute(f"mkdir -p {shlex.quote(self.working_directory)}", check=True,
                         timeout=30)

    # --- facts ---

    @property
    def properties(self) -> TargetProperties:
        if self._properties is None:
            self._properties = self._read_properties()
        return self._properties

    def _read_properties(self) -> TargetProperties:
        output = self.execute("getprop; echo ---; uname -r; uname -m; uname -v; "
                              "cat /sys/devices/system/cpu/possible; "
                              "wm size 2>/dev/null | tail -n 1; "
                              "settings get secure android_id 2>/dev/null", check=True,
                              timeout=30).stdout
        props_text, _, rest = output.partition("---\n")
        props = parse_getprop(props_text)
        lines = rest.splitlines() + [""] * 6
        kernel, arch, version, possible, size, android_id = (line.strip() for line in lines[:6])
        return TargetProperties(
            os="android", kernel=kernel, abi=props.get("ro.product.cpu.abi", arch),
            cpus=count_cpus(possible), hostname=props.get("net.hostname", self.serial),
            model=props.get("ro.product.model", ""),
            extra={"sdk": _int_or_text(props.get("ro.build.version.sdk", "")),
                   "release": props.get("ro.build.version.release", ""),
                   "serial": self.serial, "arch": arch, "kernel_version": version,
                   "fingerprint": props.get("ro.build.fingerprint", ""),
                   "product": props.get("ro.product.name", ""),
                   "device": props.get("ro.product.device", ""),
                   # What WA3's AndroidTargetInfo records (its reader requires them):
                   "is_rooted": self.is_rooted or self._su is not None,
                   "os_version": {key.rsplit(".", 1)[-1]: value for key, value in props.items()
                                  if key.startswith("ro.build.version.")},
                   "screen_resolution": parse_screen_size(size),
                   "android_id": android_id if android_id not in ("", "null") else None,
                   "prop": props})


def parse_screen_size(text: str) -> list[int] | None:
    """``wm size``'s ``Physical size: 1080x2400`` as [1080, 2400] (WA3's screen_resolution)."""
    _, _, size = text.rpartition(" ")
    width, sep, height = size.partition("x")
    return [int(width), int(height)] if sep and width.isdigit() and height.isdigit() else None


def _int_or_text(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def parse_getprop(text: str) -> dict[str, str]:
    """``getprop``'s ``[key]: [value]`` lines as a dict."""
    props: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("]: [")
        if sep and key.startswith("[") and value.endswith("]"):
            props[key[1:]] = value[:-1]
    return props


def count_cpus(possible: str) -> int:
    """The number of CPUs in a kernel cpu list such as ``0-3,6-7``."""
    count = 0
    for part in possible.split(","):
        low, _, high = part.strip().partition("-")
        if low.isdigit():
            count += (int(high) - int(low) + 1) if high.isdigit() else 1
    return count or 1


class AndroidBackgroundCommand:
    """A device command whose output is read by a thread while it runs."""

    def __init__(self, target: AndroidTarget, command: str, conn: Any, as_root: bool) -> None:
        self.command = command
        self._target = target
        self._conn = conn
        self._as_root = as_root
        self._started = time.monotonic()
        self._watcher = _PidWatcher()
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
        return AndroidTarget._result(self.command, self._output, self._started)

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.stop()
            raise CommandTimeoutError(self.command, timeout)
        return self._result()

    def stop(self) -> CommandResult:
        if self._thread.is_alive():
            deadline = time.monotonic() + 5
            while self._watcher.pid is None and time.monotonic() < deadline \
                    and self._thread.is_alive():
                time.sleep(0.01)
            self._target._kill(self._watcher.pid, self._as_root)
            self._thread.join(10)
            if self._thread.is_alive():
                with contextlib.suppress(OSError):
                    self._conn.sock.shutdown(2)
                self._thread.join(5)
        return self._result()
