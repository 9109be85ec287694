"""Targets: the devices jobs run on. ``local`` is this host.

The value types come from ``base`` and the abilities from ``protocols``;
``base`` is imported first because ``protocols`` builds on its value types.
"""

from __future__ import annotations

from .base import DEFAULT_TIMEOUT, CommandResult, TargetProperties
from .protocols import (
    BackgroundCommand,
    CommandRunner,
    Connection,
    FileTransfer,
    HardReset,
    Logcat,
    Packages,
    Power,
    Properties,
    Screens,
    Target,
    ValueAccess,
    accepts_boot_parameters,
    can_reboot,
    reboot_refusal,
    refuses_reboot,
)

__all__ = ["DEFAULT_TIMEOUT", "BackgroundCommand", "CommandResult", "CommandRunner",
           "Connection", "FileTransfer", "HardReset", "Logcat", "Packages", "Power",
           "Properties", "Screens", "Target", "TargetProperties", "ValueAccess",
           "accepts_boot_parameters", "can_reboot", "reboot_refusal", "refuses_reboot"]
