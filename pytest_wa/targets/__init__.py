"""Targets: the devices jobs run on. ``local`` is this host."""

from __future__ import annotations

from .base import (
    DEFAULT_TIMEOUT,
    BackgroundCommand,
    CommandResult,
    CommandRunner,
    Connection,
    FileTransfer,
    Power,
    Target,
    TargetProperties,
    ValueAccess,
)

__all__ = ["DEFAULT_TIMEOUT", "BackgroundCommand", "CommandResult", "CommandRunner",
           "Connection", "FileTransfer", "Power", "Target", "TargetProperties", "ValueAccess"]
