"""Which service an OPEN names (AOSP ``SERVICES.TXT``), and the small ones: reboot, root, unroot.

Unknown services are refused with a CLSE, as adbd refuses them. ``reboot:``
(with or without a target such as ``bootloader``) restarts the device:
connections drop, the port stays closed for the boot time, volatile state is
reset. ``root:`` and ``unroot:`` answer with adbd's own words and then
restart adbd only (connections drop briefly, nothing is reset).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from .process import Identity
from .props import Properties
from .rootfs import DeviceRoot
from .shell import ShellServices
from .sync import SyncService
from .transport import Handler, Stream


class Adbd(Protocol):
    """What the services need of the daemon that opens them (adbd.py)."""

    rootfs: DeviceRoot
    props: Properties
    shell: ShellServices
    is_root: bool

    def identity(self) -> Identity: ...
    def track(self, work: Awaitable[object]) -> None: ...
    async def reboot(self) -> None: ...
    async def restart_adbd(self, as_root: bool) -> None: ...

NOT_DEBUGGABLE = "adbd cannot run as root in production builds\n"
ALREADY_ROOT = "adbd is already running as root\n"
RESTARTING_ROOT = "restarting adbd as root\n"
NOT_ROOT = "adbd not running as root\n"
RESTARTING_UNROOT = "restarting adbd as non root\n"


def open_service(adbd: Adbd, name: str) -> Handler | None:
    """The handler for service ``name``, or None to refuse it."""
    if name == "shell" or name.startswith(("shell:", "shell,", "exec:")):
        return adbd.shell.handler(name)
    if name == "sync:":
        return SyncService(adbd.rootfs, adbd.identity())
    if name == "reboot" or name.startswith("reboot:"):
        return _reboot(adbd)
    if name == "root:":
        if adbd.props.get("ro.debuggable") != "1":
            return _reply(adbd, NOT_DEBUGGABLE)
        if adbd.is_root:
            return _reply(adbd, ALREADY_ROOT)
        return _reply(adbd, RESTARTING_ROOT, lambda: adbd.restart_adbd(as_root=True))
    if name == "unroot:":
        if not adbd.is_root:
            return _reply(adbd, NOT_ROOT)
        return _reply(adbd, RESTARTING_UNROOT, lambda: adbd.restart_adbd(as_root=False))
    return None


def _reboot(adbd: Adbd) -> Handler:
    """Like adbd, never answer: the stream ends when the device goes down.

    So ``adb reboot && adb wait-for-device`` cannot catch the device before it
    went down.
    """

    async def serve(stream: Stream) -> None:
        adbd.track(_after_a_moment(adbd.reboot))
        await stream.closed.wait()

    return serve


def _reply(adbd: Adbd, text: str,
           then: Callable[[], Awaitable[None]] | None = None) -> Handler:
    """A service that writes ``text``, closes, and then (once closed) runs ``then``."""

    async def serve(stream: Stream) -> None:
        if text:
            await stream.write(text.encode())
        if then is not None:
            await stream.close()
            adbd.track(_after_a_moment(then))

    return serve


async def _after_a_moment(action: Callable[[], Awaitable[None]]) -> None:
    # Let the CLSE (and the reply before it) leave before the connections drop.
    await asyncio.sleep(0.02)
    await action()
