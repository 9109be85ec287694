"""A private, real adb server (the binary adbutils ships) for tests.

``adb -P PORT server nodaemon`` runs in the foreground as our child, so it can
always be stopped: ``kill-server`` first, then SIGTERM/SIGKILL if it lingers.
It never touches the user's own server on 5037, and the port reaches only
the processes we start (``ANDROID_ADB_SERVER_PORT`` in their environment, never
in ours). USB, emulator-port scanning and mDNS are off by default: a second
server must not fight the user's server for USB phones, and those scans make
the server take 3 s to start instead of a few milliseconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ..targets.android.adb_client import AdbServer as SmartSocketClient
from ..targets.android.adb_client import AdbServerError
from .logs import log_tail
from .ports import RESERVED_PORTS, free_port

QUIET_ENV = {"ADB_MDNS": "0", "ADB_USB": "0", "ADB_EMU": "0"}


class AdbError(Exception):
    """The adb server refused a request or did not answer in time."""


def adb_path() -> str:
    """The adb binary shipped inside the adbutils package (version 36)."""
    import adbutils

    return str(Path(adbutils.__file__).resolve().parent / "binaries" / "adb")


class AdbServer:
    """``start()``, then use it (``run``, ``connect``, ``client``...), then ``stop()``."""

    def __init__(self, port: int = 0, *, adb: str | None = None, usb: bool = False,
                 log_path: str | os.PathLike[str] | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        if port in RESERVED_PORTS:
            raise ValueError(f"port {port} belongs to the user's adb server or to emulators")
        self.port = port
        self.adb = adb or adb_path()
        self.usb = usb
        self._extra_env = dict(env or {})
        self._log_given = log_path is not None
        self.log_path = str(log_path) if log_path else ""
        self._process: subprocess.Popen[bytes] | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> AdbServer:
        if self._process is not None:
            return self
        if not self.port:
            self.port = free_port()
        if not self.log_path:
            handle, self.log_path = tempfile.mkstemp(prefix="pytest-wa-adb-server-",
                                                     suffix=".log")
            os.close(handle)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [self.adb, "-P", str(self.port), "server", "nodaemon"], env=self.env(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.query("host:version", timeout=1.0)
                return self
            except (OSError, AdbError):
                if self._process.poll() is not None:
                    self._process = None
                    raise AdbError(f"adb server exited at start: {self.log_tail()}") from None
                if time.monotonic() > deadline:
                    self.stop()
                    raise AdbError(f"adb server did not answer in {timeout} s") from None
                time.sleep(0.005)

    def stop(self, timeout: float = 5.0) -> None:
        """kill-server, and make sure the process is gone (SIGTERM, then SIGKILL)."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run([self.adb, "-P", str(self.port), "kill-server"], env=self.env(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        for signum in (signal.SIGTERM, signal.SIGKILL):
            try:
                process.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signum)
        else:
            process.wait()
        if not self._log_given:
            with contextlib.suppress(OSError):
                os.unlink(self.log_path)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> AdbServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def log_tail(self, lines: int = 20) -> str:
        return log_tail(self.log_path, lines)

    # -- the environment of child processes ----------------------------------------

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """An environment for children that should use this server (adb CLI, scripts)."""
        env = dict(os.environ if base is None else base)
        if not self.usb:
            env.update(QUIET_ENV)
        env.update(self._extra_env)
        env["ANDROID_ADB_SERVER_PORT"] = str(self.port)
        return env

    def adb_command(self, *args: str, serial: str | None = None) -> list[str]:
        """The argv of an adb CLI call against this server."""
        return [self.adb, "-P", str(self.port), *(["-s", serial] if serial else []), *args]

    def run(self, *args: str, serial: str | None = None, timeout: float = 60.0,
            check: bool = False, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run the adb CLI against this server; output captured as bytes."""
        return subprocess.run(self.adb_command(*args, serial=serial), env=self.env(),
                              input=input, stdin=None if input is not None else subprocess.DEVNULL,
                              capture_output=True, timeout=timeout, check=check)

    # -- the smart-socket protocol -------------------------------------------------

    def query(self, service: str, timeout: float = 10.0) -> str:
        """A host service that answers OKAY + hex length + text (host:version, host:devices)."""
        try:
            return SmartSocketClient("127.0.0.1", self.port).query(service, timeout)
        except AdbServerError as exc:
            raise AdbError(f"{service}: {exc}") from None

    def connect(self, address: str, timeout: float = 10.0) -> str:
        """``adb connect ADDRESS``; returns the server's answer, raises if it failed."""
        answer = self.query(f"host:connect:{address}", timeout)
        if not answer.startswith(("connected to", "already connected to")):
            raise AdbError(answer)
        return answer

    def disconnect(self, address: str, timeout: float = 10.0) -> str:
        return self.query(f"host:disconnect:{address}", timeout)

    def devices(self) -> dict[str, str]:
        """Serial -> state ("device", "offline"...)."""
        result = {}
        for line in self.query("host:devices").splitlines():
            serial, _, state = line.partition("\t")
            if serial:
                result[serial] = state
        return result

    def wait_for(self, serial: str, state: str = "device", timeout: float = 30.0,
                 reconnect: str | None = None) -> None:
        """Wait until ``serial`` is in ``state``; with ``reconnect``, reattach that address.

        adb 36 retries a dropped TCP device by itself, but only every few
        seconds, and ``adb connect`` meanwhile just says "already connected".
        So once the device's port answers again, we disconnect and connect it,
        which brings it back at once.
        """
        deadline = time.monotonic() + timeout
        while True:
            current = self.devices().get(serial)
            if current == state:
                return
            if reconnect and current != "device" and _listening(reconnect):
                with contextlib.suppress(AdbError, OSError):
                    self.disconnect(reconnect)
                with contextlib.suppress(AdbError, OSError):
                    self.connect(reconnect)
                if self.devices().get(serial) == state:
                    return
            if time.monotonic() > deadline:
                raise AdbError(f"{serial} is {current or 'absent'}, not {state}, after {timeout} s")
            time.sleep(0.02)

    def client(self) -> Any:
        """An ``adbutils.AdbClient`` for this server."""
        import adbutils

        return adbutils.AdbClient(host="127.0.0.1", port=self.port)

    def shell(self, serial: str, command: str | Sequence[str], timeout: float = 60.0) -> Any:
        """Run a command through shell protocol v2 (adbutils' ``shell2(v2=True)``).

        The result has ``returncode``, and ``stdout``/``stderr`` apart, as str
        with the trailing newline stripped.
        """
        return self.client().device(serial).shell2(command, timeout=timeout, v2=True,
                                                   rstrip=True)


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except (OSError, ValueError):
        return False
