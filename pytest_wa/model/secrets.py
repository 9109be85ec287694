"""Which device settings are secrets, and how they look wherever they are written.

Passwords must never reach the run directory, logs or junit-xml; the device
config (which reads them) and the output (which writes settings) both ask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SECRET_KEYS = frozenset({"password"})
REDACTED = "********"


def masked(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with every secret that has a value replaced by ``REDACTED``."""
    return {key: (REDACTED if key in SECRET_KEYS and value else value)
            for key, value in settings.items()}
