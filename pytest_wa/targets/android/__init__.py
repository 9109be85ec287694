"""The Android target: a phone (or the simulated device) through the adb server.

``target`` puts the pieces together: ``adb_client`` (the adb server's
protocol, for the hot path), ``device`` (finding the device and waiting for
it), ``shell`` and ``background`` (commands), ``device_files`` (push, pull,
captures), ``packages`` and ``properties``.
"""

from __future__ import annotations

from .background import AndroidBackgroundCommand
from .properties import count_cpus, parse_getprop, parse_screen_size
from .target import AndroidTarget

__all__ = ["AndroidBackgroundCommand", "AndroidTarget", "count_cpus", "parse_getprop",
           "parse_screen_size"]
