"""Reaching an Android device through the adb server, and waiting for it.

The server is started when it runs on this host and is not up yet; a device
is found by serial (or is the only one attached); a device on TCP (a
``host:port`` serial) is reattached with ``adb connect`` when it dropped off.
After a reboot or an adbd restart the device first disappears from adb, then
comes back, then finishes booting: each of those is waited for, within a
timeout, and a device that does not come back is ``TargetNotRespondingError``.
"""

from __future__ import annotations

import contextlib
import subprocess
import time

from ...model.errors import TargetError, TargetNotRespondingError
from .adb_client import AdbServer, AdbServerError, AdbStreamClosed, AdbStreamTimeout
from .shell import decode

POLL_INTERVAL = 0.2
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def device_address(server: AdbServer, serial: str) -> str:
    """How messages name the device: its serial and the server it is reached through."""
    return f"adb {serial or '(any)'} (server {server.host}:{server.port})"


def is_network_serial(serial: str) -> bool:
    """``host:port`` serials are devices adb reaches over TCP (``adb connect``)."""
    host, _, port = serial.rpartition(":")
    return bool(host) and port.isdigit()


def ensure_server(server: AdbServer) -> None:
    """Use the running adb server, or start one when it is on this host."""
    with contextlib.suppress(AdbServerError):
        server.query("host:version", timeout=2)
        return
    if server.host not in _LOCAL_HOSTS:
        raise TargetError(f"cannot reach the adb server at {server.host}:{server.port}")
    from adbutils._utils import adb_path  # adbutils is heavy: imported when needed

    try:
        subprocess.run([adb_path(), "-P", str(server.port), "start-server"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=30, check=True)
        server.query("host:version", timeout=5)
    except (OSError, subprocess.SubprocessError, AdbServerError) as exc:
        raise TargetError(f"cannot start an adb server on port {server.port}: "
                          f"{exc}") from None


def only_device(server: AdbServer) -> str:
    """The serial of the one device ready on ``server``; an error if there are more or none."""
    listing = server.query("host:devices")
    ready = [line.split("\t")[0] for line in listing.splitlines()
             if line.endswith("\tdevice")]
    if len(ready) == 1:
        return ready[0]
    found = ", ".join(ready) or "none"
    raise TargetError(f"set the device serial: adb server {server.host}:"
                      f"{server.port} has {len(ready)} devices ready ({found})")


def wait_for_device(server: AdbServer, serial: str, timeout: float, *, boot: bool) -> None:
    """Until adb reports the device ready (and, after a reboot, booted)."""
    deadline = time.monotonic() + timeout
    state = "absent"
    answer = ""
    while True:
        try:
            if is_network_serial(serial) and state in ("absent", "offline"):
                answer = server.query(f"host:connect:{serial}", timeout=5)
            state = server.device_state(serial)
        except AdbServerError as exc:
            state = f"unreachable ({exc})"
        if state == "unauthorized":
            raise TargetError(f"{device_address(server, serial)}: unauthorized: accept the "
                              "USB debugging prompt on the device")
        if state == "device" and (not boot or boot_completed(server, serial)):
            return
        if time.monotonic() >= deadline:
            what = "did not finish booting" if state == "device" else f"is {state}"
            detail = f" (adb connect: {answer.strip()})" if state == "absent" and answer \
                else ""
            raise TargetNotRespondingError(f"{device_address(server, serial)} {what} after "
                                           f"{timeout:g} s{detail}")
        time.sleep(POLL_INTERVAL)


def boot_completed(server: AdbServer, serial: str) -> bool:
    """Whether Android finished booting: adb lists a device well before it has."""
    try:
        output = server.shell(serial, "getprop sys.boot_completed", 5)
    except (AdbServerError, AdbStreamClosed, AdbStreamTimeout, OSError):
        return False
    return decode(output.stdout).strip() == "1"


def wait_gone(server: AdbServer, serial: str, timeout: float) -> None:
    """After reboot/root the device drops off adb; wait for that before waiting back."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if server.device_state(serial) != "device":
                return
            server.shell(serial, "true", 1)
        except (AdbServerError, AdbStreamClosed, AdbStreamTimeout, OSError):
            return
        time.sleep(0.05)


def restart_adbd_as_root(server: AdbServer, serial: str, timeout: float) -> None:
    """``adb root``, and wait until the restarted adbd is back (``timeout``)."""
    answer = server.service_text(serial, "root:").strip()
    if "cannot run as root" in answer:
        raise TargetError(f"{device_address(server, serial)}: adb_as_root: {answer}")
    if "already running as root" not in answer:
        wait_gone(server, serial, 5.0)
        wait_for_device(server, serial, timeout, boot=False)
