"""The daemon: listening, booting, rebooting, root; one per simulated device.

It owns the listening socket (always the same port, across reboots), the
connections, the properties and the root state. A reboot drops every
connection, closes the port for the boot time, kills every process of the
device and resets its volatile state; an adbd restart (``adb root``) only
drops the connections for a moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..ports import RESERVED_PORTS
from . import services
from .process import SPAWN_METHODS, Identity, gnu_chroot
from .props import Properties, default_properties
from .rootfs import DeviceRoot
from .shell import ShellServices
from .tools import LOG, PROPS, SCRIPTS
from .transport import Connection, Handler

log = logging.getLogger("simdevice.adbd")

READY = "simulated device ready: "  # + ADDRESS: the line the CLI prints
FEATURES = ("shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir")


@dataclass
class DeviceConfig:
    """What makes one simulated device differ from another."""

    port: int = 0
    host: str = "127.0.0.1"
    model: str = "SimPhone"
    name: str = ""  # ro.product.name; from the model when empty
    device: str = ""  # ro.product.device; from the model when empty
    serial: str = ""  # ro.serialno; "sim-PORT" when empty
    cpus: int = 8
    sdk: int = 33
    abi: str = "arm64-v8a"
    debuggable: bool = True
    boot_time: float = 1.0
    boot_completed_delay: float = 0.1
    restart_time: float = 0.2
    properties: dict[str, str] = field(default_factory=dict)
    spawn: str = "auto"  # how commands enter the device root: see process.py
    missing_tools: tuple[str, ...] = ()  # tools of /system/bin left out (older/minimal builds)
    getprop_lists: bool = True  # False: getprop needs a name, as on some minimal builds

    def __post_init__(self) -> None:
        slug = "".join(c if c.isalnum() else "_" for c in self.model.lower()) or "sim"
        self.name = self.name or slug
        self.device = self.device or slug
        if self.cpus < 1:
            raise ValueError("a device needs at least one CPU")
        if self.spawn not in SPAWN_METHODS:
            raise ValueError(f"spawn must be one of {', '.join(SPAWN_METHODS)}")
        if self.spawn == "chroot" and gnu_chroot() is None:
            raise ValueError("spawn=chroot needs GNU chroot(8) on the host")
        unknown = sorted(set(self.missing_tools) - set(SCRIPTS))
        if unknown:
            raise ValueError(f"no such device tool to leave out: {', '.join(unknown)} "
                             f"(the tools: {', '.join(SCRIPTS)})")
        if self.port in RESERVED_PORTS:
            raise ValueError(f"port {self.port} is reserved for adb (5037) or emulators "
                             "(5555-5585)")


class Adbd:
    def __init__(self, config: DeviceConfig, rootfs: DeviceRoot) -> None:
        self.config = config
        self.rootfs = rootfs
        self.is_root = False
        self.port = config.port
        self.props = Properties(rootfs.path(PROPS))
        self.shell = ShellServices(lambda: rootfs.root, self.identity, config.device, self.track,
                                   config.spawn)
        gnu_chroot()  # looked up now, not at the first command
        self._connections: set[Connection] = set()
        self._server: asyncio.AbstractServer | None = None
        self._background: set[asyncio.Task[object]] = set()
        self._booted: asyncio.TimerHandle | None = None
        self._busy = False
        self._stopping = asyncio.Event()
        self.boots = 0

    # -- who we are ----------------------------------------------------------------

    def identity(self) -> Identity:
        if self.is_root:
            return Identity(os.getuid(), os.getgid(), "root")
        return Identity(self.rootfs.shell_uid, self.rootfs.shell_gid, "shell")

    def banner(self) -> str:
        c = self.config
        return (f"device::ro.product.name={c.name};ro.product.model={c.model};"
                f"ro.product.device={c.device};features={','.join(FEATURES)}")

    def open_service(self, name: str) -> Handler | None:
        if self._busy:
            return None
        return services.open_service(self, name)

    def track(self, work: Awaitable[object]) -> None:
        """Run ``work`` in the background, keeping a reference until it is done."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- lifecycle -----------------------------------------------------------------

    async def run(self, ready: Callable[[str], None]) -> None:
        """Boot, listen, tell ``ready`` the address, and serve until ``stop``."""
        sock = self._bind()
        self._boot()
        await self._serve(sock)
        ready(f"{self.config.host}:{self.port}")
        await self._stopping.wait()
        await self._go_down()
        self.rootfs.kill_processes()
        for task in list(self._background):
            task.cancel()

    def stop(self) -> None:
        self._stopping.set()

    async def reboot(self) -> None:
        """``adb reboot``: down for boot_time, then a fresh boot with /data kept."""
        if self._busy:
            return
        self._busy = True
        try:
            log.info("rebooting")
            await self._go_down()
            self.rootfs.kill_processes()
            await asyncio.sleep(self.config.boot_time)
            self.is_root = False
            self.rootfs.boot()
            sock = await self._bind_again()
            self._boot()
            await self._serve(sock)
        finally:
            self._busy = False

    async def restart_adbd(self, as_root: bool) -> None:
        """``adb root``/``adb unroot``: adbd restarts, the rest of the device does not."""
        if self._busy:
            return
        self._busy = True
        try:
            log.info("restarting adbd (root=%s)", as_root)
            await self._go_down(rebooting=False)
            await asyncio.sleep(self.config.restart_time)
            self.is_root = as_root
            self.props.update(**{"service.adb.root": "1" if as_root else "0"})
            await self._serve(await self._bind_again())
        finally:
            self._busy = False

    # -- internals -----------------------------------------------------------------

    def _boot(self) -> None:
        self.boots += 1
        c = self.config
        defaults = default_properties(
            model=c.model, name=c.name, device=c.device, sdk=c.sdk, debuggable=c.debuggable,
            serial=c.serial or f"sim-{self.port}", abi=c.abi)
        defaults.update(c.properties)
        defaults["service.adb.root"] = "1" if self.is_root else "0"
        self.props.boot(defaults)
        if self._booted is not None:
            self._booted.cancel()
        self._booted = asyncio.get_running_loop().call_later(
            c.boot_completed_delay, self._boot_completed)

    def _boot_completed(self) -> None:
        self._booted = None
        self.props.update(**{"sys.boot_completed": "1", "dev.bootcomplete": "1"})
        now = time.time()
        stamp = time.strftime("%m-%d %H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
        with contextlib.suppress(OSError), open(self.rootfs.path(LOG), "a",
                                                encoding="utf-8") as handle:
            handle.write(f"{stamp} {os.getpid():5d} {os.getpid():5d} I "
                         f"{'BootReceiver':8s}: boot {self.boots} completed\n")

    async def _serve(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._connection, sock=sock)
        log.info("listening on %s:%d", self.config.host, self.port)

    def _bind(self) -> socket.socket:
        for _attempt in range(20):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.config.host, self.port))
            except OSError:
                sock.close()
                raise
            if sock.getsockname()[1] not in RESERVED_PORTS:
                self.port = sock.getsockname()[1]
                sock.listen(16)
                sock.setblocking(False)
                return sock
            sock.close()
        raise OSError("no free port outside adb's ranges")

    async def _bind_again(self, patience: float = 10.0) -> socket.socket:
        """Our port again, after a reboot; if someone took it meanwhile, wait, then give up."""
        deadline = time.monotonic() + patience
        while True:
            try:
                return self._bind()
            except OSError as error:
                if time.monotonic() > deadline:
                    log.error("cannot listen on port %d again (%s): stopping", self.port, error)
                    self.stop()
                    raise
                await asyncio.sleep(0.1)

    def _connection(self) -> Connection:
        connection = Connection(self.banner, self.open_service, self._connections.discard)
        self._connections.add(connection)
        return connection

    async def _go_down(self, rebooting: bool = True) -> None:
        """Stop listening and drop every connection (their streams close, commands get SIGHUP)."""
        if rebooting and self._booted is not None:
            self._booted.cancel()
            self._booted = None
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in list(self._connections):
            connection.drop()
        self._connections.clear()
        await asyncio.sleep(0)
