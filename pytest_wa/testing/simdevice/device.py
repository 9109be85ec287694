"""``SimulatedDevice``: start, stop or kill one simulated device from Python.

Each device is its own process (``python -m pytest_wa.testing.simdevice``)
with its own port, tree and mount namespace, so several run side by side.
The parent keeps a handle on the device's mount namespace (an open
``/proc/PID/ns/mnt``), which lets ``kill()`` find and kill every command the
device left behind, and guarantees that the namespace it looks for is still
that device's.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from types import TracebackType

from ..logs import log_tail
from .adbd import READY
from .rootfs import kill_namespace, make_workdir, remove_tree


class DeviceError(Exception):
    """The device did not start (the message has its own explanation)."""


class SimulatedDevice:
    """A simulated Android device; ``address`` is what ``adb connect`` takes."""

    def __init__(self, port: int = 0, *, model: str = "SimPhone", name: str = "",
                 device: str = "", serial: str = "", cpus: int = 8, sdk: int = 33,
                 abi: str = "arm64-v8a", boot_time: float = 1.0,
                 boot_completed_delay: float = 0.1, restart_time: float = 0.2,
                 properties: Mapping[str, str] | None = None, debuggable: bool = True,
                 root_dir: str | os.PathLike[str] | None = None, keep: bool = False,
                 spawn: str = "auto", missing_tools: Sequence[str] = (),
                 getprop_lists: bool = True, verbose: int = 0,
                 python: str = sys.executable) -> None:
        self.port = port
        self.model = model
        self.cpus = cpus
        self.sdk = sdk
        self.boot_time = boot_time
        self.debuggable = debuggable
        self.properties = dict(properties or {})
        self.missing_tools = tuple(missing_tools)
        self.getprop_lists = getprop_lists
        self.root_dir = os.fspath(root_dir) if root_dir is not None else None
        self.keep = keep
        self._argv = [python, "-m", "pytest_wa.testing.simdevice", "--model", model,
                      "--cpus", str(cpus), "--sdk", str(sdk), "--abi", abi,
                      "--boot-time", str(boot_time),
                      "--boot-completed-delay", str(boot_completed_delay),
                      "--restart-time", str(restart_time), "--spawn", spawn,
                      *self._optional_flags(name=name, device=device, serial=serial),
                      *["-v"] * verbose]
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()  # kill() may come from another thread than stop()
        self._namespace_fd = -1
        self._workdir = ""
        self.log_path = ""

    def _optional_flags(self, *, name: str, device: str, serial: str) -> list[str]:
        """The command-line flags of the settings that have no default value to pass."""
        flags: list[str] = []
        for flag, value in (("--name", name), ("--device", device), ("--serial", serial)):
            if value:
                flags += [flag, value]
        for key, value in self.properties.items():
            flags += ["--prop", f"{key}={value}"]
        if not self.debuggable:
            flags.append("--not-debuggable")
        for tool in self.missing_tools:
            flags += ["--missing-tool", tool]
        if not self.getprop_lists:
            flags.append("--getprop-no-list")
        if self.root_dir:
            flags += ["--root", self.root_dir] + (["--keep"] if self.keep else [])
        return flags

    # -- addresses -----------------------------------------------------------------

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``: the serial adb gives the device once connected."""
        return f"127.0.0.1:{self.port}"

    serial = address

    @property
    def workdir(self) -> str:
        """The device's private directory on the host (empty there: its content lives in
        the device's mount namespace); removed when the device stops."""
        return self._workdir

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- lifecycle -----------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> SimulatedDevice:
        """Launch the device and wait for its ready line (the port it listens on)."""
        if self._process is not None:
            return self
        self._workdir = make_workdir()
        handle, self.log_path = tempfile.mkstemp(prefix="pytest-wa-simdevice-", suffix=".log")
        argv = [*self._argv, "--port", str(self.port), "--workdir", self._workdir,
                "--parent-pid", str(os.getpid())]
        try:
            self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.PIPE, stderr=handle,
                                             start_new_session=True)
        except BaseException:
            remove_tree(self._workdir)
            self._workdir = ""
            raise
        finally:
            os.close(handle)
        try:
            address = self._wait_ready(timeout)
        except BaseException:
            self.kill()
            raise
        self.port = int(address.rpartition(":")[2])
        with contextlib.suppress(OSError):
            self._namespace_fd = os.open(f"/proc/{self._process.pid}/ns/mnt", os.O_RDONLY)
        return self

    def _wait_ready(self, timeout: float) -> str:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        deadline = time.monotonic() + timeout
        line = b""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeviceError(f"simulated device not ready after {timeout} s: "
                                      f"{self.log_tail()}")
                if not selector.select(remaining):
                    continue
                chunk = os.read(stdout.fileno(), 1)
                if not chunk:
                    self._process.wait()
                    raise DeviceError(self.log_tail().strip() or "simulated device exited "
                                      f"with status {self._process.returncode}")
                line += chunk
        stdout.close()
        text = line.decode().strip()
        if not text.startswith(READY):
            raise DeviceError(f"unexpected output from the device: {text!r}")
        return text[len(READY):]

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM: the device kills its commands, unmounts and removes its tree."""
        with self._lock:
            if self._process is None:
                return
            if self._process.poll() is None:
                self._process.send_signal(signal.SIGTERM)
                try:
                    self._process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._process.kill()
            self._cleanup()

    def kill(self) -> None:
        """SIGKILL, as if the device vanished: no goodbye to the adb server.

        What the device left (its commands, its work directory) is removed
        here instead. Safe to call from another thread while a test runs.
        """
        with self._lock:
            if self._process is None:
                return
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            self._cleanup()

    def _cleanup(self) -> None:
        assert self._process is not None
        self._process.wait()
        if self._namespace_fd >= 0:
            namespace = os.fstat(self._namespace_fd)
            ours = os.stat("/proc/self/ns/mnt")
            # Never our own namespace: that would kill every process on the host.
            if (namespace.st_ino, namespace.st_dev) != (ours.st_ino, ours.st_dev):
                for _ in range(50):  # until none is left (a dying fork may spawn one more)
                    if not kill_namespace(namespace.st_ino, device=namespace.st_dev):
                        break
                    time.sleep(0.01)
            os.close(self._namespace_fd)
            self._namespace_fd = -1
        if self._workdir:
            remove_tree(self._workdir)
            self._workdir = ""
        if self.root_dir and not self.keep:
            remove_tree(self.root_dir)
        self._process = None
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)

    def wait_listening(self, timeout: float = 30.0) -> None:
        """Wait until the device accepts TCP connections (after a reboot)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise DeviceError(f"{self.address} not listening after {timeout} s") from None
                time.sleep(0.02)

    def log_tail(self, lines: int = 20) -> str:
        """The end of the device's log (its stderr): why it failed to start, for example."""
        return log_tail(self.log_path, lines)

    def __enter__(self) -> SimulatedDevice:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<SimulatedDevice {self.model} {self.address} {state}>"
