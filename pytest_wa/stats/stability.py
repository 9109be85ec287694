"""When a spec has run enough iterations: the rule of ``iterations: auto``.

After each iteration of an auto spec the run asks ``judge``: stop once at
least ``min_iterations`` iterations ended OK and every metric's coefficient
of variation over them is within the target (the spec is **stable**), or once
they reported no metric at all (nothing to wait for); else go on, up to
``max_iterations``. Only the CV decides: more iterations shrink neither an
outlier nor a trend (``Summary.problems`` still reports both), while a CV
that is high only because of one cold first iteration falls as iterations are
added, which is what waiting is for (docs/statistics.md says more).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .summary import summarize

STABLE = "stable"
NO_METRICS = "no_metrics"
MAX_ITERATIONS = "max_iterations"
UNDECIDED = "undecided"


@dataclass(frozen=True)
class Verdict:
    """Why an auto spec stopped (or, ``UNDECIDED``, why the run left it unfinished)."""

    stopped: str
    message: str
    #: Iterations that ran to an end (any status) and those that ended OK.
    iterations: int
    ok: int
    #: The largest CV over the spec's metrics (None: unknown or no metric), and whose.
    cv: float | None = None
    metric: str | None = None

    @property
    def stops_spec(self) -> bool:
        """Whether the spec's iterations still to come are not needed."""
        return self.stopped in (STABLE, NO_METRICS)


def percent(fraction: float) -> str:
    """0.0123 -> '1.23 %', 0.03 -> '3 %'."""
    text = f"{100 * fraction:.2f}".rstrip("0").rstrip(".")
    return f"{text} %"


def metric_cv(values: Sequence[float]) -> float | None:
    """stdev / |mean|: 0 for identical values (all zeros too); None when it cannot be
    known: a single value, or values spread around a mean of 0."""
    if len(values) < 2:
        return None
    summary = summarize(values)
    return 0.0 if summary.stdev == 0 else summary.cv


def widest(series: Mapping[str, Sequence[float]]) -> tuple[str | None, float | None]:
    """The metric with the largest CV, and that CV; an unknown CV counts as largest."""
    worst: tuple[str | None, float | None] = (None, None)
    largest = -1.0
    for name, values in series.items():
        cv = metric_cv(values)
        rank = math.inf if cv is None else cv
        if rank > largest:
            worst, largest = (name, cv), rank
    return worst


def judge(series: Mapping[str, Sequence[float]], ok: int, ran: int, target_cv: float,
          min_iterations: int, max_iterations: int) -> Verdict | None:
    """The verdict once the spec has run enough, else None (run another iteration).

    ``series`` holds each metric's values over the ``ok`` iterations that ended
    OK; ``ran`` counts every iteration that ran to an end, failed ones too.
    """
    name, cv = widest(series)
    counted = f"{ok} iterations" if ok == ran else f"{ok} OK iterations of {ran}"
    if ok >= min_iterations and not series:
        return Verdict(NO_METRICS, f"no metrics to judge: stopped after {counted}", ran, ok)
    if ok >= min_iterations and cv is not None and cv <= target_cv:
        return Verdict(STABLE, f"stable after {counted} (cv {percent(cv)} ≤ "
                               f"{percent(target_cv)}, {name})", ran, ok, cv, name)
    if ran >= max_iterations:
        return Verdict(MAX_ITERATIONS, f"reached max_iterations ({max_iterations}) "
                       + _short_of(name, cv, ok, target_cv, min_iterations), ran, ok, cv, name)
    return None


def _short_of(name: str | None, cv: float | None, ok: int, target_cv: float,
              min_iterations: int) -> str:
    """What kept a spec that reached max_iterations from being stable."""
    if ok == 0:
        return "with no OK iteration"
    if ok < min_iterations:
        return f"with {ok} OK iteration(s), fewer than min_iterations ({min_iterations})"
    if cv is None:
        return f"and the cv of {name} unknown (one value, or a mean of 0)"
    return f"with cv {percent(cv)} > {percent(target_cv)} ({name})"


def undecided(series: Mapping[str, Sequence[float]], ok: int, ran: int,
              max_iterations: int, why: str) -> Verdict:
    """An auto spec the run left before a verdict (stopped, interrupted, not selected)."""
    name, cv = widest(series)
    so_far = f"; cv so far {percent(cv)} ({name})" if cv is not None else ""
    return Verdict(UNDECIDED, f"{ran} of at most {max_iterations} iterations ran, no "
                              f"decision: {why}{so_far}", ran, ok, cv, name)
