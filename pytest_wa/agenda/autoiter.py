"""The values of ``iterations: auto`` and its three settings, each checked on its own.

``iterations`` is a count or the word ``auto``; ``target_cv`` a percentage
(``2%``, ``2 %`` or ``2``); ``min_iterations`` and ``max_iterations`` counts.
How they combine into a spec (min <= max, where each was written) is
``jobspecs``'s business; what a run does with them is ``engine/autoiter.py``'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..model.errors import close_matches
from ..model.parameters import ParameterValueError, integer, shown
from .spec import AUTO

#: The job settings of ``iterations: auto`` (inert for a spec that runs a fixed count).
AUTO_FIELDS = ("target_cv", "min_iterations", "max_iterations", "target_metrics")


def iterations_value(value: Any) -> int | str:
    """A count of 1 or more, or ``auto`` (any case)."""
    if isinstance(value, str) and value.strip()[:1] not in "+-0123456789":  # not "0x10"
        word = value.strip().lower()
        if word == AUTO:
            return AUTO
        meant = close_matches(word, [AUTO])
        raise ParameterValueError(f"expected an integer or 'auto', got {shown(value)} "
                                  f"(string){'.' + meant if meant else ''}")
    count = integer(value)
    if count < 1:
        raise ParameterValueError(f"must be at least 1, got {count}")
    return count


def target_cv_value(value: Any) -> float:
    """A percentage above 0 as a fraction: ``2%``, ``2 %`` and ``2`` are all 0.02.

    A bare number below 1 is refused: ``0.02`` may mean 2 % (a fraction, as
    ``statistics.csv`` writes CVs) or 0.02 %, and reading it either way would
    silently run 100 times too many or too few iterations.
    """
    text = str(value).strip() if isinstance(value, str | int | float) else None
    if text is None or isinstance(value, bool):
        raise ParameterValueError(f"expected a percentage such as 2%, got {shown(value)}")
    percent = text.endswith("%")
    try:
        number = float(text.removesuffix("%").strip())
    except ValueError:
        raise ParameterValueError(f"expected a percentage such as 2%, got {shown(value)}"
                                  ) from None
    if not math.isfinite(number) or number <= 0:
        raise ParameterValueError(f"must be a percentage above 0, got {shown(value)}")
    if number < 1 and not percent:
        raise ParameterValueError(
            f"{shown(value)} is ambiguous: write {100 * number:g}% for {100 * number:g} "
            f"percent, or {number:g}% if you mean {number:g} percent")
    return number / 100


def _count(least: int, why: str) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        count = integer(value)
        if count < least:
            raise ParameterValueError(f"must be at least {least}{why}, got {count}")
        return count
    return convert


def target_metrics_value(value: Any) -> tuple[str, ...]:
    """Metric names or shell-style patterns (``DMIPS``, ``time*``): one or a list."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or \
            not all(isinstance(name, str) and name.strip() for name in names):
        raise ParameterValueError(f"expected a metric name or a list of them (patterns "
                                  f"such as 'time*' too), got {shown(value)}")
    return tuple(name.strip() for name in names)


#: The checks of ``iterations`` and of the auto settings, by field name.
CHECKS: dict[str, Callable[[Any], Any]] = {
    "iterations": iterations_value,
    "target_cv": target_cv_value,
    "min_iterations": _count(2, " (a coefficient of variation needs two values)"),
    "max_iterations": _count(2, " (a coefficient of variation needs two values)"),
    "target_metrics": target_metrics_value,
}
