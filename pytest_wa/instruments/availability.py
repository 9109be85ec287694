"""Before the first job: can each enabled instrument work on this device?

An instrument that cannot (no cpufreq, no tracefs, no perf) found out only at
its first job would leave that job, and every later one, without its numbers.
So each planned instrument is made once and asked (``Instrument.check``) when
the run starts; a refusal is one located error naming the instrument, the
device and what is missing, before anything is written. An agenda that marks
the instrument ``optional: true`` gets a note instead, and the run goes on
without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model.errors import Problem
from ..model.parameters import Parameter, boolean

if TYPE_CHECKING:
    from ..model.errors import Location
    from ..targets.protocols import Target

#: Every built-in instrument takes it: leave the instrument out where it cannot work.
OPTIONAL = Parameter("optional", boolean, False,
                     "Where this device cannot give what the instrument records, run "
                     "without it (a note says so) instead of refusing the run. A pytest-wa "
                     "addition to WA3's parameters.")


class InstrumentUnavailable(Exception):
    """Raised by ``Instrument.check``: what this device lacks, and what would give it."""


@dataclass(frozen=True)
class PlannedInstrument:
    """An instrument some collected job enables, as the first agenda configured it."""

    cls: type
    values: dict[str, Any]
    source: str  # the agenda's directory, for relative files
    location: Location  # the first job that enables it, for errors


@dataclass
class Availability:
    """The instruments that can work here, and what to say about the others."""

    usable: list[Any]
    problems: list[Problem]
    notes: list[str]


def check_instruments(planned: dict[str, PlannedInstrument], target: Target,
                      device: str) -> Availability:
    """Make each planned instrument and ask it whether it can work on ``target``."""
    found = Availability([], [], [])
    for name, plan in planned.items():
        instrument = plan.cls(source_directory=plan.source, **plan.values)
        try:
            instrument.check(target)
        except InstrumentUnavailable as missing:
            message = f"instrument '{name}' cannot work on device '{device}': {missing}"
            if plan.values.get("optional"):
                found.notes.append(f"{message}; the run goes on without it (optional: true)")
            else:
                found.problems.append(Problem(plan.location, f"augmentations: {name}", (
                    f"{message}. To run without it where it cannot work, configure it "
                    f"with optional: true (e.g. config: {{{name}: {{optional: true}}}})")))
            continue
        found.usable.append(instrument)
    return found
