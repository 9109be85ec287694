"""Commands on the device: spawned chrooted into the device root, read without threads.

Each command is ``/system/bin/sh -c COMMAND`` in a session of its own
(setsid, so its pid is its process group id and a client can ``kill -- -PID``
the whole group), chrooted into the device root with / as its working
directory, as uid/gid 2000 ("shell") unless adbd runs as root. Pipes and the
pty are read through the event loop; the exit is noticed through a pidfd, so
no thread waits on any child.

Two ways to get into the root, same result: a preexec function (chroot,
chdir, setgroups, setgid, setuid in the child), or the host's GNU chroot(8)
(``chroot --userspec=2000:2000 --groups=2000 ROOT sh -c ...``). A preexec
function forces a real fork of the adbd process (about 1.5 ms on a small VM)
where Popen otherwise uses vfork, so chroot(8) makes a command about 1.8 ms
cheaper. ``auto`` uses chroot(8) when the host has GNU's, and preexec for a
pty (which must also become the controlling terminal) and where it has not.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import functools
import os
import pty
import signal
import struct
import subprocess
import termios
from dataclasses import dataclass
from typing import ClassVar

from . import linux

DEVICE_PATH = ("/product/bin:/apex/com.android.runtime/bin:/system/bin:/system/xbin:"
               "/vendor/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
SHELL = "/system/bin/sh"
CHUNK = 64 * 1024
SPAWN_METHODS = ("auto", "preexec", "chroot")


@functools.cache
def gnu_chroot() -> str | None:
    """The host's chroot(8) if it is GNU's (it has --userspec and --groups), else None."""
    for directory in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        path = os.path.join(directory, "chroot")
        if os.access(path, os.X_OK):
            try:
                version = subprocess.run([path, "--version"], capture_output=True, text=True,
                                         timeout=10).stdout
            except (OSError, subprocess.SubprocessError):
                return None
            return path if "coreutils" in version else None
    return None


@dataclass(frozen=True)
class Identity:
    """Who commands run as: the shell user (2000) or root."""

    uid: int
    gid: int
    name: str

    @property
    def switch(self) -> bool:
        return self.uid != os.getuid() or self.gid != os.getgid()


def environment(identity: Identity, hostname: str, term: str | None) -> dict[str, str]:
    env = {
        "PATH": DEVICE_PATH,
        "HOME": "/",
        "USER": identity.name,
        "LOGNAME": identity.name,
        "SHELL": SHELL,
        "HOSTNAME": hostname,
        "TMPDIR": "/data/local/tmp",
        "ANDROID_DATA": "/data",
        "ANDROID_ROOT": "/system",
        "ANDROID_STORAGE": "/storage",
        "EXTERNAL_STORAGE": "/sdcard",
    }
    if term:
        env["TERM"] = term
    return env


class Process:
    """One running command and the parent's ends of its stdin/stdout/stderr.

    With ``use_pty`` the three are one pty master; with ``merge_stderr``
    (shell protocol v1, ``exec:``) stderr goes down the stdout pipe.
    """

    # Commands whose exit we still wait for; other children are orphans to reap.
    unreaped: ClassVar[set[int]] = set()

    def __init__(self, command: str, *, root: str, identity: Identity, env: dict[str, str],
                 use_pty: bool = False, merge_stderr: bool = False, spawn: str = "auto") -> None:
        argv, preexec = _entering_argv(command, root, identity, use_pty, spawn)
        self.stdin_fd: int | None = None
        self.stderr_fd: int | None = None
        stdio, child_ends = self._open_stdio(use_pty, merge_stderr)
        self.popen = self._start(argv, env, preexec, stdio, child_ends)
        self.pid = self.popen.pid
        Process.unreaped.add(self.pid)
        self.use_pty = use_pty
        for fd in (self.stdin_fd, self.stdout_fd, self.stderr_fd):
            if fd is not None:
                os.set_blocking(fd, False)
        self._pidfd = os.pidfd_open(self.pid)
        self.returncode: int | None = None

    def _open_stdio(self, use_pty: bool, merge_stderr: bool) -> tuple[dict[str, int], list[int]]:
        """Open the parent's ends (kept on self); return the child's stdio and its ends."""
        child_ends: list[int] = []
        if use_pty:
            master, slave = pty.openpty()
            child_ends.append(slave)
            self.stdin_fd, self.stdout_fd = master, os.dup(master)
            return {"stdin": slave, "stdout": slave, "stderr": slave}, child_ends
        stdin_r, self.stdin_fd = os.pipe2(os.O_CLOEXEC)
        self.stdout_fd, stdout_w = os.pipe2(os.O_CLOEXEC)
        child_ends += [stdin_r, stdout_w]
        stdio = {"stdin": stdin_r, "stdout": stdout_w, "stderr": stdout_w}
        if not merge_stderr:
            self.stderr_fd, stderr_w = os.pipe2(os.O_CLOEXEC)
            child_ends.append(stderr_w)
            stdio["stderr"] = stderr_w
        return stdio, child_ends

    def _start(self, argv: list[str], env: dict[str, str], preexec: _Enter | None,
               stdio: dict[str, int], child_ends: list[int]) -> subprocess.Popen[bytes]:
        """Spawn the command; the child's ends are closed here, the parent's on failure."""
        try:
            return subprocess.Popen(
                argv, env=env, start_new_session=True, close_fds=True,
                preexec_fn=preexec, **stdio)  # type: ignore[call-overload]
        except BaseException:
            for fd in (self.stdin_fd, self.stdout_fd, self.stderr_fd):
                if fd is not None:
                    os.close(fd)
            raise
        finally:
            for fd in child_ends:
                os.close(fd)

    async def write_stdin(self, data: bytes) -> None:
        """Write all of ``data``, waiting while the pipe is full; dropped once stdin is closed."""
        view = memoryview(data)
        loop = asyncio.get_running_loop()
        while view and self.stdin_fd is not None:
            try:
                view = view[os.write(self.stdin_fd, view):]
                continue
            except BlockingIOError:
                pass
            except OSError:  # EPIPE: the command closed its stdin
                return
            fd = self.stdin_fd
            waiter: asyncio.Future[None] = loop.create_future()
            loop.add_writer(fd, _set, waiter)
            try:
                await waiter
            finally:
                loop.remove_writer(fd)

    def close_stdin(self) -> None:
        if self.stdin_fd is None:
            return
        if self.use_pty:
            with contextlib.suppress(OSError):
                os.write(self.stdin_fd, b"\x04")  # end of input for the pty's reader
            return
        os.close(self.stdin_fd)
        self.stdin_fd = None

    def resize(self, rows: int, cols: int) -> None:
        if self.use_pty and self.stdin_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.ioctl(self.stdin_fd, termios.TIOCSWINSZ, struct.pack("4H", rows, cols, 0, 0))

    async def wait(self) -> int:
        """The exit code as adbd reports it: the status, or 128 + the killing signal."""
        if self.returncode is None:
            await _readable(self._pidfd)
            code = self.popen.wait()
            Process.unreaped.discard(self.pid)
            self.returncode = code if code >= 0 else 128 - code
        return self.returncode

    def hangup(self) -> None:
        """What adbd does when the client goes away: SIGHUP to the command's process group."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGHUP)

    def close(self) -> None:
        for name in ("stdin_fd", "stdout_fd", "stderr_fd", "_pidfd"):
            fd = getattr(self, name)
            if fd is not None and fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, None if name != "_pidfd" else -1)


