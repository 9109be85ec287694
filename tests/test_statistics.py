"""Per-metric statistics: the numbers against scipy and hand-computed values, the edge
cases (one iteration, zero variance, a metric missing from some iterations, a failed
iteration), and where users meet them: the terminal, junit-xml, statistics.csv, the docs'
worked example."""

from __future__ import annotations

import csv
import math
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pytest_wa.stats import summarize
from pytest_wa.stats.summary import mann_kendall
from pytest_wa.stats.tdist import t_quantile

scipy_stats = pytest.importorskip("scipy.stats")
numpy = pytest.importorskip("numpy")


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 10, 19, 30, 99, 1000, 0.5, 2.5])
@pytest.mark.parametrize("probability", [0.975, 0.995, 0.9, 0.6, 0.025])
def test_t_quantile_matches_scipy(df: float, probability: float) -> None:
    assert t_quantile(probability, df) == pytest.approx(
        scipy_stats.t.ppf(probability, df), rel=1e-9, abs=1e-9)


def test_summary_matches_scipy_on_random_samples() -> None:
    generator = random.Random(16)
    for n in (2, 3, 5, 8, 13, 40):
        values = [generator.gauss(100, 7) for _ in range(n)]
        summary = summarize(values)
        low, high = scipy_stats.t.interval(0.95, n - 1, loc=numpy.mean(values),
                                           scale=scipy_stats.sem(values))
        assert summary.mean == pytest.approx(numpy.mean(values))
        assert summary.median == pytest.approx(numpy.median(values))
        assert summary.stdev == pytest.approx(numpy.std(values, ddof=1))
        assert summary.ci == pytest.approx((low, high))
        assert summary.cv == pytest.approx(numpy.std(values, ddof=1) / numpy.mean(values))


def test_outliers_follow_the_iqr_rule_with_linear_quartiles() -> None:
    values = [10.0, 10.2, 9.9, 10.1, 14.0, 10.0, 6.0, 10.3]
    q1, q3 = numpy.percentile(values, [25, 75])
    expected = tuple(i for i, v in enumerate(values)
                     if v < q1 - 1.5 * (q3 - q1) or v > q3 + 1.5 * (q3 - q1))
    assert expected == (4, 6)
    assert summarize(values).outliers == expected
    assert summarize([1.0, 2.0, 50.0]).outliers == ()  # too few values for quartiles


def test_mann_kendall_by_hand() -> None:
    """1..7: S = 21, Var(S) = 7*6*19/18, z = (21 - 1)/sqrt(Var), p = erfc(z/sqrt 2)."""
    s, p = mann_kendall([1, 2, 3, 4, 5, 6, 7])
    assert s == 21
    assert p == pytest.approx(math.erfc((20 / math.sqrt(7 * 6 * 19 / 18)) / math.sqrt(2)))
    assert p < 0.01 and "rises across iterations" in summarize(range(1, 8)).problems()[1]
    # ties: 1, 1, 2, 2, 3 -> S = 8, Var = (5*4*15 - 2*(2*1*9))/18
    s, p = mann_kendall([1, 1, 2, 2, 3])
    assert s == 8
    assert p == pytest.approx(math.erfc((7 / math.sqrt((300 - 36) / 18)) / math.sqrt(2)))


def test_edge_cases() -> None:
    one = summarize([3.5])
    assert (one.n, one.mean, one.stdev, one.margin, one.cv, one.ci) == (1, 3.5, 0.0, None,
                                                                        None, None)
    assert one.problems() == []
    flat = summarize([2.0] * 6)
    assert (flat.stdev, flat.margin, flat.cv, flat.outliers, flat.trend_p) == (0.0, 0.0, 0.0,
                                                                              (), 1.0)
    assert flat.problems() == []
    assert summarize([0.0, 0.0]).cv is None  # no CV of a zero mean
    noisy = summarize([100, 110, 90, 105, 95])
    assert noisy.problems() == [f"CV {100 * noisy.cv:.1f} % (above 5 %)"]
    with pytest.raises(ValueError):
        summarize([])


AGENDA = """
workloads:
  - id: varied
    name: command
    iterations: 5
    params:
      command: >-
        i=$(cat counter 2>/dev/null || echo 0); echo $((i + 1)) > counter;
        echo t=$((100 + 10 * (i % 2))); [ $i -ne 2 ] && echo extra=$i;
        [ $i -ne 3 ] || exit 1
      metrics: {t: 't=(\\d+)', extra: 'extra=(\\d+)'}
"""


def test_terminal_junit_and_statistics_csv(pytester: pytest.Pytester) -> None:
    """Iteration 3 lacks ``extra`` (PARTIAL), iteration 4 fails: both left out."""
    pytester.makefile(".yaml", agenda=AGENDA)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml",
                                           "--junit-xml=out.xml", "--wa-max-retries=0")
    result.assert_outcomes(passed=3, failed=2)
    kept_t, kept_extra = [100.0, 110.0, 100.0], [0.0, 1.0, 4.0]
    summary = summarize(kept_t)
    result.stdout.fnmatch_lines([
        "job*metric*n*mean*±95%*cv*min*max*stdev*units",
        f"varied-command*t*3*{summary.mean:.6g}*{summary.margin:.3g}*"
        f"{100 * summary.cv:.2g}%*100*110*{summary.stdev:.3g}*",
        f"unstable: varied-command t: CV {100 * summary.cv:.1f} % (above 5 %)",
        "(to steady them: more iterations*"])
    rows = {row["metric"]: row for row in csv.DictReader(
        (pytester.path / "wa_output" / "statistics.csv").open())}
    assert (rows["t"]["n"], rows["t"]["failed"]) == ("3", "2")
    assert float(rows["t"]["mean"]) == pytest.approx(summary.mean)
    assert float(rows["t"]["ci_high"]) == pytest.approx(summary.ci[1])
    assert rows["t"]["unstable"].startswith("CV ")
    assert (rows["extra"]["n"], float(rows["extra"]["mean"])) == (
        "3", pytest.approx(sum(kept_extra) / 3))
    suite = ET.parse(pytester.path / "out.xml").getroot().find("testsuite")
    assert suite is not None
    found = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert found["wa_stats:varied-command:t"].startswith(f"n=3 mean={summary.mean:.6g} ")
    assert "unstable=CV" in found["wa_stats:varied-command:t"]


def test_the_docs_worked_example(pytester: pytest.Pytester) -> None:
    """docs/statistics.md's agenda gives the table row and statistics.csv shown there."""
    text = (Path(__file__).parent.parent / "docs" / "statistics.md").read_text()
    start = text.index("<!-- run name=steady.yaml -->")
    agenda = text[text.index("```yaml\n", start) + 8:]
    pytester.makefile(".yaml", steady=agenda[:agenda.index("```")])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "steady.yaml")
    result.assert_outcomes(passed=5)
    table = text[text.index("```text\n", start) + 8:]
    for line in table[:table.index("```")].splitlines()[2:4]:
        assert line in result.stdout.str().splitlines()
    shown = text[text.index("id,label,metric"):]
    assert (pytester.path / "wa_output" / "statistics.csv").read_text() == \
        shown[:shown.index("```")]
