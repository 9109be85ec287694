"""Runtime parameters as a job spec gives them, and the problems found in them.

Each module (cpufreq, hotplug...) turns its ``Given`` values into a plan and
adds a located ``Problem`` for anything the device cannot do. When several
names set the same thing for the same CPU, the narrowest scope wins
(``cpu4_governor`` over ``big_governor`` over ``governor``): an agenda-wide
setting can then be refined in a section or a workload. Two names of the
same width that disagree are an error (WA3 refuses any overlap at all).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from ..model.errors import Location, Problem
from ..model.parameters import shown
from .names import ParsedName


@dataclass(frozen=True)
class Given:
    """One runtime parameter of one job spec: its parsed name, value and place."""

    name: ParsedName
    value: Any
    location: Location

    @property
    def key(self) -> str:
        return self.name.key

    @property
    def path(self) -> str:
        return f"runtime_parameters.{self.key}"


def located(mapping: Any, key: Any, default: Location) -> Location:
    """A key's own line when the mapping remembers it (agenda YAML does), else ``default``."""
    key_location = getattr(mapping, "key_location", None)
    return key_location(key) if callable(key_location) else default


class Problems:
    """The problems of one job spec's runtime parameters."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, given: Given, message: str, *, location: Location | None = None,
            key: str | None = None) -> None:
        self.at(location or given.location, key or given.path, message)

    def at(self, location: Location, key: str, message: str) -> None:
        self.items.append(Problem(location, key, message))

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class Choice:
    """The value that won for one (target, field) and the parameter that gave it."""

    value: Any
    given: Given


def resolve(entries: Iterable[tuple[Hashable, str, Any, Given]], problems: Problems,
            describe: Callable[[Any], str]) -> dict[tuple[Hashable, str], Choice]:
    """Pick one value per (target, field): the narrowest scope wins; equals must agree."""
    chosen: dict[tuple[Hashable, str], Choice] = {}
    reported: set[tuple[Given, Given]] = set()
    for target, field_name, value, given in entries:
        slot = (target, field_name)
        current = chosen.get(slot)
        if current is None or given.name.level > current.given.name.level:
            chosen[slot] = Choice(value, given)
        elif given.name.level == current.given.name.level and value != current.value and \
                (current.given, given) not in reported:
            reported.add((current.given, given))
            problems.add(given, f"{shown(given.value)} conflicts with "
                                f"{current.given.key}: {shown(current.given.value)} "
                                f"({describe(target)}); give only one of them")
    return chosen
