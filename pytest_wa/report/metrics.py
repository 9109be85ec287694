"""The metrics table's rows: each metric's values over the iterations and their statistics.

Metrics are gathered by ``compare/runs.py`` (the same keys, job id, metric
name and classifiers, and the same rule: only OK and NONCRITICAL iterations
count), so a baseline's metrics line up with this run's exactly as ``python
-m pytest_wa compare`` lines them up. The statistics are ``stats.summarize``'s,
the numbers of the terminal and of ``statistics.csv``. Numbers are embedded
with six significant digits: a plot cannot show more, and it keeps a report of
10,000 jobs small; the table shows statistics computed at full precision.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..stats import UNSTABLE_CV, summarize

if TYPE_CHECKING:
    from ..compare.runs import Key, RunMetrics, Series
    from ..stats import Summary


def num(value: float | None) -> float | None:
    """``value`` to six significant digits; None for None, NaN or infinity (not JSON)."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


def classifier_text(key: Key) -> str:
    """``k=v, k=v``: what tells apart metrics of one name in one job (a CPU, a policy)."""
    return ", ".join(f"{name}={value}" for name, value in key[2])


def flags(summary: Summary) -> list[str]:
    """``problems()`` in a word or two each, for a narrow table column."""
    found = []
    if summary.cv is not None and summary.cv > UNSTABLE_CV:
        found.append(f"CV {100 * summary.cv:.0f}%")
    if summary.trending:
        found.append("rising" if (summary.trend_s or 0) > 0 else "falling")
    if summary.outliers:
        found.append(f"{len(summary.outliers)} outlier" + "s" * (len(summary.outliers) > 1))
    return found


def statistics(summary: Summary) -> dict[str, Any]:
    """The table's columns for one series (``lo``/``hi``: the 95 % CI of the mean)."""
    low, high = summary.ci or (None, None)
    return {"n": summary.n, "mean": num(summary.mean), "median": num(summary.median),
            "stdev": num(summary.stdev), "cv": num(summary.cv), "lo": num(low),
            "hi": num(high), "min": num(summary.minimum), "max": num(summary.maximum),
            "out": list(summary.outliers), "trend": num(summary.trend_p),
            "problems": summary.problems(), "flags": flags(summary)}


def values(series: Series) -> list[float | None]:
    return [num(value) for value in series.values]


def metric_rows(found: RunMetrics, labels: dict[str, str]
                ) -> list[tuple[Key, dict[str, Any]]]:
    """A row per metric of ``found`` (in the order the jobs first reported them)."""
    rows = []
    for key, series in found.series.items():
        job, name, _ = key
        row = {"job": job, "label": labels.get(job, ""), "name": name,
               "cls": classifier_text(key), "units": series.units or "",
               "lib": bool(series.lower_is_better), "y": values(series)}
        row.update(statistics(summarize(series.values)))
        rows.append((key, row))
    return rows
