"""Two runs compared metric by metric, and the plain-text table the terminal shows.

One row a metric both runs have (same job id, name and classifiers); a
metric only one run has is listed under the table, never compared with
nothing. Numbers keep six significant digits, changes and intervals one
decimal of a percent: enough to read a verdict, short enough to align.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from .runs import Key, RunMetrics
from .verdicts import DEFAULT_THRESHOLD, VERDICTS, Comparison, compare

HEADERS = ("job", "metric", "units", "baseline", "this run", "change",
           "95% CI of change", "p", "verdict")
RIGHT = frozenset({"baseline", "this run", "change", "95% CI of change", "p"})


@dataclass(frozen=True)
class Row:
    key: Key
    units: str | None
    comparison: Comparison


@dataclass
class Report:
    """Everything ``python -m pytest_wa compare`` prints about two runs."""

    baseline: RunMetrics
    this: RunMetrics
    rows: list[Row]
    only_baseline: list[Key]
    only_this: list[Key]
    threshold: float = DEFAULT_THRESHOLD  # the global one; a row may have its metric's

    def counts(self) -> dict[str, int]:
        """How many rows got each verdict (every verdict listed, zeros included)."""
        found = Counter(row.comparison.verdict for row in self.rows)
        return {verdict: found[verdict] for verdict in VERDICTS}


def compare_runs(baseline: RunMetrics, this: RunMetrics, threshold: float = DEFAULT_THRESHOLD,
                 per_metric: Mapping[str, float] | None = None) -> Report:
    """Compare every metric both runs have. The threshold of a metric (in %): its name's
    in ``per_metric`` (the command line's NAME=PCT), else its job's in the agenda's
    ``thresholds`` (as this run kept them: ``this.thresholds``), else ``threshold``.
    The direction is the baseline's ``lower_is_better``."""
    rows = []
    for key in sorted(set(baseline.series) & set(this.series)):
        base, new = baseline.series[key], this.series[key]
        limit = threshold_of(key, threshold, per_metric or {}, this.thresholds)
        rows.append(Row(key, base.units or new.units,
                        compare(base.values, new.values, lower_is_better=base.lower_is_better,
                                threshold=limit)))
    return Report(baseline, this, rows, sorted(set(baseline.series) - set(this.series)),
                  sorted(set(this.series) - set(baseline.series)), threshold)


def threshold_of(key: Key, threshold: float, per_metric: Mapping[str, float],
                 per_job: Mapping[str, Mapping[str, float]]) -> float:
    """One metric's threshold by the precedence of ``compare_runs``."""
    job, name, _ = key
    if name in per_metric:
        return per_metric[name]
    return per_job.get(job, {}).get(name, threshold)


def metric_label(key: Key) -> str:
    """``name`` or ``name [key=value,...]`` when classifiers tell metrics apart."""
    _, name, classifiers = key
    if not classifiers:
        return name
    return f"{name} [{','.join(f'{k}={v}' for k, v in classifiers)}]"


def number(value: float) -> str:
    return f"{value:.6g}"


def _percent_interval(comparison: Comparison) -> str:
    """The interval in % of the baseline mean, or in the metric's units when that is 0."""
    if comparison.ci is None:
        return "-"
    if comparison.ci_percent is not None:
        low, high = comparison.ci_percent
        return f"[{low:+.1f}%, {high:+.1f}%]"
    low, high = comparison.ci
    return f"[{low:+.3g}, {high:+.3g}]"


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def cells(row: Row, threshold: float = DEFAULT_THRESHOLD) -> tuple[str, ...]:
    """One table row as text, in ``HEADERS`` order; a threshold other than the global
    ``threshold`` (a per-metric one) is shown beside the verdict it decided."""
    c = row.comparison
    change = "-" if c.change is None else f"{c.change:+.1f}%"
    verdict = c.verdict if c.threshold == threshold else \
        f"{c.verdict} (±{c.threshold:g}%)"
    return (row.key[0], metric_label(row.key), row.units or "", number(c.baseline_mean),
            number(c.this_mean), change, _percent_interval(c), _p(c.p), verdict)


def aligned(lines: list[tuple[str, ...]]) -> list[str]:
    """Columns padded to their widest cell: numbers to the right, words to the left."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    out = []
    for line in lines:
        padded = [cell.rjust(width) if header in RIGHT else cell.ljust(width)
                  for cell, width, header in zip(line, widths, HEADERS, strict=True)]
        out.append("  ".join(padded).rstrip())
    return out


def _listed(title: str, keys: list[Key]) -> list[str]:
    return [f"{title}: " + ", ".join(f"{key[0]}/{metric_label(key)}" for key in keys)] \
        if keys else []


def render(report: Report) -> str:
    """The whole text: who is compared, the table, the summary and what was left out."""
    threshold = report.threshold
    lines = [f"baseline: {report.baseline.name}",
             f"this run: {report.this.name}",
             f"threshold: {threshold:g}% of the baseline mean; 95% CI of the difference "
             f"of means (Welch); p: Mann-Whitney U, two-sided", ""]
    lines += aligned([HEADERS, *(cells(row, threshold) for row in report.rows)])
    counts = report.counts()
    lines += ["", f"{len(report.rows)} metrics compared: "
              + ", ".join(f"{count} {verdict}" for verdict, count in counts.items())]
    lines += _listed("only in the baseline", report.only_baseline)
    lines += _listed("only in this run", report.only_this)
    for title, run in (("the baseline", report.baseline), ("this run", report.this)):
        if run.left_out:
            lines.append(f"left out of {title} (not OK): {', '.join(run.left_out)}")
    return "\n".join(lines) + "\n"
