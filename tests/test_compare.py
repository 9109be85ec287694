"""``python -m pytest_wa compare``: the verdicts on synthetic data with known differences
and noise (the detection and false-alarm rates docs/statistics.md states), the edge
cases, the numbers against scipy and hand arithmetic, and the command as a user meets
it: real runs on this host, compared by directory and by uuid from a results database."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats

from pytest_wa.compare import cli
from pytest_wa.compare.runs import from_rows
from pytest_wa.compare.table import compare_runs, render
from pytest_wa.compare.verdicts import compare
from pytest_wa.output.reader import RunOutput

DOCS = Path(__file__).resolve().parent.parent / "docs" / "statistics.md"


def normal(rng: random.Random, mean: float, cv: float, n: int) -> list[float]:
    return [rng.gauss(mean, mean * cv) for _ in range(n)]


def verdicts(shift: float, cv: float, n: int, trials: int, **options: object) -> dict:
    """How often each verdict comes out over ``trials`` seeded pairs of runs."""
    counts: dict[str, int] = {}
    for seed in range(trials):
        rng = random.Random(seed)
        base, new = normal(rng, 100, cv, n), normal(rng, 100 * (1 + shift), cv, n)
        verdict = compare(base, new, **options).verdict  # type: ignore[arg-type]
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


# --- the two required properties ---------------------------------------------------------


def test_a_10_percent_regression_in_2_percent_noise_is_caught_with_5_iterations() -> None:
    slower = verdicts(0.10, 0.02, 5, 100, lower_is_better=True)
    assert slower.get("regressed", 0) >= 95, slower
    lower_score = verdicts(-0.10, 0.02, 5, 100, lower_is_better=False)
    assert lower_score.get("regressed", 0) >= 95, lower_score


def test_identical_distributions_raise_no_false_alarm() -> None:
    """docs/statistics.md: 0 of 1,000 at CV 2 %; at CV 10 %, 30 of 1,000 (3.0 %),
    bounded by alpha = 5 % since a verdict needs p < 0.05."""
    quiet = verdicts(0.0, 0.02, 5, 100)
    assert quiet.get("regressed", 0) + quiet.get("improved", 0) == 0, quiet
    noisy = verdicts(0.0, 0.10, 5, 1000)
    alarms = noisy.get("regressed", 0) + noisy.get("improved", 0)
    assert alarms <= 50, noisy
    assert noisy.get("unchanged", 0) == 0  # 10 % noise cannot show a change is under 5 %


# --- the numbers against independent computations ------------------------------------------


def test_numbers_match_scipy_and_hand_arithmetic() -> None:
    base, new = [10.0, 12.0], [14.0, 16.0]
    result = compare(base, new)
    # Welch: difference 4, standard error sqrt(2/2 + 2/2), 2 degrees of freedom.
    half = 4.302652729911275 * math.sqrt(2)
    assert result.ci == pytest.approx((4 - half, 4 + half))
    assert result.p == pytest.approx(2 / 6)  # exact: 2 of the 6 orderings are as extreme
    assert result.change == pytest.approx(100 * 4 / 11)
    assert result.verdict == "inconclusive"  # +36 %, but two values prove nothing
    rng = random.Random(7)
    base, new = normal(rng, 50, 0.05, 7), normal(rng, 53, 0.08, 9)
    result = compare(base, new)
    interval = stats.ttest_ind(new, base, equal_var=False).confidence_interval(0.95)
    assert result.ci == pytest.approx((interval.low, interval.high))
    assert result.p == pytest.approx(stats.mannwhitneyu(new, base).pvalue)
    assert (result.baseline_n, result.this_n) == (7, 9)
    assert result.this_mean == pytest.approx(sum(new) / 9)


def test_complete_separation_of_five_values_each() -> None:
    base, new = [100, 101, 102, 99, 98], [110, 111, 112, 109, 108]  # no ties: exact test
    result = compare(base, new, lower_is_better=True)
    assert result.p == pytest.approx(2 / 252)  # exact: 2 of the C(10,5) orderings
    assert result.verdict == "regressed"
    assert compare(base, new).verdict == "improved"


# --- the rule's edges -----------------------------------------------------------------------


def test_a_significant_change_under_the_threshold_is_unchanged() -> None:
    rng = random.Random(3)
    result = compare(normal(rng, 100, 0.001, 10), normal(rng, 101, 0.001, 10))
    assert result.p is not None and result.p < 0.001
    assert result.ci is not None and result.ci[0] > 0  # a real +1 % ...
    assert result.verdict == "unchanged"                # ... smaller than 5 %
    assert compare([100, 100.1, 99.9], [101, 101.1, 100.9], threshold=0.5).verdict == \
        "inconclusive"  # three values each: Mann-Whitney cannot reach p < 0.05


def test_one_iteration_has_no_interval_and_no_test() -> None:
    one = compare([100], [100.5, 100.2])
    assert (one.ci, one.p, one.verdict) == (None, None, "inconclusive")
    assert compare([7], [7]).verdict == "unchanged"
    assert compare([100], [300]).verdict == "inconclusive"


def test_zero_variance() -> None:
    same = compare([5, 5, 5], [5, 5, 5])
    assert (same.ci, same.p, same.verdict, same.change) == ((0, 0), 1.0, "unchanged", 0)
    worse = compare([5] * 5, [6] * 5, lower_is_better=True)
    assert worse.ci == (1, 1) and worse.verdict == "regressed"
    small = compare([100] * 5, [101] * 5)  # exact +1 %: under the threshold
    assert small.verdict == "unchanged"


def test_a_baseline_mean_of_zero_compares_the_absolute_difference() -> None:
    zero = compare([0, 0, 0, 0, 0], [0, 0, 0, 0, 0])
    assert zero.change is None and zero.ci_percent is None and zero.verdict == "unchanged"
    errors = compare([0] * 5, [1, 2, 1, 2, 1], lower_is_better=True)
    assert errors.change is None and errors.verdict == "regressed"
    centred = compare([-1, 1, -1, 1], [-1, 1, -1, 1.5])
    assert centred.change is None and centred.verdict == "inconclusive"


def test_a_negative_baseline_changes_relative_to_its_magnitude() -> None:
    result = compare([-100] * 5, [-90] * 5)
    assert result.change == pytest.approx(10.0)
    assert result.verdict == "improved"  # higher is better: -90 beats -100


def test_the_threshold_can_be_raised_per_metric() -> None:
    assert compare([100] * 5, [108] * 5, lower_is_better=True).verdict == "regressed"
    assert compare([100] * 5, [108] * 5, lower_is_better=True, threshold=10).verdict == \
        "unchanged"
    with pytest.raises(ValueError):
        compare([], [1])
    assert cli.thresholds(["3%", "execution_time=10%", "t = 2.5"]) == \
        (3.0, {"execution_time": 10.0, "t": 2.5})
    with pytest.raises(cli.CompareError):
        cli.thresholds(["ten"])


# --- runs as rows -------------------------------------------------------------------------


def _row(job: str, iteration: int, metric: str, value: float, status: str = "OK",
         **classifiers: str) -> dict:
    return {"job_id": job, "iteration": iteration, "metric": metric, "value": value,
            "units": "ms", "lower_is_better": True, "status": status,
            "classifiers": classifiers}


def test_rows_key_on_classifiers_and_leave_failed_iterations_out() -> None:
    base = from_rows("A", [_row("a", i, "t", 100 + i % 2, core=str(c))
                           for i in range(1, 6) for c in (0, 1)]
                     + [_row("a", i, "gone", 1) for i in range(1, 6)])
    new = from_rows("B", [_row("a", i, "t", (120 if c else 100) + i % 2, core=str(c))
                          for i in range(1, 6) for c in (0, 1)]
                    + [_row("a", 6, "t", 1e6, "FAILED", core="0"),
                       _row("a", 6, "t", 1e6, "FAILED", core="1")])
    assert new.left_out == ["job a iteration 6 (FAILED)"]
    report = compare_runs(base, new)
    assert [(row.key[2], row.comparison.verdict) for row in report.rows] == [
        ((("core", "0"),), "unchanged"), ((("core", "1"),), "regressed")]
    assert report.only_baseline == [("a", "gone", ())]
    text = render(report)
    assert "t [core=1]" in text and "only in the baseline: a/gone" in text
    assert "left out of this run (not OK): job a iteration 6 (FAILED)" in text


def test_no_scipy_is_one_line_saying_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(cli, "_has_scipy", lambda: False)
    assert cli.main(["a", "b"]) == 2
    assert capsys.readouterr().err == \
        "error: comparing runs needs scipy: pip install 'pytest-wa[stats]'\n"


# --- the command, on real runs ----------------------------------------------------------------

#: t: 5 iterations cycling through base+1, base+2, base (a counter file per run); c: constant.
AGENDA = """
config:
  run_name: {name}
  max_retries: 0
