"""WA3's three YAML tags, read as data: a regular expression, a level, a CPU mask.

WA3 writes ``!<tag:wa:regex> '40:^.*root@.*[#$] '`` (and ``tag:wa:level``,
``tag:wa:cpu_mask``) in the agendas and configs it saves, so agendas made for
WA3 carry them. WA3's loader turns them into Python objects; here each becomes
a small frozen value whose text is checked when the file is read (a bad one is
an agenda error at its key), and that the code needing it interprets, e.g.
``WaRegex.compiled()``. YAML itself never builds anything but these and plain data.

Each value also knows the text WA3's JSON encoder writes for it
(``REGEX:FLAGS:PATTERN``, ``LEVEL:NAME:VALUE``, ``CPUMASK:0x..``), so that the
run directory holds them as WA3's own does (WA3's decoder reads them back).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

#: The highest CPU number a mask may name: bounds the work of reading ``0-N``.
MAX_CPU = 4095
_SHOWN_CHARACTERS = 80


class TaggedValueError(ValueError):
    """The text of a tagged value does not fit its tag; the message says what fits."""


def quoted(text: str) -> str:
    """``text`` as the agenda shows it, in quotes (a regex's backslashes not doubled),
    cut short: messages quote what the user wrote, not a whole file."""
    shown = f"'{text}'" if text.isprintable() else repr(text)
    return shown if len(shown) <= _SHOWN_CHARACTERS else shown[:_SHOWN_CHARACTERS - 3] + "..."


@dataclass(frozen=True)
class WaRegex:
    """``tag:wa:regex``: ``FLAGS:PATTERN``, FLAGS the integer of Python's ``re`` flags
    (empty for none), PATTERN the rest of the text (it may hold more ``:``)."""

    pattern: str
    flags: int = 0

    @classmethod
    def from_text(cls, text: str) -> WaRegex:
        flags, colon, pattern = text.partition(":")
        if not colon:
            raise TaggedValueError(f"expected FLAGS:PATTERN, e.g. {quoted('8:' + text)}")
        try:
            value = cls(pattern, int(flags) if flags else 0)
        except ValueError:
            raise TaggedValueError("the flags before the first ':' must be an integer "
                                   "(Python's re flags, e.g. 8 for MULTILINE) or nothing, "
                                   f"got {quoted(flags)}") from None
        value.compiled()
        return value

    def compiled(self) -> re.Pattern[str]:
        """The pattern compiled with its flags (``re`` caches it)."""
        try:
            return re.compile(self.pattern, self.flags)
        except (re.error, ValueError, OverflowError) as exc:
            raise TaggedValueError(f"not a valid regular expression: {exc}") from None

    def json_text(self) -> str:
        """As WA3 writes a compiled pattern: its flags include ``re.UNICODE``."""
        return f"REGEX:{self.compiled().flags}:{self.pattern}"


@dataclass(frozen=True)
class WaLevel:
    """``tag:wa:level``: ``NAME:VALUE``, a named level ordered by its number."""

    name: str
    value: int | float

    @classmethod
    def from_text(cls, text: str) -> WaLevel:
        name, colon, number = text.partition(":")
        if not colon:
            raise TaggedValueError(f"expected NAME:VALUE, e.g. {quoted(text + ':20')}")
        return cls(name, _number(number))

    def json_text(self) -> str:
        return f"LEVEL:{self.name}:{self.value}"


def _number(text: str) -> int | float:
    """An integer when the text is one, else a finite float (WA3's ``numeric``)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise TaggedValueError("the value after the first ':' must be a number, got "
                               f"{quoted(text)}")
    return int(number) if number.is_integer() else number


@dataclass(frozen=True)
class WaCpuMask:
    """``tag:wa:cpu_mask``: a hexadecimal mask (``0x0f``) or CPU numbers and ranges
    (``0-3,6``), kept as written."""

    text: str

    @classmethod
    def from_text(cls, text: str) -> WaCpuMask:
        value = cls(text)
        value.mask()
        return value

    def mask(self) -> int:
        """The mask as an integer: bit N set for CPU N."""
        text = self.text.strip()
        try:
            mask = int(text, 16) if text[:2].lower() == "0x" else _mask_of(text)
        except ValueError:
            raise TaggedValueError("expected a hexadecimal mask such as 0x0f or CPU numbers "
                                   "and ranges such as 0-3,6") from None
        if mask.bit_length() > MAX_CPU + 1:
            raise TaggedValueError(f"names a CPU above {MAX_CPU}")
        return mask

    def cpus(self) -> list[int]:
        """The CPU numbers the mask selects, lowest first."""
        mask = self.mask()
        return [cpu for cpu in range(mask.bit_length()) if mask >> cpu & 1]

    def json_text(self) -> str:
        return f"CPUMASK:{hex(self.mask())}"


def _mask_of(ranges: str) -> int:
    """``0-3,6`` as a mask; ValueError if a part is no CPU number or range."""
    mask = 0
    for part in ranges.split(","):
        first, dash, last = part.partition("-")
        low, high = int(first), int(last if dash else first)
        if not 0 <= low <= high <= MAX_CPU:
            raise ValueError(part)
        mask |= (1 << (high + 1)) - (1 << low)
    return mask


WaValue = WaRegex | WaLevel | WaCpuMask

#: The tags WA3 defines, each with what reads its text.
WA_TAGS: dict[str, Callable[[str], WaValue]] = {
    "tag:wa:regex": WaRegex.from_text,
    "tag:wa:level": WaLevel.from_text,
    "tag:wa:cpu_mask": WaCpuMask.from_text,
}
