"""One adb connection: the CNXN handshake, streams, and their flow control.

A connection multiplexes any number of streams (protocol.txt's "local-id /
remote-id" pairs). Flow control is the classic one, without ``delayed_ack``:
after sending a WRTE on a stream we send nothing more on it until the peer's
OKAY, and every WRTE we receive is answered with an OKAY once the service has
taken the data (so a slow consumer slows the sender down, as on a phone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from collections.abc import Awaitable, Callable

from . import wire

log = logging.getLogger("simdevice.transport")

Handler = Callable[["Stream"], Awaitable[None]]
# Maps a service name ("shell,v2,raw:ls") to its handler, or None to refuse it.
ServiceOpener = Callable[[str], "Handler | None"]


class StreamClosed(Exception):
    """The stream (or the whole connection) was closed by the peer."""


class Stream:
    """A service's view of one stream: ``read``, ``write`` and ``close``."""

    def __init__(self, conn: Connection, local_id: int, remote_id: int) -> None:
        self.conn = conn
        self.local_id = local_id
        self.remote_id = remote_id
        self.peer_closed = False
        self._sent_close = False
        self._inbox: deque[bytes] = deque()
        self._in_flight = False
        self._read_waiter: asyncio.Future[None] | None = None
        # Every writer waiting for the peer's OKAY (a command's stdout and stderr pumps
        # write at once): one OKAY must wake them all, or the one not woken waits forever.
        self._okay_waiters: set[asyncio.Future[None]] = set()
        # A v2 packet larger than max_payload spans WRTEs: no other write may come between.
        self._write_lock = asyncio.Lock()
        self.closed = asyncio.Event()

    # -- called by the connection ------------------------------------------------

    def _on_write(self, data: bytes) -> None:
        self._inbox.append(data)
        _wake(self._read_waiter)

    def _on_okay(self) -> None:
        self._in_flight = False
        self._wake_writers()

    def _on_close(self) -> None:
        self.peer_closed = True
        self.closed.set()
        _wake(self._read_waiter)
        self._wake_writers()

    def _wake_writers(self) -> None:
        for waiter in self._okay_waiters:
            _wake(waiter)

    # -- called by services --------------------------------------------------------

    @property
    def max_payload(self) -> int:
        return self.conn.max_payload

    async def read(self) -> bytes:
        """The next payload the peer wrote, or b"" once the peer has closed the stream.

        The OKAY that lets the peer send more goes out here, when the data is
        taken, not when it arrives.
        """
        while not self._inbox:
            if self.peer_closed:
                return b""
            self._read_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._read_waiter
            finally:
                self._read_waiter = None
        data = self._inbox.popleft()
        if not self.peer_closed:
            self.conn.send(wire.A_OKAY, self.local_id, self.remote_id)
        return data

    async def write(self, data: bytes) -> None:
        """Send ``data`` in WRTEs of at most max_payload, one unacknowledged WRTE at a time."""
        view = memoryview(data)
        async with self._write_lock:
            while True:
                await self._wait_okay()
                if self.peer_closed or self._sent_close:
                    raise StreamClosed()
                size = self.max_payload
                self.conn.send(wire.A_WRTE, self.local_id, self.remote_id, bytes(view[:size]))
                self._in_flight = True
                view = view[size:]
                if not view:
                    return

    async def _wait_okay(self) -> None:
        while self._in_flight and not self.peer_closed:
            waiter = asyncio.get_running_loop().create_future()
            self._okay_waiters.add(waiter)
            try:
                await waiter
            finally:
                self._okay_waiters.discard(waiter)

    async def close(self) -> None:
        """Close our side once the last WRTE is acknowledged (so no data is lost)."""
        if self._sent_close:
            return
        if not self.peer_closed:
            await self._wait_okay()
        if self._sent_close:
            return
        self._sent_close = True
        if not self.peer_closed:
            self.conn.send(wire.A_CLSE, self.local_id, self.remote_id)
        self.conn.forget(self)
        self.closed.set()


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class Connection(asyncio.Protocol):
    """The device side of one TCP connection from an adb server."""

    def __init__(self, banner: Callable[[], str], opener: ServiceOpener,
                 on_lost: Callable[[Connection], None]) -> None:
        self._banner = banner
        self._opener = opener
        self._on_lost = on_lost
        self._decoder = wire.Decoder()
        self._transport: asyncio.Transport | None = None
        self._streams: dict[int, Stream] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_id = 1
        self.online = False
        self.peer_version = wire.A_VERSION
        self.max_payload = wire.MAX_PAYLOAD
        self.peer = "?"

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.peer = str(transport.get_extra_info("peername"))
        log.debug("connection from %s", self.peer)

    def data_received(self, data: bytes) -> None:
        try:
            messages = self._decoder.feed(data)
        except wire.ProtocolError as error:
            log.warning("dropping %s: %s", self.peer, error)
            self.drop()
            return
        for message in messages:
            self._handle(message)

    def connection_lost(self, exc: Exception | None) -> None:
        log.debug("connection from %s lost", self.peer)
        self.online = False
        for stream in list(self._streams.values()):
            stream._on_close()
        self._streams.clear()
        self._on_lost(self)

    # -- sending -------------------------------------------------------------------

    def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        if self._transport is None or self._transport.is_closing():
            return
        self._transport.write(wire.encode(
            command, arg0, arg1, data,
            with_checksum=self.peer_version < wire.A_VERSION_SKIP_CHECKSUM))

    def drop(self) -> None:
        """Close the TCP connection after what is already queued has been sent."""
        if self._transport is not None:
            self._transport.close()

    def forget(self, stream: Stream) -> None:
        if self._streams.get(stream.local_id) is stream:
            del self._streams[stream.local_id]

    # -- receiving -----------------------------------------------------------------

    def _handle(self, message: wire.Message) -> None:
        command = message.command
        if command == wire.A_CNXN:
            self._connect(message)
        elif not self.online:
            log.debug("ignoring %s before CNXN", message.name)
        elif command == wire.A_OPEN:
            self._open(message)
        elif command in (wire.A_OKAY, wire.A_WRTE, wire.A_CLSE):
            stream = self._streams.get(message.arg1)
            if stream is None or (message.arg0 and stream.remote_id != message.arg0):
                return  # a stream we already closed: the peer's message crossed our CLSE
            if command == wire.A_OKAY:
                stream._on_okay()
            elif command == wire.A_WRTE:
                stream._on_write(message.data)
            else:
                del self._streams[message.arg1]
                stream._on_close()
        else:
            log.debug("ignoring %s", message.name)

    def _connect(self, message: wire.Message) -> None:
        self.peer_version = min(message.arg0, wire.A_VERSION)
        self.max_payload = max(4096, min(message.arg1, wire.MAX_PAYLOAD))
        log.debug("CNXN from %s: version 0x%08x max %d %r", self.peer, message.arg0,
                  message.arg1, message.data[:200])
        self.send(wire.A_CNXN, wire.A_VERSION, wire.MAX_PAYLOAD, self._banner().encode())
        self.online = True

    def _open(self, message: wire.Message) -> None:
        remote_id = message.arg0
        name = message.data.rstrip(b"\0").decode("utf-8", "replace")
        try:
            handler = self._opener(name)
        except Exception:  # a bug in a service must not take the connection down
            log.exception("opening %r", name)
            handler = None
        if handler is None:
            log.debug("refusing %r", name)
            self.send(wire.A_CLSE, 0, remote_id)
            return
        local_id = self._next_id
        self._next_id = self._next_id % 0x7FFFFFFF + 1
        stream = Stream(self, local_id, remote_id)
        self._streams[local_id] = stream
        self.send(wire.A_OKAY, local_id, remote_id)
        task = asyncio.get_running_loop().create_task(self._serve(handler, stream, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, handler: Handler, stream: Stream, name: str) -> None:
        try:
            await handler(stream)
        except StreamClosed:
            pass
        except Exception:
            log.exception("service %r failed", name)
        finally:
            await stream.close()
