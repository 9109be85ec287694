"""Which device settings are secrets, and how they look wherever they are written.

Passwords must never reach the run directory, logs or junit-xml; the device
config (which reads them) and the output (which writes settings) both ask here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SECRET_KEYS = frozenset({"password"})
REDACTED = "********"


def masked(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with every secret that has a value replaced by ``REDACTED``."""
    return {key: (REDACTED if key in SECRET_KEYS and value else value)
            for key, value in settings.items()}


# ``password: value`` in block or flow style, up to the end of the value (a quoted
# string, or plain text up to a comma, brace, bracket, comment or the line's end).
_SECRET_KEY = "|".join(sorted(SECRET_KEYS))
_SECRET_VALUE = re.compile(
    r"(?P<key>(?<![\w-])[\"']?(?:" + _SECRET_KEY + r")[\"']?\s*:[ \t]+)"
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[^\s,{}\[\]#][^,{}\[\]#\n]*?)"
    r"(?=[ \t]*(?:[,}\]]|#|$))", re.MULTILINE)


# The password of a URL such as postgresql://user:password@host/db (a results database).
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^@\s'\"]+(?=@)")


def masked_url(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it masked."""
    return _URL_PASSWORD.sub(lambda m: m["head"] + REDACTED, text)


def masked_text(text: str) -> str:
    """YAML ``text`` with the value of every secret key, and every URL's password,
    replaced by ``REDACTED`` (copies of agendas and config files in the run directory
    must not carry passwords)."""
    return masked_url(_SECRET_VALUE.sub(
        lambda m: m["key"] + (m["value"] if m["value"] in ("null", "~") else REDACTED), text))
