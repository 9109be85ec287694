"""``python -m pytest_wa.testing.simdevice``: run one simulated device until SIGTERM/SIGINT.

Prints exactly one line on stdout once the device accepts connections::

    simulated device ready: 127.0.0.1:PORT

Attach it to an adb server with ``adb connect 127.0.0.1:PORT``. Logs go to
stderr. If no mount namespace can be had, prints a one-line error and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys

from . import linux
from .adbd import READY, Adbd, DeviceConfig
from .process import reap_orphans
from .rootfs import DeviceRoot, SetupError, enter_namespace, make_workdir


def _property(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pytest_wa.testing.simdevice",
                                description="A simulated Android device: an adbd on TCP.")
    p.add_argument("--port", type=int, default=0, help="TCP port (0: a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--model", default="SimPhone", help="ro.product.model")
    p.add_argument("--name", default="", help="ro.product.name (default: from the model)")
    p.add_argument("--device", default="", help="ro.product.device (default: from the model)")
    p.add_argument("--serial", default="", help="ro.serialno (default: sim-PORT)")
    p.add_argument("--cpus", type=int, default=8, help="number of CPUs (two clusters)")
    p.add_argument("--sdk", type=int, default=33, help="ro.build.version.sdk")
    p.add_argument("--abi", default="arm64-v8a", help="ro.product.cpu.abi")
    p.add_argument("--not-debuggable", action="store_true",
                   help="a production build: ro.debuggable=0, adb root refused")
    p.add_argument("--boot-time", type=float, default=1.0,
                   help="seconds the port stays closed during a reboot")
    p.add_argument("--boot-completed-delay", type=float, default=0.1,
                   help="seconds after each boot until sys.boot_completed=1")
    p.add_argument("--restart-time", type=float, default=0.2,
                   help="seconds adbd is away when restarting for root/unroot")
    p.add_argument("--spawn", choices=("auto", "preexec", "chroot"), default="auto",
                   help="how commands enter the device root: a preexec function, or the "
                        "host's GNU chroot(8) (faster); auto: chroot(8) when there is one")
    p.add_argument("--prop", type=_property, action="append", default=[], metavar="KEY=VALUE",
                   help="an extra system property (repeatable)")
    p.add_argument("--missing-tool", action="append", default=[], metavar="TOOL",
                   help="leave this tool out of /system/bin, as older or minimal builds do "
                        "(settings, wm, dumpsys...; repeatable)")
    p.add_argument("--getprop-no-list", action="store_true",
                   help="getprop needs a name: alone it lists nothing and fails")
    p.add_argument("--root", default=None,
                   help="build the device tree here (default: in memory, in the work dir)")
    p.add_argument("--keep", action="store_true",
                   help="keep the --root tree when stopping (its /data survives)")
    p.add_argument("--workdir", default=None,
                   help="an empty directory for private state (default: a new temp dir)")
    p.add_argument("--parent-pid", type=int, default=None,
                   help="stop when this process exits")
    p.add_argument("-v", "--verbose", action="count", default=0)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2), stream=sys.stderr,
        format=f"simdevice[{os.getpid()}] %(levelname)s %(name)s: %(message)s")
    try:
        config = DeviceConfig(
            port=args.port, host=args.host, model=args.model, name=args.name,
            device=args.device, serial=args.serial, cpus=args.cpus, sdk=args.sdk, abi=args.abi,
            debuggable=not args.not_debuggable, boot_time=args.boot_time,
            boot_completed_delay=args.boot_completed_delay, restart_time=args.restart_time,
            properties=dict(args.prop), spawn=args.spawn,
            missing_tools=tuple(args.missing_tool), getprop_lists=not args.getprop_no_list)
    except ValueError as error:
        return _error(str(error))
    if args.keep and not args.root:
        return _error("--keep needs --root (the default tree lives in memory)")
    try:
        userns = enter_namespace()
    except (SetupError, OSError) as error:
        return _error(str(error))
    os.umask(0o022)
    if os.getuid() == 0 and not userns:
        os.setgroups([])  # permission checks as the shell user must not see root's groups
    workdir = args.workdir or make_workdir()
    rootfs = DeviceRoot(workdir, root=args.root, cpu_count=config.cpus,
                        hardware=config.device, userns=userns,
                        missing_tools=config.missing_tools, getprop_lists=config.getprop_lists)
    try:
        try:
            rootfs.build()
        except OSError as error:
            return _error(f"cannot build the device tree: {error}")
        return asyncio.run(_serve(config, rootfs, args.parent_pid))
    finally:
        rootfs.close(keep=args.keep)


async def _serve(config: DeviceConfig, rootfs: DeviceRoot, parent_pid: int | None) -> int:
    adbd = Adbd(config, rootfs)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(signum, adbd.stop)
    linux.set_child_subreaper()
    loop.add_signal_handler(signal.SIGCHLD, reap_orphans)
    if parent_pid is not None:
        try:
            watch = os.pidfd_open(parent_pid)
        except OSError:
            return _error(f"parent process {parent_pid} is gone")

        def parent_gone() -> None:
            loop.remove_reader(watch)
            adbd.stop()

        loop.add_reader(watch, parent_gone)

    def ready(address: str) -> None:
        with contextlib.suppress(OSError):
            print(READY + address, flush=True)

    await adbd.run(ready)
    return 0


def _error(message: str) -> int:
    print(f"simdevice: error: {message}", file=sys.stderr, flush=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())
