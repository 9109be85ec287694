"""Devices named on the command line without a config file.

``local``; ``adb`` (the only device attached) or ``adb:SERIAL``
(``adb:192.168.1.5:5555`` is connected with adb connect); and
``ssh://[user@]host[:port]`` (key or agent authentication: a password has no
place on a command line, where ``ps`` and shell history show it).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..model.errors import ConfigError
from ..model.parameters import resolve_parameters
from .entry import DeviceEntry
from .settings import BY_KIND


def parse_inline(text: str) -> DeviceEntry | None:
    """The device an inline name describes, or None if ``text`` is not an inline form."""
    if text == "local":
        return _entry(text, "local", {})
    if text == "adb" or text.startswith("adb:"):
        serial = text[4:] if text.startswith("adb:") else ""
        return _entry(text, "adb", {"device": serial or None})
    if text.startswith("ssh://"):
        return _ssh(text)
    return None


def _ssh(text: str) -> DeviceEntry:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"--wa-device {text}: not a valid ssh://user@host:port ({exc})"
                          ) from None
    if parts.password is not None:
        raise ConfigError(f"--wa-device ssh://{parts.username}:...@{parts.hostname}: passwords "
                          "are not accepted on the command line; put the device in a "
                          "--wa-config file")
    if not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise ConfigError(f"--wa-device {text}: expected ssh://user@host:port")
    values: dict[str, object] = {"host": parts.hostname, "username": parts.username}
    if port is not None:
        values["port"] = port
    return _entry(text, "ssh", values)


def _entry(name: str, kind: str, given: dict[str, object]) -> DeviceEntry:
    settings, problems = resolve_parameters(BY_KIND[kind], given)
    if problems:
        raise ConfigError(f"--wa-device {name}: " + "; ".join(m for _, m in problems))
    return DeviceEntry(name, kind, settings)
