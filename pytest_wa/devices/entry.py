"""One device as configured: a name, a kind and validated settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..model.errors import Location
from ..model.secrets import masked


@dataclass(frozen=True)
class DeviceEntry:
    """A device ready to become a target; ``settings`` are converted and defaulted."""

    name: str
    kind: str
    settings: dict[str, Any]
    location: Location = field(default_factory=lambda: Location(""))
    notes: tuple[str, ...] = ()

    def public_settings(self) -> dict[str, Any]:
        """The settings with secrets masked: what output files and logs may show."""
        return masked({key: value for key, value in self.settings.items() if value is not None})

    def __repr__(self) -> str:  # never show a password, even in a traceback
        return (f"DeviceEntry(name={self.name!r}, kind={self.kind!r}, "
                f"settings={self.public_settings()!r})")

    @property
    def address(self) -> str:
        """How the device is reached, for messages: ``ssh pi@host:22``, ``adb SERIAL``."""
        values = self.settings
        if self.kind == "ssh":
            user = f"{values['username']}@" if values.get("username") else ""
            return f"ssh {user}{values['host']}:{values['port']}"
        if self.kind == "adb":
            return f"adb {values.get('device') or '(the only device)'}"
        return "this host"
