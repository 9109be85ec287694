"""Picking ports for the test servers: free ones, never adb's own.

5037 is the user's adb server and 5555-5585 are the emulators' ports; a test
server that took one would clash with what the developer has running.
"""

from __future__ import annotations

import socket

RESERVED_PORTS = frozenset([5037, *range(5555, 5586)])


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port the kernel has free now, never one of RESERVED_PORTS."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port
