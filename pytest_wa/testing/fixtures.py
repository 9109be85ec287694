"""pytest fixtures: a private adb server and simulated devices attached to it.

Load them with ``pytest_plugins = ["pytest_wa.testing.fixtures"]``.

- ``wa_adb_server`` (session): a started ``AdbServer`` on a free port.
- ``wa_simulated_device`` (function): one ``ConnectedDevice``, booted and
  attached to that server. ``@pytest.mark.wa_simulated_device(cpus=4, ...)``
  passes keyword arguments to ``SimulatedDevice``.
- ``wa_simulated_devices`` (function): a factory, ``make(**kwargs)``, for
  several devices side by side; all are stopped at the end of the test.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from .adb import AdbError, AdbServer
from .simdevice import SimulatedDevice


class ConnectedDevice:
    """A simulated device attached to an adb server, with the chores done for you.

    ``reboot()``, ``root()`` and ``unroot()`` return once the device is back
    and booted (reattaching it to the server: adb 36 alone takes ~3 s to retry
    a TCP device); ``kill()`` makes it vanish like an unplugged phone.
    """

    def __init__(self, device: SimulatedDevice, server: AdbServer) -> None:
        self.device = device
        self.server = server

    @property
    def serial(self) -> str:
        """``127.0.0.1:PORT``, the serial the adb server lists."""
        return self.device.address

    @property
    def adb_port(self) -> int:
        """The adb server's port (``adb -P PORT``, ``ANDROID_ADB_SERVER_PORT``)."""
        return self.server.port

    # -- talking to it ---------------------------------------------------------------

    def adb(self, *args: str, timeout: float = 60.0,
            input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """The adb CLI with ``-P PORT -s SERIAL``; output captured as bytes."""
        return self.server.run(*args, serial=self.serial, timeout=timeout, input=input)

    def shell(self, command: str | Sequence[str], timeout: float = 60.0) -> Any:
        """adbutils' shell2: an object with ``returncode``, ``stdout``, ``stderr``."""
        return self.server.shell(self.serial, command, timeout=timeout)

    def adbutils(self) -> Any:
        """An ``adbutils.AdbDevice`` for this device."""
        return self.server.client().device(self.serial)

    # -- life ------------------------------------------------------------------------

    def connect(self, timeout: float = 30.0) -> ConnectedDevice:
        """Attach to the server and wait until the device is online and booted."""
        self.server.connect(self.device.address)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Online for the server and ``sys.boot_completed`` is 1."""
        deadline = time.monotonic() + timeout
        self.server.wait_for(self.serial, "device", timeout, reconnect=self.device.address)
        while True:
            with contextlib.suppress(Exception):
                if self.shell("getprop sys.boot_completed", timeout=5).stdout.strip() == "1":
                    return
            if time.monotonic() > deadline:
                raise AdbError(f"{self.serial} did not finish booting in {timeout} s")
            self.server.wait_for(self.serial, "device", max(deadline - time.monotonic(), 0.1),
                                 reconnect=self.device.address)
            time.sleep(0.02)

    def reboot(self, wait: bool = True, timeout: float = 30.0) -> None:
        """``adb reboot`` (it returns once the device is down), then wait for the new boot."""
        self.adb("reboot", timeout=timeout)
        if wait:
            self.wait_ready(timeout)

    def root(self, timeout: float = 30.0) -> str:
        """``adb root``: returns adbd's answer once the device is back."""
        return self._root_command("root", timeout)

    def unroot(self, timeout: float = 30.0) -> str:
        return self._root_command("unroot", timeout)

    def _root_command(self, command: str, timeout: float) -> str:
        result = self.adb(command, timeout=timeout)
        self.wait_ready(timeout)
        return (result.stdout + result.stderr).decode(errors="replace").strip()

    def kill(self) -> None:
        """SIGKILL the device, as if it vanished; the server sees it go offline."""
        self.device.kill()

    def stop(self) -> None:
        """Stop the device and detach it from the server (so the server stops retrying it)."""
        self.device.stop()
        with contextlib.suppress(AdbError, OSError):
            self.server.disconnect(self.device.address)

    def __repr__(self) -> str:
        return f"<ConnectedDevice {self.serial} adb port {self.adb_port}>"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "wa_simulated_device(**kwargs): SimulatedDevice arguments for the "
        "wa_simulated_device fixture (cpus, model, sdk, properties, debuggable...)")


@pytest.fixture(scope="session")
def wa_adb_server() -> Iterator[AdbServer]:
    """A private adb server (adbutils' adb 36) on a free port, for the whole session."""
    server = AdbServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def wa_simulated_devices(wa_adb_server: AdbServer) -> Iterator[Callable[..., ConnectedDevice]]:
    """A factory: ``make(**SimulatedDevice kwargs)`` starts and attaches one more device."""
    started: list[ConnectedDevice] = []

    def make(**kwargs: Any) -> ConnectedDevice:
        device = SimulatedDevice(**kwargs).start()
        connected = ConnectedDevice(device, wa_adb_server)
        started.append(connected)
        return connected.connect()

    try:
        yield make
    finally:
        for connected in reversed(started):
            connected.stop()


@pytest.fixture
def wa_simulated_device(request: pytest.FixtureRequest,
                        wa_simulated_devices: Callable[..., ConnectedDevice]) -> ConnectedDevice:
    """One simulated device, booted and attached to ``wa_adb_server``."""
    marker = request.node.get_closest_marker("wa_simulated_device")
    return wa_simulated_devices(**(marker.kwargs if marker else {}))