workloads:
  - id: t
    name: command
    iterations: 5
    params:
      command: 'echo . >> {name}.count; n=$(wc -l < {name}.count);
        {fail}echo t=$(({base} + n % 3)) c=7'
      metrics:
        t: {{regex: 't=(\\d+)', units: ms, lower_is_better: true}}
        c: 'c=(\\d+)'
  - id: {other}
    name: command
    params: {{command: "echo x=1", metrics: {{x: 'x=(\\d+)'}}}}
"""


def _run(where: Path, name: str, base: int, *, fail: str = "", other: str = "u") -> None:
    (where / f"{name}.yaml").write_text(AGENDA.format(name=name, base=base, fail=fail,
                                                      other=other))
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"{name}.yaml", "--wa-output", name, "--wa-db", "results.sqlite"],
                   cwd=where, capture_output=True, timeout=120, check=False)
    assert (where / name / ".run_state.json").is_file()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """base (t about 101 ms), new (about 121 ms), again (base's twin), broken (iteration
    2 of t fails; no job u, a job w instead) and lone (only a job z)."""
    where = tmp_path_factory.mktemp("runs")
    _run(where, "base", 100)
    _run(where, "new", 120)
    _run(where, "again", 100)
    _run(where, "broken", 100, fail='[ "$n" = 2 ] && exit 3; ', other="w")
    (where / "lone.yaml").write_text("workloads:\n  - id: z\n    name: command\n"
                                     "    params: {command: 'echo y=2', metrics: {y: '(\\d)'}}\n")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "lone.yaml", "--wa-output", "lone"], cwd=where, capture_output=True,
                   timeout=120, check=False)
    return where


def wa(where: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_wa", *args], cwd=where,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def _table(stdout: str) -> list[list[str]]:
    """The table's rows split on runs of two spaces (the header row first)."""
    lines = stdout.split("\n\n")[1].splitlines()
    return [[cell.strip() for cell in line.split("  ") if cell.strip()] for line in lines]