def _entering_argv(command: str, root: str, identity: Identity, use_pty: bool, spawn: str
                   ) -> tuple[list[str], _Enter | None]:
    """The argv that gets the command into the device root, and the preexec it needs (if any).

    GNU chroot(8) is the cheaper way in; a pty must become the controlling
    terminal in the child, which only a preexec function can do.
    """
    argv = [SHELL, "-c", command] if command else [SHELL, "-"]
    chroot = gnu_chroot() if spawn != "preexec" and not use_pty else None
    if chroot is None:
        return argv, _Enter(root, identity, use_pty)
    user = ([f"--userspec={identity.uid}:{identity.gid}", f"--groups={identity.gid}"]
            if identity.switch else [])
    return [chroot, *user, root, *argv], None


class _Enter:
    """The child's last steps before exec: into the device root, then become the user.

    Done in preexec (not with Popen's user/group arguments) because chroot
    must come before dropping root. Only async-signal-safe-ish calls here.
    """

    def __init__(self, root: str, identity: Identity, use_pty: bool) -> None:
        self.root = root
        self.identity = identity
        self.use_pty = use_pty

    def __call__(self) -> None:
        os.chroot(self.root)
        os.chdir("/")
        if self.use_pty:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        if self.identity.switch:
            os.setgroups([self.identity.gid])
            os.setgid(self.identity.gid)
            os.setuid(self.identity.uid)


def reap_orphans() -> None:
    """Reap the children that are not commands we wait for: what init does on a phone.

    adbd is a child subreaper, so a command's background processes come to us
    when their shell exits; without this they would stay zombies (and
    ``kill -0`` would still find them).
    """
    for pid in linux.children():
        if pid not in Process.unreaped:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


def _set(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _readable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, _set, waiter)
    try:
        await waiter
    finally:
        loop.remove_reader(fd)


async def read_fd(fd: int, size: int = CHUNK) -> bytes:
    """The next bytes from ``fd``, b"" at end of file (EIO on a pty counts as the end)."""
    while True:
        try:
            return os.read(fd, size)
        except BlockingIOError:
            pass
        except OSError as error:
            if error.errno == errno.EIO:  # pty: every slave end is closed
                return b""
            raise
        await _readable(fd)
