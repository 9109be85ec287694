"""What a job or run produces: metrics, artifacts and events.

These are plain dataclasses with WA3's field names so that the output writer
can serialise them the way WA3 does.
"""

from __future__ import annotations

import datetime
import numbers
from dataclasses import dataclass, field
from typing import Any

ARTIFACT_KINDS = ("log", "meta", "data", "export", "raw")


def checked_number(name: str, value: Any) -> int | float:
    """Metric values are numbers (WA3 drops a whole result holding anything else);
    refused where they are added, so the mistake shows at its source."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise ValueError(f"metric {name!r}: value must be a number, got {value!r} "
                     f"({type(value).__name__})")


@dataclass
class Metric:
    """One measured value. ``lower_is_better`` tells analysis tools its direction."""

    name: str
    value: Any
    units: str | None = None
    lower_is_better: bool = False
    classifiers: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        value = f"{self.value:.6g}" if isinstance(self.value, float) else str(self.value)
        return f"{self.name}={value}{' ' + self.units if self.units else ''}"


@dataclass
class Artifact:
    """A file (or directory) a job produced, relative to the job's output directory."""

    name: str
    path: str
    kind: str = "data"
    description: str | None = None
    classifiers: dict[str, Any] = field(default_factory=dict)
    is_dir: bool = False


@dataclass
class Event:
    """Something worth recording that happened during a job (errors, warnings, notes)."""

    message: str
    timestamp: datetime.datetime | None = field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))
