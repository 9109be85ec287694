"""WA's workloads, one module each; ``builtin_workloads`` lists them for the registry."""

from __future__ import annotations


def builtin_workloads() -> list[type]:
    """The workloads pytest-wa ships (imported when a catalog is built, not before)."""
    from .app_launch import AppLaunch
    from .command import Command
    from .idle import Idle
    from .shellscript import ShellScript

    return [AppLaunch, Command, Idle, ShellScript]