def test_a_regression_between_two_run_directories(runs: Path) -> None:
    done = wa(runs, "compare", "base", "new")
    assert done.returncode == 0, done.stderr
    rows = _table(done.stdout)
    assert rows[0] == ["job", "metric", "units", "baseline", "this run", "change",
                       "95% CI of change", "p", "verdict"]
    assert rows[1] == ["t", "c", "7", "7", "+0.0%", "[+0.0%, +0.0%]", "1.000", "unchanged"]
    # base: 101 102 100 101 102, new: 121 122 120 121 122; Welch by hand: +19.76 % ± 1.17 %
    assert rows[2] == ["t", "t", "ms", "101.2", "121.2", "+19.8%", "[+18.6%, +21.0%]",
                       "0.011", "regressed"]
    assert rows[3][:2] == ["u", "x"] and rows[3][-1] == "unchanged"
    assert "3 metrics compared: 1 regressed, 0 improved, 2 unchanged, 0 inconclusive" \
        in done.stdout
    widths = {line.index("95% CI") for line in done.stdout.splitlines() if "95% CI" in line
              and line.startswith("job")}
    assert len(widths) == 1
    failing = wa(runs, "compare", "base", "new", "--fail-on-regression")
    assert failing.returncode == 1 and failing.stdout == done.stdout
    relaxed = wa(runs, "compare", "base", "new", "--threshold", "5%",
                 "--threshold", "t=25%", "--fail-on-regression")
    assert relaxed.returncode == 0 and "unchanged (±25%)" in relaxed.stdout
    strict = wa(runs, "compare", "base", "new", "--threshold", "2")
    assert "threshold: 2% of the baseline mean" in strict.stdout
    assert "(±" not in strict.stdout  # only a per-metric threshold is shown in a row


