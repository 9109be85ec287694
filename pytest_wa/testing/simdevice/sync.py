"""The ``sync:`` service (AOSP ``SYNC.TXT``): STAT, LIST, SEND, RECV, QUIT, plus STA2/LST2/LIS2.

Requests are a 4-byte id and a little-endian uint32 length, then the path.
Device paths are resolved inside the device root (``DeviceRoot.resolve``),
and every file operation is made through a descriptor of the root, so no
path can reach the host. When adbd is not root, files are created and
permissions checked as the shell user (the thread's fsuid/fsgid are switched
for the duration of each operation), so a push leaves files the shell user
owns, and a push to a root-only place fails as on a phone.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import linux
from .process import Identity
from .rootfs import DeviceRoot
from .transport import Stream, StreamClosed

log = logging.getLogger("simdevice.sync")

REQUEST = struct.Struct("<4sI")
STAT_V1 = struct.Struct("<4sIII")
DENT_V1 = struct.Struct("<4sIIII")
STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")
DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")
MAX_PATH = 1024
MAX_DATA = 1024 * 1024  # what we accept in one DATA; clients send 64 KiB
SEND_CHUNK = 64 * 1024  # SYNC_DATA_MAX: what we send in one DATA


class _Failed(Exception):
    """A request failed; the message goes to the client in a FAIL."""


class _Reader:
    """Exact-size reads over the stream's payloads."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._buffer = bytearray()

    async def exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            data = await self._stream.read()
            if not data:
                raise StreamClosed()
            self._buffer += data
        result = bytes(self._buffer[:size])
        del self._buffer[:size]
        return result


