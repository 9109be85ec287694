"""What ``perf stat`` and ``perf report`` print, read into numbers.

``perf stat`` prints one line per counter, either for people::

           3581.06 msec task-clock        #    2.000 CPUs utilized
    CPU1      1500      context-switches  #  766.878 /sec
     <not counted>      cycles                                  (0.00%)

or, with ``-x SEP``, as separated fields (``[CPU0,]value,unit,event,...``).
Values may be fractional (``msec`` counters) and, in a locale that groups
digits, carry thousands separators (``7,454.11``); a counter the kernel did
not count says ``<not counted>`` or ``<not supported>`` instead of a number.
WA3 3.3.1's pattern reads the integer part of a fractional value and takes the
rest as the event's name ("3581" of ".06 msec task-clock").
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

NOT_COUNTED = "<not counted>"
NOT_SUPPORTED = "<not supported>"
_MISSING = (NOT_COUNTED, NOT_SUPPORTED)
_CPU = re.compile(r"CPU(\d+)$")
_NUMBER = re.compile(r"\d[\d,]*(\.\d+)?$")
_PERCENT = re.compile(r"\(\s*[\d.]+%\)$")
_HEADER = "Performance counter stats"
_END = "seconds time elapsed"


@dataclass(frozen=True)
class Count:
    """One counter of one ``perf stat`` line; ``value`` is None where perf gave no number."""

    event: str
    value: int | float | None
    units: str  # perf's unit (msec...), or "count"
    cpu: int | None = None
    missing: str = ""  # "<not counted>" or "<not supported>" when value is None


def separator(options: str) -> str | None:
    """The field separator ``-x``/``--field-separator`` sets in perf options, or None."""
    words = shlex.split(options)
    for index, word in enumerate(words):
        if word in ("-x", "--field-separator") and index + 1 < len(words):
            return words[index + 1]
        if word.startswith("--field-separator="):
            return word.split("=", 1)[1]
        if word.startswith("-x") and len(word) > 2:
            return word[2:]
    return None


def parse_stat(text: str, sep: str | None = None) -> list[Count]:
    """Every counter ``perf stat`` printed (``sep``: the ``-x`` separator, if one was used)."""
    return list(_separated(text, sep) if sep else _human(text))


def _number(text: str) -> int | float:
    plain = text.replace(",", "")
    return float(plain) if "." in plain else int(plain)


def _human(text: str) -> Iterator[Count]:
    inside = False
    for line in text.splitlines():
        if _HEADER in line:
            inside = True
            continue
        if _END in line:
            inside = False
        if inside and line.strip():
            count = _human_line(line)
            if count is not None:
                yield count


def _human_line(line: str) -> Count | None:
    body = line.split("#", 1)[0].strip()
    cpu = None
    for missing in _MISSING:  # one word for split() below
        body = body.replace(missing, missing.replace(" ", "\0"))
    words = [word.replace("\0", " ") for word in body.split()]
    if words and _CPU.match(words[0]):
        cpu = int(_CPU.match(words[0]).group(1))  # type: ignore[union-attr]
        words = words[1:]
    if words and _PERCENT.match(words[-1]):
        words = words[:-1]
    if len(words) not in (2, 3):
        return None
    value_text, units, event = words[0], (words[1] if len(words) == 3 else "count"), words[-1]
    if value_text in _MISSING:
        return Count(event, None, units, cpu, value_text)
    if not _NUMBER.match(value_text):
        return None
    return Count(event, _number(value_text), units, cpu)


def _separated(text: str, sep: str) -> Iterator[Count]:
    for line in text.splitlines():
        fields = line.split(sep)
        cpu = None
        if fields and _CPU.match(fields[0]):
            cpu = int(_CPU.match(fields[0]).group(1))  # type: ignore[union-attr]
            fields = fields[1:]
        if len(fields) < 3 or not fields[2]:
            continue
        value_text, units, event = fields[0].strip(), fields[1].strip() or "count", fields[2]
        if value_text in _MISSING:
            yield Count(event, None, units, cpu, value_text)
        elif _NUMBER.match(value_text):
            yield Count(event, _number(value_text), units, cpu)


@dataclass(frozen=True)
class Overhead:
    """One line of ``perf report``: the share of an event's samples, and where they fell."""

    event: str
    percent: float
    columns: dict[str, str] = field(default_factory=dict)  # Command, Shared Object, ...


def parse_report(text: str) -> list[Overhead]:
    """Every ``NN.NN%`` line of ``perf report``'s default output, under its event."""
    found = []
    event, columns = "", []
    for line in text.splitlines():
        if line.startswith("# Samples:") and " of event " in line:
            event = line.split(" of event ", 1)[1].strip().strip("'")
        elif line.startswith("#") and "Overhead" in line:
            columns = _columns(line)
        elif columns and line.strip()[:1].isdigit():
            row = _row(line, columns)
            if row is not None:
                found.append(Overhead(event, *row))
    return found


def _columns(header: str) -> list[tuple[str, int]]:
    """Each column's name and where it starts, from the ``# Overhead  Command ...`` line
    (names are one space apart inside, two or more between)."""
    return [(match.group(0), match.start()) for match in re.finditer(r"\S+(?: \S+)*", header)
            if match.group(0) != "#"]


def _row(line: str, columns: list[tuple[str, int]]) -> tuple[float, dict[str, str]] | None:
    """The percentage and each other column's text (the last runs to the end of the line)."""
    bounds = [start for _, start in columns[1:]]
    percent = line[:bounds[0]].strip() if bounds else line.strip()
    if not percent.endswith("%"):
        return None
    cells = {}
    for index, (name, start) in enumerate(columns[1:]):
        end = bounds[index + 1] if index + 1 < len(bounds) else None
        cells[name] = line[start:end].strip()
    return float(percent[:-1]), cells
