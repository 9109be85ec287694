"""Devices: named in config files or inline, turned into connected targets.

``--wa-device NAME`` picks a device from the ``devices:`` mappings of the
``--wa-config`` files (ini ``wa_config``), or names one inline: ``local``,
``adb:SERIAL`` or ``ssh://user@host:port``.
"""

from __future__ import annotations

from .entry import DeviceEntry
from .resolve import known_devices, resolve_device

__all__ = ["DeviceEntry", "known_devices", "resolve_device"]