class SyncService:
    def __init__(self, root: DeviceRoot, identity: Identity) -> None:
        self.root = root
        self.identity = identity

    @contextlib.contextmanager
    def _as_user(self) -> Iterator[None]:
        """File system checks as the device user: what adbd's own uid would give."""
        if self.identity.uid == os.geteuid() and self.identity.gid == os.getegid():
            yield
            return
        old_gid = linux.setfsgid(self.identity.gid)
        old_uid = linux.setfsuid(self.identity.uid)
        try:
            yield
        finally:
            linux.setfsuid(old_uid)
            linux.setfsgid(old_gid)

    async def __call__(self, stream: Stream) -> None:
        reader = _Reader(stream)
        while True:
            request, length = REQUEST.unpack(await reader.exactly(REQUEST.size))
            if request == b"QUIT":
                return
            if length > MAX_PATH:
                await _fail(stream, "path too long")
                return
            path = (await reader.exactly(length)).decode("utf-8", "surrogateescape")
            log.debug("%s %s", request.decode("ascii", "replace"), path)
            if request == b"STAT":
                await stream.write(self._stat_v1(path))
            elif request in (b"STA2", b"LST2"):
                await stream.write(self._stat_v2(path, follow=request == b"STA2"))
            elif request in (b"LIST", b"LIS2"):
                await self._list(stream, path, v2=request == b"LIS2")
            elif request == b"RECV":
                await self._recv(stream, path)
            elif request == b"SEND":
                await self._send(stream, reader, path)
            else:
                await _fail(stream, f"unknown command {request!r}")
                return

    # -- STAT, LIST ----------------------------------------------------------------

    def _lstat(self, path: str, follow: bool) -> os.stat_result:
        with self._as_user():
            relative = self.root.resolve(path, follow=follow)
            return os.stat(relative, dir_fd=self.root.root_fd, follow_symlinks=False)

    def _stat_v1(self, path: str) -> bytes:
        try:
            info = self._lstat(path, follow=False)
        except OSError:
            return STAT_V1.pack(b"STAT", 0, 0, 0)
        return STAT_V1.pack(b"STAT", info.st_mode, info.st_size & 0xFFFFFFFF,
                            int(info.st_mtime) & 0xFFFFFFFF)

    def _stat_v2(self, path: str, follow: bool) -> bytes:
        kind = b"STA2" if follow else b"LST2"
        try:
            info = self._lstat(path, follow=follow)
        except OSError as error:
            return STAT_V2.pack(kind, error.errno or errno.EIO, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return STAT_V2.pack(kind, 0, *_v2_fields(info))

    async def _list(self, stream: Stream, path: str, v2: bool) -> None:
        batch = bytearray()
        try:
            with self._as_user():
                relative = self.root.resolve(path, follow=True)
                directory = os.open(relative, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC,
                                    dir_fd=self.root.root_fd)
        except OSError:
            directory = -1
        if directory >= 0:
            try:
                with self._as_user():
                    names = [".", "..", *os.listdir(directory)]
                for name in names:
                    try:
                        info = os.stat(name, dir_fd=directory, follow_symlinks=False)
                    except OSError:
                        continue
                    encoded = name.encode("utf-8", "surrogateescape")
                    if v2:
                        batch += DENT_V2.pack(b"DNT2", 0, *_v2_fields(info), len(encoded))
                    else:
                        batch += DENT_V1.pack(b"DENT", info.st_mode, info.st_size & 0xFFFFFFFF,
                                              int(info.st_mtime) & 0xFFFFFFFF, len(encoded))
                    batch += encoded
                    if len(batch) >= SEND_CHUNK:
                        await stream.write(bytes(batch))
                        batch.clear()
            finally:
                os.close(directory)
        if v2:
            batch += DENT_V2.pack(b"DONE", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        else:
            batch += DENT_V1.pack(b"DONE", 0, 0, 0, 0)
        await stream.write(bytes(batch))

    # -- RECV ----------------------------------------------------------------------

    async def _recv(self, stream: Stream, path: str) -> None:
        try:
            with self._as_user():
                relative = self.root.resolve(path, follow=True)
                fd = os.open(relative, os.O_RDONLY | os.O_CLOEXEC, dir_fd=self.root.root_fd)
        except OSError as error:
            await _fail(stream, f"open failed: {error.strerror}")
            return
        # Several DATA messages per WRTE: fewer round trips for big files.
        budget = max(stream.max_payload - 8, SEND_CHUNK + 8)
        try:
            batch = bytearray()
            while True:
                try:
                    data = os.read(fd, SEND_CHUNK)
                except OSError as error:
                    await stream.write(bytes(batch))
                    await _fail(stream, f"read failed: {error.strerror}")
                    return
                if not data:
                    break
                batch += REQUEST.pack(b"DATA", len(data)) + data
                if len(batch) + SEND_CHUNK + 8 > budget:
                    await stream.write(bytes(batch))
                    batch.clear()
            await stream.write(bytes(batch) + REQUEST.pack(b"DONE", 0))
        finally:
            os.close(fd)

    # -- SEND ----------------------------------------------------------------------

    async def _send(self, stream: Stream, reader: _Reader, spec: str) -> None:
        path, mode = _path_and_mode(spec)
        upload = _Upload(symlink=stat.S_ISLNK(mode))
        if not upload.symlink:
            try:
                upload.fd = self._create(path, mode)
            except _Failed as failure:
                upload.error = str(failure)
        try:
            mtime = await _receive(stream, reader, upload)
            if upload.error is None:
                upload.error = self._complete(path, upload, mtime)
        finally:
            if upload.fd >= 0:
                os.close(upload.fd)
        if upload.error is not None:
            await _fail(stream, upload.error)
        else:
            await stream.write(REQUEST.pack(b"OKAY", 0))

    def _complete(self, path: str, upload: _Upload, mtime: int) -> str | None:
        """Make the symlink, or date the file; the error to report, if any."""
        if upload.symlink:
            return self._symlink(path, bytes(upload.target))
        with contextlib.suppress(OSError):
            os.utime(upload.fd, (mtime, mtime))
        return None

    def _create(self, path: str, mode: int) -> int:
        """Open a fresh file for SEND, making missing parent directories (adbd does too)."""
        with self._as_user():
            try:
                relative = self.root.resolve(path, follow=False)
                parent, _, _ = relative.rpartition("/")
                self._mkdirs(parent)
                with contextlib.suppress(OSError):
                    info = os.stat(relative, dir_fd=self.root.root_fd, follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
                        os.unlink(relative, dir_fd=self.root.root_fd)
                fd = os.open(relative,
                             os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                             mode & 0o7777, dir_fd=self.root.root_fd)
            except OSError as error:
                raise _Failed(f"couldn't create file: {error.strerror}") from None
            with contextlib.suppress(OSError):
                os.fchmod(fd, mode & 0o777)
            return fd

    def _mkdirs(self, relative: str) -> None:
        if not relative:
            return
        parts = relative.split("/")
        for end in range(1, len(parts) + 1):
            partial = "/".join(parts[:end])
            try:
                os.mkdir(partial, 0o775, dir_fd=self.root.root_fd)
            except FileExistsError:
                continue

    def _symlink(self, path: str, target: bytes) -> str | None:
        with self._as_user():
            try:
                relative = self.root.resolve(path, follow=False)
                parent, _, _ = relative.rpartition("/")
                self._mkdirs(parent)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(relative, dir_fd=self.root.root_fd)
                os.symlink(target.rstrip(b"\0").decode("utf-8", "surrogateescape"), relative,
                           dir_fd=self.root.root_fd)
            except OSError as error:
                return f"symlink failed: {error.strerror}"
        return None


@dataclass
class _Upload:
    """Where a SEND's data goes: into a file being written, or a symlink's target.

    Once writing has failed, the rest of the data is still read (the client
    sends it all before DONE) but dropped, and the first error is reported.
    """

    symlink: bool
    fd: int = -1
    error: str | None = None
    target: bytearray = field(default_factory=bytearray)

    def take(self, data: bytes) -> None:
        if self.symlink:
            self.target += data
        elif self.fd >= 0 and self.error is None:
            try:
                os.write(self.fd, data)
            except OSError as failure:
                self.error = f"write failed: {failure.strerror}"


def _path_and_mode(spec: str) -> tuple[str, int]:
    """SEND names "PATH,MODE" (MODE in decimal); without a valid mode it is all path, 0644."""
    path, comma, mode_text = spec.rpartition(",")
    try:
        mode = int(mode_text) if comma else 0o644
    except ValueError:
        path, mode = spec, 0o644
    if not comma:
        path = spec
    return path, mode


async def _receive(stream: Stream, reader: _Reader, upload: _Upload) -> int:
    """Hand each DATA to ``upload`` until DONE; return the mtime DONE carries."""
    while True:
        kind, length = REQUEST.unpack(await reader.exactly(REQUEST.size))
        if kind == b"DONE":
            return length
        if kind != b"DATA" or length > MAX_DATA:
            await _fail(stream, "invalid data message")
            raise StreamClosed()
        upload.take(await reader.exactly(length))


def _v2_fields(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_dev, info.st_ino, info.st_mode, info.st_nlink, info.st_uid, info.st_gid,
            info.st_size, int(info.st_atime), int(info.st_mtime), int(info.st_ctime))


async def _fail(stream: Stream, message: str) -> None:
    encoded = message.encode()
    await stream.write(REQUEST.pack(b"FAIL", len(encoded)) + encoded)
