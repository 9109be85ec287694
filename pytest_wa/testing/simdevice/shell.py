"""The shell services: ``shell,v2,...:`` (shell protocol), legacy ``shell:`` and ``exec:``.

Shell protocol v2 (AOSP ``shell_protocol.h``) wraps each chunk in a packet:
an id byte, a little-endian uint32 length, the data. Ids: 0 stdin, 1 stdout,
2 stderr, 3 exit (one byte, the exit code), 4 close stdin, 5 window size
change. Without v2 (legacy ``shell:`` and ``exec:``) the stream carries raw
bytes both ways, stderr is merged into stdout and there is no exit code.

Output is sent only when the command has closed stdout and stderr, then the
exit packet once it has exited, as adbd does (so ``sleep 9 &`` keeps the
stream open while the background sleep holds stdout). When the client closes
the stream first, the command's process group gets SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import subprocess
from collections.abc import Awaitable, Callable
from typing import Any

from .process import Identity, Process, environment, read_fd
from .transport import Stream

log = logging.getLogger("simdevice.shell")

ID_STDIN = 0
ID_STDOUT = 1
ID_STDERR = 2
ID_EXIT = 3
ID_CLOSE_STDIN = 4
ID_WINDOW_SIZE = 5
PACKET_HEADER = struct.Struct("<BI")

# Chunks read from the command; a v2 packet adds 5 bytes, still under any max payload.
READ_SIZE = 64 * 1024 - PACKET_HEADER.size


def packet(packet_id: int, data: bytes) -> bytes:
    return PACKET_HEADER.pack(packet_id, len(data)) + data


class ShellRequest:
    """A parsed shell service name: ``shell[,v2][,raw|,pty][,TERM=x]:COMMAND``."""

    def __init__(self, name: str) -> None:
        service, _, self.command = name.partition(":")
        options = service.split(",")[1:]
        self.v2 = "v2" in options
        self.term: str | None = None
        pty: bool | None = None
        for option in options:
            if option == "raw":
                pty = False
            elif option == "pty":
                pty = True
            elif option.startswith("TERM="):
                self.term = option[5:]
        # adbd's default: an interactive shell gets a pty, a command does not.
        self.pty = (not self.command) if pty is None else pty


Track = Callable[[Awaitable[object]], None]


class ShellServices:
    """Spawns commands for the shell services; owned by the daemon."""

    def __init__(self, root: Callable[[], str], identity: Callable[[], Identity],
                 hostname: str, track: Track, spawn: str = "auto") -> None:
        self._root = root
        self._identity = identity
        self._hostname = hostname
        self._track = track
        self._spawn = spawn

    def spawn(self, command: str, use_pty: bool, merge_stderr: bool,
              term: str | None) -> Process:
        identity = self._identity()
        return Process(command, root=self._root(), identity=identity,
                       env=environment(identity, self._hostname, term),
                       use_pty=use_pty, merge_stderr=merge_stderr, spawn=self._spawn)

    def handler(self, name: str) -> Callable[[Stream], Awaitable[None]]:
        if name.startswith("exec:"):
            command = name[5:]
            return lambda stream: self._serve(stream, command, v2=False, use_pty=False,
                                              term=None)
        request = ShellRequest(name)
        return lambda stream: self._serve(stream, request.command, v2=request.v2,
                                          use_pty=request.pty, term=request.term)

    async def _serve(self, stream: Stream, command: str, *, v2: bool, use_pty: bool,
                     term: str | None) -> None:
        try:
            process = self.spawn(command, use_pty, not v2, term)
        except (OSError, subprocess.SubprocessError) as error:
            await _report_spawn_failure(stream, command, error, v2)
            return
        log.debug("pid %d: %r", process.pid, command)
        feeder = asyncio.create_task(self._feed(stream, process, v2))
        outputs = [self._pump(stream, process.stdout_fd, ID_STDOUT if v2 else None)]
        if process.stderr_fd is not None:
            outputs.append(self._pump(stream, process.stderr_fd, ID_STDERR))
        output: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*outputs))
        peer_gone: asyncio.Future[Any] = asyncio.ensure_future(stream.closed.wait())
        try:
            if await _ran_to_the_end(process, output, peer_gone) and not stream.peer_closed:
                if v2:
                    code = process.returncode or 0
                    await stream.write(packet(ID_EXIT, bytes([code & 0xFF])))
                return
            process.hangup()
        finally:
            await self._release(process, output, peer_gone, feeder)

    async def _release(self, process: Process, output: asyncio.Future[Any],
                       peer_gone: asyncio.Future[Any], feeder: asyncio.Task[None]) -> None:
        """Stop copying; close an exited command, or leave a hung-up one to be reaped."""
        for task in (output, peer_gone, feeder):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await output
        if process.returncode is None:
            self._track(_reap(process))
        else:
            process.close()

    async def _pump(self, stream: Stream, fd: int, packet_id: int | None) -> None:
        """Copy one output of the command to the stream until end of file."""
        while True:
            data = await read_fd(fd, READ_SIZE)
            if not data:
                return
            await stream.write(data if packet_id is None else packet(packet_id, data))

    async def _feed(self, stream: Stream, process: Process, v2: bool) -> None:
        """Copy the client's input to the command's stdin (and act on v2 control packets)."""
        buffer = bytearray()
        while True:
            data = await stream.read()
            if not data:
                return
            if not v2:
                await process.write_stdin(data)
                continue
            buffer += data
            while len(buffer) >= PACKET_HEADER.size:
                packet_id, length = PACKET_HEADER.unpack_from(buffer)
                end = PACKET_HEADER.size + length
                if len(buffer) < end:
                    break
                payload = bytes(buffer[PACKET_HEADER.size:end])
                del buffer[:end]
                if packet_id == ID_STDIN:
                    await process.write_stdin(payload)
                elif packet_id == ID_CLOSE_STDIN:
                    process.close_stdin()
                elif packet_id == ID_WINDOW_SIZE:
                    _resize(process, payload)


async def _report_spawn_failure(stream: Stream, command: str, error: BaseException,
                                v2: bool) -> None:
    """What sh prints when it cannot run, and (v2) exit code 127."""
    log.warning("cannot start %r: %s", command, error)
    message = f"/system/bin/sh: {getattr(error, 'strerror', None) or error}\n".encode()
    if v2:
        await stream.write(packet(ID_STDERR, message) + packet(ID_EXIT, b"\x7f"))
    else:
        await stream.write(message)


async def _ran_to_the_end(process: Process, output: asyncio.Future[Any],
                          peer_gone: asyncio.Future[Any]) -> bool:
    """Whether the command closed its outputs and exited before the client went away."""
    await asyncio.wait({output, peer_gone}, return_when=asyncio.FIRST_COMPLETED)
    if not (output.done() and output.exception() is None):
        return False
    exited: asyncio.Future[Any] = asyncio.ensure_future(process.wait())
    await asyncio.wait({exited, peer_gone}, return_when=asyncio.FIRST_COMPLETED)
    if not exited.done():
        exited.cancel()
        return False
    return True


def _resize(process: Process, payload: bytes) -> None:
    """Window size text is "ROWSxCOLS,XPIXELSxYPIXELS"."""
    with contextlib.suppress(ValueError):
        rows, cols = payload.split(b",")[0].rstrip(b"\0").split(b"x")[:2]
        process.resize(int(rows), int(cols))


async def _reap(process: Process) -> None:
    """Wait for a hung-up command to go (reboot kills it if it never does)."""
    try:
        await process.wait()
    finally:
        process.close()
