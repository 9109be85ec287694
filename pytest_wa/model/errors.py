"""The exceptions pytest-wa raises, and how an input problem is located.

Errors in what users wrote (agendas, device configs, workload parameters) carry
the file, line and key path of the offending value so that the report can be
one readable paragraph instead of a traceback. Errors of targets form their own
family so that the job runner can tell a dead device from a failing workload.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a value came from: a file and a 1-based line (0 when unknown)."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, at one place."""

    location: Location
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location.path else ""
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


def close_matches(word: str, candidates: Iterable[str]) -> str:
    """A ' did you mean ...?' suffix for a misspelt name, or ''."""
    matches = difflib.get_close_matches(str(word), sorted(candidates), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"


class WAError(Exception):
    """Base of every error pytest-wa raises on purpose."""


class InputError(WAError):
    """Something a user wrote is wrong; carries every problem found, each located."""

    kind = "input"

    def __init__(self, problems: Iterable[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(Location(""), "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class AgendaError(InputError):
    """An agenda file is malformed or asks for something that does not exist."""

    kind = "agenda"


class ConfigError(InputError):
    """A device or run configuration (file or command-line option) is wrong."""

    kind = "config"


class WorkloadError(WAError):
    """A workload failed to set up, run or extract its results."""


class InstrumentError(WAError):
    """An instrument failed; reported, but never fatal to the run."""


class TargetError(WAError):
    """A target operation failed (command, transfer, connection)."""


class TargetTransientError(TargetError):
    """A target operation failed in a way that may succeed if tried again."""


class TargetNotRespondingError(TargetError):
    """The target stopped answering: the run must recover or skip its jobs."""


class CommandTimeoutError(TargetError):
    """A command ran past its timeout; its processes have been killed."""

    def __init__(self, command: str, timeout: float, output: str = "") -> None:
        self.command = command
        self.timeout = timeout
        self.output = output
        super().__init__(f"command timed out after {timeout:g} s and was killed: {command}")


class CommandError(TargetError):
    """A command that had to succeed exited non-zero."""

    def __init__(self, command: str, exit_code: int, stdout: str, stderr: str) -> None:
        self.command = command
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        detail = (stderr or stdout).strip().splitlines()[-5:]
        tail = ("\n" + "\n".join(detail)) if detail else ""
        super().__init__(f"command exited with code {exit_code}: {command}{tail}")
