"""``sysfile_values``: any file on the device, written in the order the agenda gives.

Each write is read back unless the path ends in ``!`` (write-only files, or
files that read back in another form); as in WA3 the ``!`` is not part of
the path. A boolean is written as 1 or 0, the way sysfs spells it. Paths
must exist at run start: a misspelt path is then one error before the first
job, not a failure of every job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model.errors import close_matches
from ..model.parameters import shown, type_name
from .facts import DeviceFacts
from .given import Given, Problems, located
from .probe import read_files

if TYPE_CHECKING:
    from .journal import Journal


@dataclass(frozen=True)
class SysfileWrite:
    path: str
    value: str
    verify: bool
    key: str


@dataclass(frozen=True)
class SysfilesPlan:
    writes: list[SysfileWrite]


def sysfile_paths(given: Given) -> list[str]:
    """The paths a ``sysfile_values`` parameter names (without ``!``), to check at run start."""
    if not isinstance(given.value, dict):
        return []
    return [key.rstrip("!") for key in given.value if isinstance(key, str) and _usable(key)]


def _usable(path: str) -> bool:
    return path.startswith("/") and not any(c in path for c in "\n\x00\x1e")


def plan_sysfiles(givens: list[Given], facts: DeviceFacts, problems: Problems
                  ) -> SysfilesPlan | None:
    """Check each path and value; a path missing at run start is an error."""
    writes: list[SysfileWrite] = []
    for given in givens:
        if not isinstance(given.value, dict):
            problems.add(given, f"expected a mapping of file paths to values, got "
                                f"{type_name(given.value)} {shown(given.value)}")
            continue
        seen: dict[str, str] = {}
        for key, value in given.value.items():
            where = located(given.value, key, given.location)
            item = f"{given.path}.{key}"
            if not isinstance(key, str) or not _usable(key):
                problems.add(given, f"a path must be absolute (start with /), got {shown(key)}",
                             location=where, key=item)
                continue
            path = key.rstrip("!")
            if path in seen:
                problems.add(given, f"{path} is already set as {seen[path]!r}", location=where,
                             key=item)
                continue
            seen[path] = key
            if isinstance(value, dict | list) or value is None:
                problems.add(given, f"expected a value to write, got {type_name(value)} "
                                    f"{shown(value)}", location=where, key=item)
                continue
            if path in facts.missing:
                directory, _, name = path.rpartition("/")
                hint = close_matches(name, facts.listings.get(directory, ()))
                problems.add(given, f"no such file on the device.{hint}",
                             location=where, key=item)
                continue
            text = str(int(value) if isinstance(value, bool) else value)
            writes.append(SysfileWrite(path, text, not key.endswith("!"), given.key))
    return SysfilesPlan(writes) if writes else None


def apply_sysfiles(plan: SysfilesPlan, journal: Journal) -> None:
    """Write in order; what each file held before is read first, in one command."""
    current = read_files(journal.target, [write.path for write in plan.writes])
    for write in plan.writes:
        journal.write(write.key, write.path, write.value, current[write.path],
                      verify=write.verify)
