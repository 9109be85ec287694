"""A baseline beside this run: its values in each metric's plot, a verdict in each row.

The baseline is anything ``compare.runs.load`` reads (a run directory, or a
run uuid in a results database); the verdicts are ``compare``'s, with its
thresholds (``[NAME=]PCT``, as ``python -m pytest_wa compare --threshold``).
Verdicts need scipy, imported by ``compare/verdicts.py`` only here: without
it the baseline's values are still drawn and the report says what to
install. A baseline that cannot be loaded costs only the baseline: the report
is written without it and says why (the run's results must never be lost to
a typo in a baseline's name).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from ..compare.runs import CompareError, load
from ..compare.table import compare_runs, metric_label
from ..stats import summarize
from .metrics import num, statistics, values

if TYPE_CHECKING:
    from ..compare.runs import Key, RunMetrics
    from ..compare.verdicts import Comparison

NEEDS_SCIPY = "verdicts need scipy: pip install 'pytest-wa[stats]'"


def _listed(keys: list[Key]) -> list[str]:
    return [f"{key[0]}/{metric_label(key)}" for key in keys]


def _verdict(comparison: Comparison) -> dict[str, Any]:
    interval = comparison.ci_percent
    return {"verdict": comparison.verdict, "change": num(comparison.change),
            "ci": None if interval is None else [num(interval[0]), num(interval[1])],
            "p": num(comparison.p), "threshold": comparison.threshold}


def _beside(row: dict[str, Any], series: Any) -> None:
    """The baseline's values and statistics in ``row`` (its ``base``)."""
    found = statistics(summarize(series.values))
    row["base"] = {"y": values(series), **{k: found[k] for k in ("n", "mean", "lo", "hi")}}


def attach(rows: list[tuple[Key, dict[str, Any]]], this: RunMetrics,
           baseline: str | RunMetrics, thresholds: Sequence[str] = (), db: str | None = None
           ) -> dict[str, Any]:
    """Put the baseline's values (and verdicts, with scipy) into ``rows``; the summary the
    report shows above the table (with ``error`` when the baseline is unusable).
    ``baseline`` may be loaded already (``--wa-baseline`` read it before the run, which
    may have moved its directory aside). The agendas' per-job ``thresholds`` come with
    ``this`` (its jobs' metadata)."""
    from ..compare.cli import thresholds as parse_thresholds

    try:
        overall, per_metric = parse_thresholds(list(thresholds))
        base = baseline if not isinstance(baseline, str) else load(baseline, db)
    except (CompareError, OSError) as error:
        return {"name": getattr(baseline, "name", baseline), "error": str(error)}
    for key, row in rows:
        if key in base.series:
            _beside(row, base.series[key])
    summary: dict[str, Any] = {
        "name": base.name, "threshold": overall, "per_metric": per_metric,
        "only_baseline": _listed(sorted(set(base.series) - set(this.series))),
        "only_this": _listed(sorted(set(this.series) - set(base.series))),
        "left_out": base.left_out, "common": sum(key in base.series for key, _ in rows)}
    if find_spec("scipy") is None:
        return {**summary, "note": NEEDS_SCIPY}
    report = compare_runs(base, this, overall, per_metric)
    verdicts = {row.key: _verdict(row.comparison) for row in report.rows}
    for key, row in rows:
        if key in verdicts:
            row["v"] = verdicts[key]
    return {**summary, "counts": report.counts()}