def test_a_run_against_its_twin_is_unchanged(runs: Path) -> None:
    done = wa(runs, "compare", "base", "again", "--fail-on-regression")
    assert done.returncode == 0, done.stderr
    assert "3 metrics compared: 0 regressed, 0 improved, 3 unchanged" in done.stdout


def test_a_failed_iteration_and_a_missing_job_are_said(runs: Path) -> None:
    done = wa(runs, "compare", "base", "broken")
    assert done.returncode == 0, done.stderr
    assert "left out of this run (not OK): job t iteration 2 (FAILED)" in done.stdout
    assert "only in the baseline: u/x" in done.stdout
    assert "only in this run: w/x" in done.stdout
    t_row = next(row for row in _table(done.stdout) if row[:2] == ["t", "t"])
    assert t_row[4] == "101"  # 101 100 101 102: iteration 2's is not there


def test_errors_are_one_line_and_exit_2(runs: Path) -> None:
    for args, message in [(("base", "missing"), "error: no run directory 'missing'\n"),
                          (("base", "lone"), "error: no common jobs: base has t, u, "
                                             "lone has z\n"),
                          (("base", "new", "--db", "results.sqlite"), None),
                          (("0000", "new", "--db", "results.sqlite"),
                           "error: no run 0000 in results.sqlite\n")]:
        done = wa(runs, "compare", *args)
        if message is None:  # directories still work with --db
            assert done.returncode == 0, done.stderr
            continue
        assert (done.returncode, done.stderr) == (2, message)


def test_runs_by_uuid_from_a_results_database(runs: Path) -> None:
    uuids = [str(RunOutput(runs / name).run_info.uuid) for name in ("base", "new")]
    assert "None" not in uuids
    by_uuid = wa(runs, "compare", *uuids, PYTEST_WA_DB="results.sqlite")
    assert by_uuid.returncode == 0, by_uuid.stderr
    by_directory = wa(runs, "compare", "base", "new")
    assert by_uuid.stdout.split("\n\n")[1:] == by_directory.stdout.split("\n\n")[1:]
    assert f"baseline: {uuids[0]}" in by_uuid.stdout
    broken = RunOutput(runs / "broken").run_info.uuid
    done = wa(runs, "compare", "--db", "results.sqlite", uuids[0], str(broken))
    assert "left out of this run (not OK): job t iteration 2 (FAILED)" in done.stdout


# --- docs/statistics.md's worked example ----------------------------------------------------


def _between(text: str, start: int, opening: str) -> str:
    body = text[text.index(opening, start) + len(opening):]
    return body[:body.index("```")]


def test_docs_compare_example(tmp_path: Path) -> None:
    """The agendas and the compare command of docs/statistics.md, run as shown: the
    output is exactly what the page shows, and so is the exit status."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("<!-- compare-example -->")
    for name in ("base.yaml", "new.yaml"):
        agenda = _between(text, text.index(f"<!-- run name={name} -->", start), "```yaml\n")
        (tmp_path / name).write_text(agenda)
    commands = _between(text, start, "```sh\n").splitlines()
    for command in commands:
        assert command.startswith("pytest ")
        subprocess.run([sys.executable, "-m", *command.split()], cwd=tmp_path,
                       capture_output=True, timeout=120, check=True)
    shown = _between(text, text.index("<!-- compare-output -->"), "```text\n")
    command, _, output = shown.partition("\n")
    assert command.startswith("$ python -m pytest_wa compare ")
    done = subprocess.run([sys.executable, *command[2:].split()[1:]], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout == output
    status = text[text.index("exit status", start):].split()[2]
    assert done.returncode == int(status.rstrip(".:,")), done.stderr
