"""The simulated screen: a tenth-scale home screen that ``screencap`` shows.

A status bar over a blue background, encoded without any imaging library.
"""

from __future__ import annotations

import struct
import zlib

SCREEN = (1080, 2340)


def screen_pixels() -> tuple[int, int, bytes]:
    """A tenth-scale home screen: a status bar over a blue background, RGBA."""
    width, height = SCREEN[0] // 10, SCREEN[1] // 10
    status = bytes((32, 32, 32, 255)) * width
    background = bytes((25, 118, 210, 255)) * width
    return width, height, status * 8 + background * (height - 8)


def png(width: int, height: int, rgba: bytes) -> bytes:
    """Encode RGBA pixels as a PNG (8-bit, colour type 6, no filtering)."""
    stride = width * 4
    raw = b"".join(b"\0" + rgba[row * stride:(row + 1) * stride] for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
