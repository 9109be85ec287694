"""A minimal client of the adb server's smart-socket protocol, for the hot path.

adbutils covers the whole adb feature set and pytest-wa uses it for file
transfers and package installs; but adbutils sleeps 10 ms every time it closes
a connection, which made every shell command cost ~22 ms. A shell command is
what a workload, an instrument and every sysfs read or write does, many times
per job, so this module speaks the few requests those need (``host:*``
queries, ``host:transport:``, ``shell,v2`` and ``reboot:``/``root:``) and
closes without waiting: by the time the client closes, the exit packet has
been read and nothing is left in flight.

Protocol facts (AOSP ``SERVICES.TXT``, ``shell_protocol.h``): a request is a
4-hex-digit length and the text; the server answers ``OKAY`` or ``FAIL`` plus a
length-prefixed message. A shell v2 stream is packets of one id byte, a
little-endian 32-bit length and the data: 0 stdin, 1 stdout, 2 stderr,
3 exit (one byte), 4 close stdin, 5 window size.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5037

SHELL_STDIN = 0
SHELL_STDOUT = 1
SHELL_STDERR = 2
SHELL_EXIT = 3
SHELL_CLOSE_STDIN = 4

_HEADER = struct.Struct("<BI")


class AdbServerError(Exception):
    """The adb server refused a request (``FAIL``) or could not be reached."""


class AdbStreamTimeout(Exception):
    """No answer within the deadline; the partial output is kept for the message."""

    def __init__(self, stdout: bytes = b"", stderr: bytes = b"") -> None:
        super().__init__("timed out")
        self.stdout = stdout
        self.stderr = stderr


class AdbStreamClosed(Exception):
    """The stream ended before the command's exit code arrived (device gone)."""

    def __init__(self, stdout: bytes = b"", stderr: bytes = b"") -> None:
        super().__init__("the device closed the stream before the command ended")
        self.stdout = stdout
        self.stderr = stderr


def server_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """The server to use: explicit values, else adb's environment variables, else 5037."""
    env_port = os.environ.get("ANDROID_ADB_SERVER_PORT", "")
    return (host or os.environ.get("ANDROID_ADB_SERVER_ADDRESS") or DEFAULT_HOST,
            port or (int(env_port) if env_port.isdigit() else DEFAULT_PORT))


@dataclass(frozen=True)
class ShellOutput:
    exit_code: int
    stdout: bytes
    stderr: bytes


class AdbSocket:
    """One connection to the adb server, used for one request (as adb itself does)."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=min(timeout, 5.0))
        except OSError as exc:
            raise AdbServerError(f"cannot reach the adb server at {host}:{port}: "
                                 f"{exc.strerror or exc}") from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self._buffer = bytearray()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> AdbSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- requests ---

    def request(self, text: str) -> None:
        """Send one request and check the server's OKAY."""
        data = text.encode("utf-8")
        self.sock.sendall(b"%04x" % len(data) + data)
        status = self.read_exact(4)
        if status == b"OKAY":
            return
        if status == b"FAIL":
            raise AdbServerError(self.read_block().decode("utf-8", "replace"))
        raise AdbServerError(f"unexpected answer from the adb server: {status!r}")

    def read_block(self) -> bytes:
        """A length-prefixed answer (4 hex digits, then the data)."""
        return self.read_exact(int(self.read_exact(4), 16))

    def read_exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self.sock.recv(max(65536, size - len(self._buffer)))
            if not chunk:
                raise AdbServerError("the adb server closed the connection")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def read_all(self) -> bytes:
        data = bytearray(self._buffer)
        self._buffer.clear()
        while chunk := self.sock.recv(65536):
            data += chunk
        return bytes(data)

    # --- shell v2 ---

    def send_packet(self, kind: int, data: bytes = b"") -> None:
        self.sock.sendall(_HEADER.pack(kind, len(data)) + data)

    def read_shell(self, deadline: float,
                   on_stdout: Callable[[bytes], None] | None = None) -> ShellOutput:
        """Read shell v2 packets up to the exit packet.

        ``on_stdout`` sees each stdout chunk as it comes (the pid line of a
        wrapped command is taken from it while the command still runs).
        """
        stdout, stderr = bytearray(), bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AdbStreamTimeout(bytes(stdout), bytes(stderr))
            self.sock.settimeout(None if remaining == float("inf") else remaining)
            try:
                kind, length = _HEADER.unpack(self.read_exact(_HEADER.size))
                data = self.read_exact(length)
            except TimeoutError:
                raise AdbStreamTimeout(bytes(stdout), bytes(stderr)) from None
            except (AdbServerError, ConnectionError):
                raise AdbStreamClosed(bytes(stdout), bytes(stderr)) from None
            if kind == SHELL_STDOUT:
                stdout += data
                if on_stdout is not None:
                    on_stdout(data)
            elif kind == SHELL_STDERR:
                stderr += data
            elif kind == SHELL_EXIT:
                return ShellOutput(data[0] if data else 255, bytes(stdout), bytes(stderr))


class AdbServer:
    """Where the adb server is; opens one socket per request."""

    def __init__(self, host: str | None = None, port: int | None = None) -> None:
        self.host, self.port = server_address(host, port)

    def __repr__(self) -> str:
        return f"AdbServer({self.host}:{self.port})"

    def open(self, timeout: float = 10.0) -> AdbSocket:
        return AdbSocket(self.host, self.port, timeout)

    def query(self, request: str, timeout: float = 10.0) -> str:
        """A ``host:`` request with a length-prefixed answer (``host:version``...)."""
        with self.open(timeout) as conn:
            conn.request(request)
            return conn.read_block().decode("utf-8", "replace")

    def transport(self, serial: str, timeout: float = 10.0) -> AdbSocket:
        """A socket switched to the device ``serial``; the next request goes to it."""
        conn = self.open(timeout)
        try:
            conn.request(f"host:transport:{serial}")
        except BaseException:
            conn.close()
            raise
        return conn

    def device_state(self, serial: str, timeout: float = 5.0) -> str:
        """'device', 'offline', 'unauthorized', ... or 'absent' when the server lacks it."""
        try:
            return self.query(f"host-serial:{serial}:get-state", timeout)
        except AdbServerError as exc:
            if "not found" in str(exc):
                return "absent"
            raise

    def shell(self, serial: str, command: str, timeout: float,
              on_stdout: Callable[[bytes], None] | None = None) -> ShellOutput:
        """Run ``command`` through shell v2 and wait for its exit code."""
        deadline = time.monotonic() + timeout
        with self.transport(serial, timeout) as conn:
            conn.request(f"shell,v2,raw:{command}")
            return conn.read_shell(deadline, on_stdout)

    def service_text(self, serial: str, service: str, timeout: float = 10.0) -> str:
        """Open a device service (``root:``, ``reboot:``) and read what it says until it closes."""
        with self.transport(serial, timeout) as conn:
            conn.request(service)
            try:
                return conn.read_all().decode("utf-8", "replace")
            except OSError:
                return ""
