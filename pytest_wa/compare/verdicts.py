"""One metric of one job, baseline against this run: the numbers and a verdict.

The rule (docs/statistics.md, "Comparing two runs"), with ``T`` the threshold
as a fraction of the baseline mean's magnitude (``T * |baseline mean|`` in the
metric's units) and ``d`` this run's mean minus the baseline's:

- *significant*: the Mann-Whitney U test's two-sided p < ``alpha`` **and**
  Welch's 95 % confidence interval of ``d`` excludes 0. Two tests, because a
  rank test alone ignores how far apart the values are and Welch's interval
  alone trusts normality; asking both keeps the false-alarm rate at or under
  ``alpha``.
- ``regressed`` / ``improved``: significant and ``|d| >= T``; the direction
  (``lower_is_better``) says which.
- ``unchanged``: the whole interval lies within ``[-T, +T]``: any change is
  shown to be smaller than the threshold (a significant but small change is
  ``unchanged`` too).
- ``inconclusive``: anything else: the data can neither show a change as large
  as the threshold nor rule one out. More iterations settle it.

Fewer than two values in either run: no interval, no test; ``unchanged`` when
every value of both runs is the same, ``inconclusive`` otherwise (one value
says nothing about the noise, so a small difference is no evidence). A
baseline mean of 0 has no change in %: ``T`` is then 0, so any significant
difference counts and only an interval of exactly [0, 0] is ``unchanged``.

scipy is imported inside the functions that need it: importing the plugin must
stay cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

IMPROVED, REGRESSED, UNCHANGED, INCONCLUSIVE = "improved", "regressed", "unchanged", \
    "inconclusive"
VERDICTS = (REGRESSED, IMPROVED, UNCHANGED, INCONCLUSIVE)
DEFAULT_THRESHOLD = 5.0  # percent of the baseline mean
ALPHA = 0.05
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Comparison:
    """What the table shows for one metric. ``ci`` is the 95 % interval of
    ``this mean - baseline mean`` in the metric's units; None when a run has one value."""

    baseline_n: int
    this_n: int
    baseline_mean: float
    this_mean: float
    ci: tuple[float, float] | None
    p: float | None
    verdict: str
    threshold: float  # percent
    lower_is_better: bool

    @property
    def difference(self) -> float:
        return self.this_mean - self.baseline_mean

    @property
    def change(self) -> float | None:
        """The change in % of the baseline mean's magnitude; None when that mean is 0."""
        if self.baseline_mean == 0:
            return None
        return 100.0 * self.difference / abs(self.baseline_mean)

    @property
    def ci_percent(self) -> tuple[float, float] | None:
        """``ci`` in % of the baseline mean's magnitude (None without either)."""
        if self.ci is None or self.baseline_mean == 0:
            return None
        scale = 100.0 / abs(self.baseline_mean)
        return self.ci[0] * scale, self.ci[1] * scale


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _variance(values: Sequence[float], mean: float) -> float:
    """Sample variance (n - 1); 0 for one value."""
    if len(values) < 2:
        return 0.0
    return math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)


def welch_interval(baseline: Sequence[float], this: Sequence[float],
                   confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Welch's interval of ``mean(this) - mean(baseline)`` (unequal variances).

    Needs two values in each run. With no spread in either it is the exact
    difference, [d, d]: there is no noise to allow for.
    """
    from scipy import stats

    mean_a, mean_b = _mean(baseline), _mean(this)
    part_a = _variance(baseline, mean_a) / len(baseline)
    part_b = _variance(this, mean_b) / len(this)
    difference = mean_b - mean_a
    error = math.sqrt(part_a + part_b)
    if error == 0:
        return difference, difference
    freedom = (part_a + part_b) ** 2 / (part_a ** 2 / (len(baseline) - 1)
                                        + part_b ** 2 / (len(this) - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, freedom)) * error
    return difference - half, difference + half


def mann_whitney_p(baseline: Sequence[float], this: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U p-value (scipy's ``method="auto"``); 1.0 when every
    value is the same (scipy's answer there is 1.0 or NaN, and there is nothing to test)."""
    from scipy import stats

    if len(set(baseline) | set(this)) == 1:
        return 1.0
    p = float(stats.mannwhitneyu(this, baseline, alternative="two-sided").pvalue)
    return 1.0 if math.isnan(p) else p


def compare(baseline: Sequence[float], this: Sequence[float], *,
            lower_is_better: bool = False, threshold: float = DEFAULT_THRESHOLD,
            alpha: float = ALPHA) -> Comparison:
    """Compare one metric's values over iterations: ``threshold`` in % (>= 0)."""
    if not baseline or not this:
        raise ValueError("compare needs at least one value from each run")
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0 %, not {threshold}")
    base, new = [float(v) for v in baseline], [float(v) for v in this]
    mean_a, mean_b = _mean(base), _mean(new)
    if len(base) < 2 or len(new) < 2:
        same = len(set(base) | set(new)) == 1
        return Comparison(len(base), len(new), mean_a, mean_b, None, None,
                          UNCHANGED if same else INCONCLUSIVE, threshold, lower_is_better)
    ci = welch_interval(base, new)
    p = mann_whitney_p(base, new)
    verdict = _verdict(mean_b - mean_a, ci, p, threshold / 100.0 * abs(mean_a),
                       lower_is_better, alpha)
    return Comparison(len(base), len(new), mean_a, mean_b, ci, p, verdict, threshold,
                      lower_is_better)


def _verdict(difference: float, ci: tuple[float, float], p: float, band: float,
             lower_is_better: bool, alpha: float) -> str:
    """The rule of the module docstring; ``band`` is the threshold in the metric's units."""
    significant = p < alpha and (ci[0] > 0 or ci[1] < 0)
    if significant and abs(difference) >= band:
        worse = difference > 0 if lower_is_better else difference < 0
        return REGRESSED if worse else IMPROVED
    if -band <= ci[0] and ci[1] <= band:
        return UNCHANGED
    return INCONCLUSIVE
