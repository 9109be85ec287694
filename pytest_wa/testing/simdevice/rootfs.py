"""The device's file tree, built once at start in a mount namespace of its own.

The adbd process unshares its mount namespace and makes every mount private,
so nothing it mounts is ever seen by the host (and everything vanishes with
the namespace). The device root holds read-only binds of the host's /usr,
/etc... (so sh, cat and sleep work), the device's own /system tools, a
persistent /data, /sdcard, tmpfs /tmp and /sys (with the hardware of hardware.py),
and binds of the host's /dev and /proc with a fake /proc/cpuinfo on top.
Commands chroot into it (see ``shell.py``), so per command there is no mount
work at all.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import stat
import tempfile
from collections.abc import Callable

from . import cpus, hardware, linux, tools
from .hardware import HardwareClock
from .paths import RUNNING

SHELL_UID = 2000
SHELL_GID = 2000
HOST_DIRS = ("bin", "sbin", "usr", "lib", "lib32", "lib64", "libx32", "etc")
MAX_SYMLINKS = 40
TRACEFS = "/sys/kernel/tracing"

# (device path, mode, owned by the shell user); created when missing, never emptied.
DIRECTORIES = (
    ("system", 0o755, False),
    ("vendor", 0o755, False),
    ("data", 0o771, False),
    ("data/local", 0o751, False),
    ("data/local/tmp", 0o771, True),
    ("data/app", 0o771, True),
    ("data/data", 0o771, False),
    ("data/system", 0o775, True),
    ("data/property", 0o711, False),
    ("data/misc", 0o771, False),
    ("data/misc/logd", 0o711, False),
    ("storage", 0o751, False),
    ("storage/emulated", 0o711, False),
    ("storage/emulated/0", 0o771, True),
    ("storage/emulated/0/Download", 0o771, True),
    ("storage/emulated/0/DCIM", 0o771, True),
    ("storage/emulated/0/Pictures", 0o771, True),
    ("storage/emulated/0/Android", 0o771, True),
    ("storage/self", 0o755, False),
    ("mnt", 0o755, False),
    ("dev", 0o755, False),
    ("proc", 0o555, False),
    ("sys", 0o755, False),
    ("tmp", 0o1777, False),
)
SYMLINKS = (
    ("storage/self/primary", "/storage/emulated/0"),
    ("sdcard", "/storage/self/primary"),
)
# (device path, mode, owned by the shell user, initial content)
FILES = (
    (tools.PROPS, 0o666, False, ""),
    (tools.PACKAGES, 0o664, True, tools.package_list()),
    (tools.SETTINGS, 0o664, True, ""),
    (tools.LOG, 0o666, False, ""),
    (RUNNING, 0o666, True, ""),
)


class SetupError(Exception):
    """The device tree cannot be built here (no mount namespace available)."""


def enter_namespace() -> bool:
    """Move this process into private mount and UTS namespaces; True if a user namespace was needed.

    As root, CLONE_NEWNS alone. Otherwise a user namespace where we are root
    (our uid mapped to 0) gives us the right to mount; uid 2000 does not exist
    there, so the shell user is then root too.
    """
    userns = False
    try:
        linux.unshare(linux.CLONE_NEWNS | linux.CLONE_NEWUTS)
    except PermissionError:
        uid, gid = os.getuid(), os.getgid()
        try:
            linux.unshare(linux.CLONE_NEWUSER | linux.CLONE_NEWNS | linux.CLONE_NEWUTS)
            _write_file("/proc/self/setgroups", "deny")
            _write_file("/proc/self/uid_map", f"0 {uid} 1")
            _write_file("/proc/self/gid_map", f"0 {gid} 1")
        except OSError as error:
            raise SetupError(
                "cannot create a mount namespace: run as root, or enable unprivileged user "
                f"namespaces ({error.strerror})") from None
        userns = True
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    socket.sethostname("localhost")  # what `hostname` says on a phone
    return userns


def _write_file(path: str, content: str) -> None:
    with open(path, "w", encoding="ascii") as handle:
        handle.write(content)


class DeviceRoot:
    """Builds, resets and removes the device tree; resolves device paths inside it."""

    def __init__(self, workdir: str, *, root: str | None, cpu_count: int, hardware: str,
                 userns: bool, missing_tools: tuple[str, ...] = (),
                 getprop_lists: bool = True) -> None:
        self.workdir = workdir
        self.state = os.path.join(workdir, "state")
        self.root = os.path.abspath(root) if root else os.path.join(workdir, "root")
        self.root_given = root is not None
        self.cpu_count = cpu_count
        self.hardware = hardware
        self.userns = userns
        self.missing_tools = missing_tools
        self.getprop_lists = getprop_lists
        self.shell_uid = 0 if userns else SHELL_UID
        self.shell_gid = 0 if userns else SHELL_GID
        self.root_fd = -1
        self._mounts: list[str] = []
        self.clock: HardwareClock | None = None

    def path(self, device_path: str) -> str:
        """The host path of a device path, without resolving symlinks (for our own files)."""
        return os.path.join(self.root, device_path.lstrip("/"))

    # -- building ------------------------------------------------------------------

    def build(self) -> None:
        self._mount(None, self.workdir, "tmpfs", data="mode=0755")
        os.makedirs(self.state, mode=0o700)
        os.makedirs(self.root, mode=0o755, exist_ok=True)
        os.chmod(self.root, 0o755)
        for name in HOST_DIRS:
            self._host_dir(name)
        for relative, mode, shell_owned in DIRECTORIES:
            path = os.path.join(self.root, relative)
            os.makedirs(path, exist_ok=True)
            os.chmod(path, mode)
            if shell_owned:
                os.chown(path, self.shell_uid, self.shell_gid)
        for relative, target in SYMLINKS:
            if not os.path.lexists(os.path.join(self.root, relative)):
                os.symlink(target, os.path.join(self.root, relative))
        for device_path, mode, shell_owned, content in FILES:
            path = self.path(device_path)
            if not os.path.exists(path):
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(content)
            os.chmod(path, mode)
            if shell_owned:
                os.chown(path, self.shell_uid, self.shell_gid)
        tools.install(self.path("/system"), missing=self.missing_tools,
                      getprop_lists=self.getprop_lists)
        self._users()
        self._mount("/dev", self.path("/dev"), recursive=True)
        self._mount("/proc", self.path("/proc"), recursive=True)
        cpuinfo = os.path.join(self.state, "cpuinfo")
        _write_file(cpuinfo, cpus.cpuinfo_text(self.cpu_count, self.hardware))
        os.chmod(cpuinfo, 0o444)
        self._mount(cpuinfo, self.path("/proc/cpuinfo"))
        self.boot()
        self.root_fd = os.open(self.root, os.O_PATH | os.O_DIRECTORY)
        self.clock = HardwareClock(self.path("/sys"))
        self.clock.start()

    def _host_dir(self, name: str) -> None:
        host = "/" + name
        target = os.path.join(self.root, name)
        if os.path.islink(host):
            if not os.path.lexists(target):
                os.symlink(os.readlink(host), target)
        elif os.path.isdir(host):
            os.makedirs(target, exist_ok=True)
            self._mount(host, target, readonly=True)

    def _users(self) -> None:
        """Give uid 2000 its Android name, so ``id`` says "shell" as on a phone."""
        for name, line in (("passwd", "shell:x:2000:2000:shell:/:/system/bin/sh\n"),
                           ("group", "shell:x:2000:\n")):
            target = self.path(f"/etc/{name}")
            if self.userns or not os.path.isfile(target):
                continue
            with open(target, encoding="utf-8", errors="replace") as handle:
                content = handle.read()
            if any(entry.split(":")[2:3] == ["2000"] for entry in content.splitlines()):
                continue
            copy = os.path.join(self.state, name)
            _write_file(copy, content + ("" if content.endswith("\n") else "\n") + line)
            os.chmod(copy, 0o644)
            self._mount(copy, target)

    def _mount(self, source: str | None, target: str, fstype: str | None = None, *,
               data: str | None = None, recursive: bool = False, readonly: bool = False) -> None:
        if fstype is not None:
            linux.mount(fstype, target, fstype, linux.MS_NOSUID | linux.MS_NODEV, data)
        else:
            assert source is not None
            linux.bind(source, target, recursive=recursive, readonly=readonly)
        self._mounts.append(target)

    def boot(self) -> None:
        """Volatile state as a fresh boot has it: a new /sys and /tmp, an empty log, no
        app running."""
        for device_path, options in (("/sys", "mode=0755"), ("/tmp", "mode=1777")):
            path = self.path(device_path)
            if path in self._mounts:
                linux.umount(path)
                self._mounts.remove(path)
            self._mount(None, path, "tmpfs", data=options)
        hardware.build(self.path("/sys"), self.cpu_count)
        self._mount_tracefs()
        for volatile in (tools.LOG, RUNNING):
            with open(self.path(volatile), "w", encoding="utf-8"):
                pass

    def _mount_tracefs(self) -> None:
        """The kernel's tracefs at /sys/kernel/tracing, as a phone has it (ftrace is the
        host kernel's, shared with the host); left out where this process may not mount
        it (an unprivileged user namespace)."""
        path = self.path(TRACEFS)
        if path in self._mounts:  # detached with the old /sys
            self._mounts.remove(path)
        os.makedirs(path, exist_ok=True)
        with contextlib.suppress(OSError):
            self._mount(None, path, "tracefs")

    # -- processes -----------------------------------------------------------------

    def kill_processes(self) -> int:
        """SIGKILL every process in our mount namespace but us: what a reboot does.

        Commands that left their process group (setsid, daemons) are found too.
        """
        me = os.getpid()
        namespace = linux.mount_namespace_id()
        return kill_namespace(namespace, exclude=me)

    # -- removing ------------------------------------------------------------------

    def close(self, keep: bool) -> None:
        """Unmount everything; remove what the device created unless ``keep``."""
        if self.clock is not None:
            self.clock.stop()
            self.clock.join()
        if self.root_fd >= 0:
            os.close(self.root_fd)
            self.root_fd = -1
        for target in reversed(self._mounts):
            try:
                linux.umount(target)
            except OSError as error:
                if error.errno not in (errno.EINVAL, errno.ENOENT):
                    raise
        self._mounts.clear()
        if self.root_given and not keep:
            remove_tree(self.root)
        remove_tree(self.workdir)

    # -- device paths --------------------------------------------------------------

    def resolve(self, device_path: str, *, follow: bool = True) -> str:
        """The path relative to ``root_fd`` that ``device_path`` names on the device.

        Symlinks are followed as the device would follow them: an absolute
        target starts again from the device root and ``..`` stops at it, so the
        result never leaves the tree. The last component is followed only when
        ``follow``. Missing components are kept as they are (for creating).
        """
        pending = [part for part in reversed(device_path.split("/")) if part not in ("", ".")]
        resolved: list[str] = []
        hops = 0
        while pending:
            name = pending.pop()
            if name == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = "/".join([*resolved, name])
            if not pending and not follow:
                resolved.append(name)
                break
            try:
                info = os.lstat(candidate, dir_fd=self.root_fd)
            except (FileNotFoundError, NotADirectoryError):
                resolved.append(name)
                continue
            if not stat.S_ISLNK(info.st_mode):
                resolved.append(name)
                continue
            hops += 1
            if hops > MAX_SYMLINKS:
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), device_path)
            target = os.readlink(candidate, dir_fd=self.root_fd)
            if target.startswith("/"):
                resolved = []
            pending.extend(part for part in reversed(target.split("/")) if part not in ("", "."))
        return "/".join(resolved) or "."


def kill_namespace(namespace: int, exclude: int = -1, device: int | None = None) -> int:
    """SIGKILL every process whose mount namespace has inode ``namespace`` (on ``device``)."""
    killed = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == exclude:
            continue
        try:
            info = os.stat(f"/proc/{entry}/ns/mnt")
            if info.st_ino != namespace or (device is not None and info.st_dev != device):
                continue
            os.kill(int(entry), signal.SIGKILL)
            killed += 1
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return killed


def _mount_points() -> set[str]:
    points = set()
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) > 4:
                points.add(fields[4].encode().decode("unicode_escape"))
    return points


def remove_tree(path: str) -> None:
    """``rm -rf path`` that never crosses into a mount (a bind of the host's /dev...)."""
    if not os.path.lexists(path):
        return
    mounts = _mount_points()
    if path in mounts:
        return
    try:
        device = os.lstat(path).st_dev
    except FileNotFoundError:
        return

    def remove(directory: str) -> None:
        for entry in os.scandir(directory):
            full = os.path.join(directory, entry.name)
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                if info.st_dev != device or full in mounts:
                    continue
                remove(full)
                _ignore_missing(os.rmdir, full)
            else:
                _ignore_missing(os.unlink, full)

    if os.path.isdir(path) and not os.path.islink(path):
        remove(path)
        try:
            os.rmdir(path)
        except OSError as error:
            if error.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EBUSY):
                raise
    else:
        _ignore_missing(os.unlink, path)


def _ignore_missing(function: Callable[[str], None], path: str) -> None:
    try:
        function(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EBUSY):
            raise


def make_workdir() -> str:
    return tempfile.mkdtemp(prefix="pytest-wa-simdevice-")
