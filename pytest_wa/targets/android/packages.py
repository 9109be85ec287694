"""Installing and removing Android packages with ``pm``.

An APK is pushed into a directory of its own under the run's working
directory and installed from there (``pm`` cannot read this host's files),
and the copy is removed whatever the outcome. ``pm`` reports some failures
with exit code 0, so success is its "Success" line.
"""

from __future__ import annotations

import os
import posixpath
import secrets
import shlex
from typing import Protocol

from ...model.errors import TargetError
from ..base import DEFAULT_TIMEOUT
from ..protocols import CommandRunner, FileTransfer


class AndroidTarget(CommandRunner, FileTransfer, Protocol):
    """What installing needs of the device: commands, a push, a name for messages."""

    @property
    def address(self) -> str: ...


def install(target: AndroidTarget, apk: str, scratch: str, *, replace: bool = True,
            grant_permissions: bool = True, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Install ``apk`` from this host by way of a directory under ``scratch`` on the device."""
    directory = posixpath.join(scratch, f"install-{secrets.token_hex(4)}")
    remote = posixpath.join(directory, os.path.basename(apk))
    target.execute(f"mkdir -p {shlex.quote(directory)}", check=True, timeout=30)
    flags = (" -r" if replace else "") + (" -g" if grant_permissions else "")
    try:
        target.push(apk, remote, timeout=timeout)
        result = target.execute(f"pm install{flags} {shlex.quote(remote)}", timeout=timeout)
    finally:
        target.execute(f"rm -rf {shlex.quote(directory)}", timeout=30)
    if not result.ok or "Success" not in result.stdout:
        detail = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
        raise TargetError(f"{target.address}: cannot install {apk}: {detail[0]}")


def uninstall(target: AndroidTarget, package: str, *, timeout: float = 120.0) -> None:
    """Remove ``package``; anything but ``pm``'s "Success" (not installed...) is an error."""
    result = target.execute(f"pm uninstall {shlex.quote(package)}", timeout=timeout)
    if not result.ok or "Success" not in result.stdout:
        detail = (result.stdout + result.stderr).strip() or "no output"
        raise TargetError(f"{target.address}: cannot uninstall {package}: {detail}")


def installed_packages(target: AndroidTarget) -> list[str]:
    """The names ``pm list packages`` gives."""
    output = target.execute("pm list packages", check=True, timeout=60).stdout
    return [line.split(":", 1)[1].strip() for line in output.splitlines()
            if line.startswith("package:")]
