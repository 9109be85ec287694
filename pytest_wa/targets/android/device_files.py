"""Files between this host and an Android device, through adbutils' sync service.

adb's sync service copies one file at a time, so directories are walked
here: pushed file by file into directories made on the device, pulled from a
listing the device gives in one command. Files a device command makes (a
screenshot, a UI dump) are made in the run's directory on the device, pulled,
and deleted there.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from typing import Any, Protocol

from ...model.errors import TargetError
from ..protocols import CommandRunner, FileTransfer
from .adb_client import AdbServer


class AndroidTarget(CommandRunner, FileTransfer, Protocol):
    """What moving files needs of the device: its adb server and serial, commands."""

    @property
    def address(self) -> str: ...
    server: AdbServer
    serial: str


def sync_device(target: AndroidTarget, timeout: float) -> Any:
    """adbutils' handle on the device, whose ``sync`` pushes and pulls files."""
    import adbutils  # heavy: imported on the first transfer

    client = adbutils.AdbClient(host=target.server.host, port=target.server.port,
                                socket_timeout=timeout)
    return client.device(target.serial)


def push(target: AndroidTarget, source: str, destination: str, timeout: float) -> None:
    """A file, or a directory's contents, from this host to ``destination`` on the device."""
    try:
        device = sync_device(target, timeout)
        if os.path.isdir(source):
            for root, _, files in os.walk(source):
                relative = os.path.relpath(root, source)
                remote = posixpath.normpath(posixpath.join(
                    destination, relative.replace(os.sep, "/")))
                target.execute(f"mkdir -p {shlex.quote(remote)}", check=True, timeout=timeout)
                for name in files:
                    device.sync.push(os.path.join(root, name), posixpath.join(remote, name))
        else:
            device.sync.push(source, destination)
    except TargetError:
        raise
    except Exception as exc:  # adbutils raises its own and socket errors
        raise TargetError(f"{target.address}: cannot push {source} to {destination}: "
                          f"{exc}") from None


def pull(target: AndroidTarget, source: str, destination: str, timeout: float) -> None:
    """A file, or a directory's contents, from the device to ``destination`` on this host."""
    listing = _files_under(target, source, timeout)
    try:
        device = sync_device(target, timeout)
        if listing == ["."]:
            os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
            device.sync.pull(source, destination)
            return
        for relative in listing:
            local = os.path.join(destination, *relative[2:].split("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            device.sync.pull(posixpath.join(source, relative[2:]), local)
    except Exception as exc:
        raise TargetError(f"{target.address}: cannot pull {source} to {destination}: "
                          f"{exc}") from None


def _files_under(target: AndroidTarget, source: str, timeout: float) -> list[str]:
    """``["."]`` for a file; ``./relative/path`` of each file under a directory."""
    quoted = shlex.quote(source)
    found = target.execute(f"if [ -d {quoted} ]; then cd {quoted} && find . -type f; "
                           f"elif [ -e {quoted} ]; then echo .; else exit 3; fi",
                           timeout=timeout)
    if found.exit_code == 3:
        raise TargetError(f"{target.address}: cannot pull {source}: no such file or "
                          "directory on the device")
    if not found.ok:
        raise TargetError(f"{target.address}: cannot pull {source}: "
                          f"{(found.stderr or found.stdout).strip()}")
    return found.stdout.splitlines()


def capture_to_host(target: AndroidTarget, command: str, remote: str, destination: str,
                    timeout: float) -> None:
    """Run ``command`` (``{}``: the file it writes, ``remote``) and pull that file here."""
    target.execute(command.format(shlex.quote(remote)), check=True, timeout=timeout)
    try:
        target.pull(remote, destination, timeout=timeout)
    finally:
        target.execute(f"rm -f {shlex.quote(remote)}", timeout=30)
