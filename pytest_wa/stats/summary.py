"""The statistics of one metric over a spec's iterations, and whether to trust them.

n, mean, median, standard deviation (n - 1), coefficient of variation, a 95 %
confidence interval of the mean (Student's t), min and max; outliers by the
IQR rule (beyond 1.5 interquartile ranges of the quartiles, n >= 4); and a
trend across iterations (Mann-Kendall, n >= 5), the sign of a device warming
up or throttling. Pure Python: every run with iterations computes these.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from .tdist import t_quantile

#: Above this coefficient of variation a metric is called unstable (issue 16: 5 %).
UNSTABLE_CV = 0.05
#: A trend is reported when Mann-Kendall's two-sided p-value is below this.
TREND_P = 0.05
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    median: float
    stdev: float
    minimum: float
    maximum: float
    #: Half the width of the 95 % confidence interval of the mean (None for n < 2).
    margin: float | None
    #: Positions (0-based, in iteration order) of the values the IQR rule calls outliers.
    outliers: tuple[int, ...] = field(default=())
    #: Mann-Kendall's S and two-sided p (None for n < 5): S > 0 means rising.
    trend_s: int | None = None
    trend_p: float | None = None

    @property
    def cv(self) -> float | None:
        """stdev / |mean| (None when the mean is 0 or n < 2)."""
        if self.n < 2 or self.mean == 0:
            return None
        return self.stdev / abs(self.mean)

    @property
    def ci(self) -> tuple[float, float] | None:
        if self.margin is None:
            return None
        return self.mean - self.margin, self.mean + self.margin

    @property
    def trending(self) -> bool:
        return self.trend_p is not None and self.trend_p < TREND_P

    def problems(self, target_cv: float = UNSTABLE_CV) -> list[str]:
        """Why these numbers are not to be trusted as they are (empty if they are)."""
        found = []
        cv = self.cv
        if cv is not None and cv > target_cv:
            found.append(f"CV {100 * cv:.1f} % (above {100 * target_cv:g} %)")
        if self.trending:
            direction = "rises" if (self.trend_s or 0) > 0 else "falls"
            found.append(f"{direction} across iterations (Mann-Kendall p={self.trend_p:.3f})")
        if self.outliers:
            found.append("outliers at iteration " + ", ".join(str(i + 1) for i in self.outliers))
        return found


def _outliers(values: Sequence[float]) -> tuple[int, ...]:
    if len(values) < 4:
        return ()
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    reach = 1.5 * (q3 - q1)
    return tuple(i for i, v in enumerate(values) if v < q1 - reach or v > q3 + reach)


def mann_kendall(values: Sequence[float]) -> tuple[int, float]:
    """Mann-Kendall's S and its two-sided p-value (normal approximation with the
    correction for ties and for continuity)."""
    n = len(values)
    s = _kendall_s(values)
    ties = [count for count in _counts(values) if count > 1]
    variance = (n * (n - 1) * (2 * n + 5)
                - sum(t * (t - 1) * (2 * t + 5) for t in ties)) / 18.0
    if variance <= 0 or s == 0:
        return s, 1.0
    z = (s - 1 if s > 0 else s + 1) / math.sqrt(variance)
    return s, math.erfc(abs(z) / math.sqrt(2.0))


def _kendall_s(values: Sequence[float]) -> int:
    """The sum over pairs i < j of sign(x_j - x_i): each value against the sorted earlier
    ones by bisection, not against each of them (100 iterations of a 10,000-job run's
    1,000 metrics: 5,000 comparisons a metric otherwise, seconds for the report)."""
    earlier: list[float] = []
    s = 0
    for value in values:
        s += bisect.bisect_left(earlier, value) - (len(earlier)
                                                   - bisect.bisect_right(earlier, value))
        bisect.insort(earlier, value)
    return s


def _counts(values: Sequence[float]) -> list[int]:
    seen: dict[float, int] = {}
    for value in values:
        seen[value] = seen.get(value, 0) + 1
    return list(seen.values())


def summarize(values: Sequence[float]) -> Summary:
    """The statistics of ``values`` (in iteration order; at least one)."""
    if not values:
        raise ValueError("no values to summarize")
    n = len(values)
    mean = statistics.fmean(values)
    stdev = statistics.stdev(values) if n > 1 else 0.0
    margin = (t_quantile(0.5 + CONFIDENCE / 2, n - 1) * stdev / math.sqrt(n)
              if n > 1 else None)
    trend_s, trend_p = mann_kendall(values) if n >= 5 else (None, None)
    return Summary(n=n, mean=mean, median=statistics.median(values), stdev=stdev,
                   minimum=min(values), maximum=max(values), margin=margin,
                   outliers=_outliers(values), trend_s=trend_s, trend_p=trend_p)
