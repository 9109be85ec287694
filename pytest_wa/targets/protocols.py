"""What a target can do, declared as small protocols (labgrid-style).

A workload, an instrument or the run asks for the one ability it needs
(``CommandRunner`` to run a command, ``FileTransfer`` to move files, ``Logcat``
to save an Android log...) and checks for it with ``isinstance``, instead of
guessing from a target's kind, its attributes or its class. Each protocol is a
few methods, so that a target kind of a user's own can offer exactly what it
has. ``Target`` is the composite every kind implements.

Two abilities are about *how* a kind implements ``reboot``, so they are
answered here, once, by functions: ``can_reboot`` (a kind marks its refusing
``reboot`` with ``refuses_reboot``) and ``accepts_boot_parameters``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from .base import DEFAULT_TIMEOUT, CommandResult, TargetProperties

_F = TypeVar("_F", bound=Callable[..., Any])
#: Set on a ``reboot`` function by ``refuses_reboot``: names the target that cannot reboot.
_REFUSES_REBOOT = "__pytest_wa_refuses_reboot__"


@runtime_checkable
class BackgroundCommand(Protocol):
    """A command started with ``background``; ``stop`` kills it and all it started."""

    def poll(self) -> int | None: ...
    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> CommandResult: ...
    def stop(self) -> CommandResult: ...


@runtime_checkable
class Connection(Protocol):
    """Reaching the device: a run connects once and disconnects at its end."""

    name: str

    def connect(self) -> None: ...
    def disconnect(self) -> None: ...
    def is_responsive(self) -> bool: ...


@runtime_checkable
class CommandRunner(Protocol):
    """Shell commands on the device, each bounded by a timeout."""

    def execute(self, command: str, *, timeout: float = DEFAULT_TIMEOUT, as_root: bool = False,
                check: bool = False) -> CommandResult: ...
    def background(self, command: str, *, as_root: bool = False) -> BackgroundCommand: ...


@runtime_checkable
class FileTransfer(Protocol):
    """Files and directories between this host and the device."""

    def push(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT
             ) -> None: ...
    def pull(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT
             ) -> None: ...


@runtime_checkable
class ValueAccess(Protocol):
    """sysfs/procfs-style files: one value each."""

    def read_value(self, path: str) -> str: ...
    def write_value(self, path: str, value: object, *, verify: bool = True) -> None: ...


@runtime_checkable
class Power(Protocol):
    """Rebooting; whether a kind really can is ``can_reboot``'s answer, not this method's."""

    def reboot(self, *, hard: bool = False, timeout: float = DEFAULT_TIMEOUT) -> None: ...


@runtime_checkable
class Properties(Protocol):
    """Facts about the device, recorded with every run."""

    @property
    def properties(self) -> TargetProperties: ...


@runtime_checkable
class HardReset(Protocol):
    """Whether ``reboot(hard=True)`` can power-cycle the device (a hard_reset_command is set).

    Device recovery asks this before it resets an unresponsive device.
    """

    @property
    def can_hard_reset(self) -> bool: ...


@runtime_checkable
class Logcat(Protocol):
    """An Android-style system log: cleared before a job, saved after it."""

    def clear_logcat(self) -> None: ...
    def dump_logcat(self, destination: str, *, timeout: float = 60.0) -> None: ...


@runtime_checkable
class Screens(Protocol):
    """What the screen shows, saved on this host (evidence of a failed job)."""

    def screenshot(self, destination: str, *, timeout: float = 30.0) -> None: ...
    def ui_dump(self, destination: str, *, timeout: float = 30.0) -> None: ...


@runtime_checkable
class Packages(Protocol):
    """Installed applications (Android packages)."""

    def install(self, apk: str, *, replace: bool = True, grant_permissions: bool = True,
                timeout: float = DEFAULT_TIMEOUT) -> None: ...
    def uninstall(self, package: str, *, timeout: float = 120.0) -> None: ...
    def installed_packages(self) -> list[str]: ...


@runtime_checkable
class ExecutablesDirectory(Protocol):
    """A device that keeps programs pushed for a run (SSH boards, Android); this host
    runs programs where they are."""

    executables_directory: str


@runtime_checkable
class Target(Connection, CommandRunner, FileTransfer, ValueAccess, Power, Properties, Protocol):
    """Everything a device under test offers; each target kind implements it all."""

    working_directory: str


def refuses_reboot(who: str) -> Callable[[_F], _F]:
    """Mark a kind's ``reboot`` as one that always refuses: this kind cannot reboot.

    ``who`` names the target in the run's messages ("the local target (the
    host pytest runs on)"). The mark is on the function, so a subclass that
    overrides ``reboot`` without it can reboot.
    """
    def mark(reboot: _F) -> _F:
        setattr(reboot, _REFUSES_REBOOT, who)
        return reboot

    return mark


def reboot_refusal(target: object) -> str | None:
    """The target that cannot reboot, named for a message; None if it can reboot.

    Besides the ``refuses_reboot`` mark, a class attribute ``can_reboot =
    False`` (the older way to say it) is honoured.
    """
    kind = str(getattr(target, "kind", None) or type(target).__name__)
    reboot = getattr(target, "reboot", None)
    if not callable(reboot):
        return f"the {kind} target"
    who = getattr(reboot, _REFUSES_REBOOT, None)
    if who is not None:
        return str(who)
    if getattr(target, "can_reboot", True) is False:
        return f"the {kind} target"
    return None


def can_reboot(target: object) -> bool:
    """Whether the run may reboot ``target`` (reboot policies, flashing)."""
    return reboot_refusal(target) is None


def accepts_boot_parameters(target: object) -> bool:
    """Whether ``target.reboot`` takes a ``boot_parameters`` keyword (or ``**kwargs``).

    The one ability read from a signature: it is the documented contract for
    target classes users write (docs/reboots.md), which declare nothing else.
    """
    reboot = getattr(target, "reboot", None)
    if not callable(reboot):
        return False
    try:
        parameters = inspect.signature(reboot).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "boot_parameters" or p.kind is inspect.Parameter.VAR_KEYWORD
               for p in parameters)
