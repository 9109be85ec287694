"""Many facts read by one shell command, each part failing on its own.

A device's facts (kernel, CPUs, screen, Android id...) come from different
tools and files, and a device may lack any of them: an older Android has no
``settings``, a board may have no ``/sys/devices/system/cpu``. Reading them
all in one round trip must not turn one missing tool into a failed command,
so each part runs on its own and then prints an end record (a line starting
with ASCII RS, the part's name and its exit status) on stdout and on stderr.
``split_parts`` cuts the output back into parts, so the caller decides fact
by fact: a part that failed costs its fact only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .remote_shell import COMMAND_NOT_FOUND

_RS = "\x1e"  # ASCII record separator: starts every end record; never in a fact
_RS_ESCAPE = "\\036"  # the same, as printf writes it (octal: toybox, busybox, dash all take it)
_T = TypeVar("_T")


@dataclass(frozen=True)
class FactPart:
    """One fact's shell command; ``name`` is an identifier (it goes into the command)."""

    name: str
    command: str


@dataclass(frozen=True)
class PartResult:
    """What one part printed, and its exit status (None: the output stopped before it)."""

    output: str
    status: int | None
    errors: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 0

    def reason(self) -> str:
        """Why the part failed, for the run log: the device's own words when it gave any."""
        said = [line.strip() for line in self.errors.splitlines() if line.strip()]
        if said:
            return said[-1]
        if self.status is None:
            return "no answer"
        if self.status == COMMAND_NOT_FOUND:
            return "command not found"
        return f"exit status {self.status}"


def fact_command(parts: Sequence[FactPart]) -> str:
    """One command running every part in turn; its own exit status is always 0."""
    return "; ".join(
        f"{{ {part.command}\n}}; s=$?; printf '\\n{_RS_ESCAPE}%s %s\\n' {part.name} $s; "
        f"printf '\\n{_RS_ESCAPE}%s\\n' {part.name} >&2" for part in parts) + "; true"


def split_parts(parts: Sequence[FactPart], stdout: str, stderr: str = ""
                ) -> dict[str, PartResult]:
    """Each part's output, status and error text, from ``fact_command``'s streams."""
    statuses, outputs = _records(stdout)
    _, errors = _records(stderr)
    return {part.name: PartResult(outputs.get(part.name, ""), statuses.get(part.name),
                                  errors.get(part.name, ""))
            for part in parts}


def _records(text: str) -> tuple[dict[str, int | None], dict[str, str]]:
    """The end records of one stream: status and text by part name, in output order."""
    statuses: dict[str, int | None] = {}
    texts: dict[str, str] = {}
    chunks = text.split("\n" + _RS)
    body = chunks[0]
    for chunk in chunks[1:]:
        record, _, following = chunk.partition("\n")
        name, _, status = record.partition(" ")
        statuses[name] = int(status) if status.isdigit() else None
        texts[name] = body
        body = following
    return statuses, texts


class FactReading:
    """Facts taken from the parts' results; what could not be read is noted in ``absent``."""

    def __init__(self, parts: dict[str, PartResult]) -> None:
        self.parts = parts
        self.absent: dict[str, str] = {}

    def text(self, name: str, *, expected: bool = True) -> str | None:
        """The part's output without surrounding blanks, or None if it failed.

        A failed part is recorded in ``absent``, unless it is not ``expected``:
        a fact many healthy devices lack (a model name on a PC without DMI).
        """
        result = self.parts[name]
        if not result.ok:
            if expected:
                self.absent[name] = result.reason()
            return None
        return result.output.strip()

    def parsed(self, name: str, parse: Callable[[str], _T | None]) -> _T | None:
        """``parse`` applied to the part's output; None (absent) if either failed."""
        text = self.text(name)
        if text is None:
            return None
        value = parse(text)
        if value is None:
            self.absent[name] = f"unexpected output {text[:60]!r}"
        return value
