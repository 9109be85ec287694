"""The adb transport's message framing (AOSP ``protocol.txt``).

Every message is a 24-byte little-endian header (command, arg0, arg1,
data_length, data_check, magic) followed by ``data_length`` payload bytes.
``magic`` is ``command ^ 0xffffffff``. Since protocol version 0x01000001 the
payload checksum is optional (0); it is still computed for a peer that
announces an older version, so old hosts accept our messages.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

A_SYNC = 0x434E5953
A_CNXN = 0x4E584E43
A_OPEN = 0x4E45504F
A_OKAY = 0x59414B4F
A_CLSE = 0x45534C43
A_WRTE = 0x45545257
A_AUTH = 0x48545541
A_STLS = 0x534C5453

A_VERSION_MIN = 0x01000000
A_VERSION_SKIP_CHECKSUM = 0x01000001
A_VERSION = 0x01000001
MAX_PAYLOAD = 1024 * 1024

HEADER = struct.Struct("<6I")
HEADER_SIZE = HEADER.size

NAMES = {A_SYNC: "SYNC", A_CNXN: "CNXN", A_OPEN: "OPEN", A_OKAY: "OKAY",
         A_CLSE: "CLSE", A_WRTE: "WRTE", A_AUTH: "AUTH", A_STLS: "STLS"}


class ProtocolError(Exception):
    """The peer sent bytes that are not a valid adb message."""


@dataclass(frozen=True)
class Message:
    """One decoded message: the header's fields and the payload."""

    command: int
    arg0: int
    arg1: int
    data: bytes = b""

    @property
    def name(self) -> str:
        return NAMES.get(self.command, f"0x{self.command:08x}")


def checksum(data: bytes) -> int:
    """The pre-0x01000001 payload check: the byte sum, modulo 2**32."""
    return sum(data) & 0xFFFFFFFF


def encode(command: int, arg0: int, arg1: int, data: bytes = b"", *,
           with_checksum: bool = False) -> bytes:
    """Header plus payload, ready to be written to the socket in one go."""
    check = checksum(data) if with_checksum else 0
    header = HEADER.pack(command, arg0 & 0xFFFFFFFF, arg1 & 0xFFFFFFFF, len(data), check,
                         command ^ 0xFFFFFFFF)
    return header + data


class Decoder:
    """Cuts a byte stream into messages; feed it whatever the socket gives.

    The limit on payload size is checked before the payload is buffered, so a
    corrupt length cannot make us allocate gigabytes.
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        messages: list[Message] = []
        buffer = self._buffer
        offset = 0
        while len(buffer) - offset >= HEADER_SIZE:
            command, arg0, arg1, length, _check, magic = HEADER.unpack_from(buffer, offset)
            if magic != command ^ 0xFFFFFFFF:
                raise ProtocolError(f"bad magic 0x{magic:08x} for command 0x{command:08x}")
            if length > self.max_payload:
                raise ProtocolError(f"payload of {length} bytes exceeds {self.max_payload}")
            end = offset + HEADER_SIZE + length
            if len(buffer) < end:
                break
            messages.append(Message(command, arg0, arg1, bytes(buffer[offset + HEADER_SIZE:end])))
            offset = end
        if offset:
            del buffer[:offset]
        return messages
