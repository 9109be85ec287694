"""What a job changed on the device, so that it can be put back in reverse order.

Every change is recorded right after it succeeds, with the value it replaced,
so a job whose runtime parameters failed half-way restores exactly the half
that was applied. A value already equal to the wanted one is not written
(and needs no restoring).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model.errors import (
    CommandTimeoutError,
    TargetError,
    TargetNotRespondingError,
    TargetTransientError,
)
from ..model.runlog import RUN_LOGGER

if TYPE_CHECKING:
    from ..targets.protocols import Target

logger = RUN_LOGGER
_KEEP_TYPE = (TargetNotRespondingError, TargetTransientError, CommandTimeoutError)


@dataclass
class Change:
    """One applied change: what it was (for messages) and how to undo it."""

    what: str
    undo: Callable[[], None]


@dataclass
class Journal:
    """The changes of one job, in the order they were made."""

    target: Target
    changes: list[Change] = field(default_factory=list)
    #: The value each written file holds now, as far as this job knows: a file
    #: written twice (a sysfile that is also a cpufreq file) is restored once,
    #: to the value it had before the job.
    known: dict[str, str] = field(default_factory=dict)
    #: Files written whose earlier value could not be read (write-only files).
    unrestorable: list[str] = field(default_factory=list)

    def record(self, what: str, undo: Callable[[], None]) -> None:
        self.changes.append(Change(what, undo))

    def write(self, key: str, path: str, value: object, old: str | None, *,
              verify: bool = True) -> None:
        """Write ``value`` to ``path`` (read back unless ``verify`` is False) and record it.

        ``old`` is what the file held before the job touched it (None: unreadable).
        ``key`` is the runtime parameter that asked for it, for the error message.
        """
        text = str(value)
        first_write = path not in self.known
        current = self.known.get(path, old)
        if verify and current is not None and current.strip() == text.strip():
            return
        try:
            self.target.write_value(path, text, verify=verify)
        except _KEEP_TYPE:
            raise  # the runner tells these apart (a dead device, a retry)
        except TargetError as exc:
            raise TargetError(f"{key}: {exc}") from None  # exc names the path and value
        self.known[path] = text
        logger.debug("runtime parameters: %s = %r (was %r)", path, text, current)
        if not first_write:
            return  # the first write's record restores the value from before the job
        if old is None:
            self.unrestorable.append(path)
            return
        self.record(f"{path} (back to {old!r})",
                    lambda: self.target.write_value(path, old, verify=verify))

    def restore(self) -> list[str]:
        """Undo every change, last first; the problems met, as messages.

        A device that stopped responding ends the restore: every further try
        would wait for its timeout too.
        """
        problems: list[str] = []
        changes, self.changes = self.changes, []
        for index, change in enumerate(reversed(changes)):
            try:
                change.undo()
            except TargetNotRespondingError as exc:
                left = len(changes) - index
                problems.append(f"the device stopped responding ({exc}); {left} value(s) "
                                "were not restored")
                break
            except (TargetError, OSError) as exc:
                problems.append(f"could not restore {change.what}: {exc}")
        self.known.clear()
        return problems
