"""What every energy backend gives: the energy of each site between start and stop.

A backend is the part of ``energy_measurement`` that knows one kind of meter.
Once per run, ``discover`` finds its sites on the target (or raises
``InstrumentUnavailable`` saying what is missing) and ``use`` narrows them to
the ones the agenda selected. Per job, ``start`` just before the workload
and ``stop`` just after it; ``stop`` returns a ``Measurement``: the joules
of each site, the seconds between the two readings (the target's clock),
the readings as a table for the CSV artifact, and notes for the job's events.

Most meters are energy counters read at both ends (``CounterBackend``); a
counter that wraps (RAPL) is also read in the background, often enough that
it cannot wrap twice between two readings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ...model.errors import InstrumentError
from ...model.parameters import Parameter
from ..snapshots import Sampler, Snapshot, in_order, take

if TYPE_CHECKING:
    from ...targets.protocols import Target


@dataclass
class Measurement:
    """One job's energy: joules by site over ``seconds``, with the readings behind them."""

    joules: dict[str, float]
    seconds: float
    #: One row per reading: "time" (seconds from the first) and each site's columns.
    rows: list[dict[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Backend:
    """A kind of energy meter. Subclasses set ``name``, ``description``, ``parameters``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    parameters: ClassVar[tuple[Parameter, ...]] = ()

    def __init__(self, **values: Any) -> None:
        self.values = values
        self.sites: list[str] = []
        #: What ``discover`` left out and why, for the run's log.
        self.left_out: list[str] = []

    def discover(self, target: Target) -> list[str]:
        """The sites this meter measures on ``target``; raise ``InstrumentUnavailable``
        (with what is missing and how to get it) when it cannot measure there."""
        raise NotImplementedError

    def use(self, sites: Sequence[str]) -> None:
        """Measure only these sites (a subset of what ``discover`` returned)."""
        self.sites = list(sites)

    def start(self, target: Target) -> None:
        raise NotImplementedError

    def stop(self, target: Target) -> Measurement:
        raise NotImplementedError

    def close(self) -> None:
        """The run is over: let go of what ``discover`` opened."""


@dataclass(frozen=True)
class Counter:
    """An energy counter file: its site, its scale to joules, where it wraps (joules)."""

    site: str
    path: str
    scale: float
    wraps_at: float | None = None


class CounterBackend(Backend):
    """Counters read just before and just after the workload; when some wrap, sampled in
    between every ``period`` seconds as well."""

    period: float | None = None

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self.counters: list[Counter] = []
        self.as_root = False
        self._before: Snapshot | None = None
        self._sampler: Sampler | None = None

    def _selected(self) -> list[Counter]:
        return [counter for counter in self.counters if counter.site in self.sites]

    def start(self, target: Target) -> None:
        paths = [counter.path for counter in self._selected()]
        self._before = take(target, paths, as_root=self.as_root)
        if self.period and any(c.wraps_at for c in self._selected()):
            self._sampler = Sampler(target, paths, self.period, name="energy_measurement",
                                    as_root=self.as_root)

    def stop(self, target: Target) -> Measurement:
        counters = self._selected()
        before, sampler = self._before, self._sampler
        self._before = self._sampler = None
        if before is None:
            raise InstrumentError("stop without start")
        try:
            after = take(target, [counter.path for counter in counters], as_root=self.as_root,
                         then=sampler)
        finally:
            samples = sampler.samples() if sampler else []
        return integrate(counters, in_order(before, samples, after))


def integrate(counters: Sequence[Counter], readings: Sequence[Snapshot]) -> Measurement:
    """Each counter's increase over ``readings``, a wrap added back wherever it went down."""
    start = readings[0].time
    rows: list[dict[str, float]] = [{"time": snapshot.time - start} for snapshot in readings]
    joules: dict[str, float] = {}
    for index, counter in enumerate(counters):
        values = [_number(snapshot.values[index]) for snapshot in readings]
        for end, side in ((0, "before"), (-1, "after")):
            if values[end] is None:
                raise InstrumentError(f"{counter.path} could not be read {side} the workload: "
                                      f"{readings[end].values[index]!r}")
        total, previous = 0.0, None
        for row, value in zip(rows, values, strict=True):
            if value is None:  # a background sample that missed it
                continue
            if previous is not None:
                total += _increase(counter, previous, value)
            previous = value
            row[f"{counter.site}_energy"] = total
        joules[counter.site] = total
    return Measurement(joules, readings[-1].time - start, rows)


def _increase(counter: Counter, previous: float, value: float) -> float:
    """Joules between two readings of a counter."""
    difference = (value - previous) * counter.scale
    if difference >= 0:
        return difference
    if counter.wraps_at is None:
        raise InstrumentError(f"{counter.path} went back from {previous:.0f} to {value:.0f} "
                              "(the counter was reset during the job)")
    return difference + counter.wraps_at


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def site_name(text: str) -> str:
    """A kernel name as a metric-name part: ``package-0`` -> ``package_0``."""
    return "".join(c if c.isalnum() else "_" for c in text.strip()).strip("_") or "site"
