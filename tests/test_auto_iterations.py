"""``iterations: auto``: a spec runs until its metrics are steady, as users meet it.

A workload registered in each test's conftest reports the metric ``t`` from a
list (one value per iteration, the list repeated), so a metric is as steady
or as noisy as the test says; it fails the iterations listed in ``fail_at``
(while the file ``broken`` exists). Each test runs pytest on a real agenda and
checks the items, the terminal's verdict, junit-xml and the run directory.
"""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from test_agenda_errors import agenda_line, assert_clean_collection_error, run_bad_agenda
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa import RunOutput
from pytest_wa.stats.stability import MAX_ITERATIONS, STABLE, judge, metric_cv, percent

CONFTEST = """
    from pathlib import Path

    from pytest_wa import Parameter, Workload


    class Series(Workload):
        name = "series"
        description = "Reports t from a list, one value per iteration."
        parameters = [Parameter("values", list, default=[]),
                      Parameter("fail_at", list, default=[])]

        def run(self, context):
            if context.iteration in self.fail_at and Path("broken").exists():
                raise RuntimeError("the rig was not ready")
            if self.values:
                value = self.values[(context.iteration - 1) % len(self.values)]
                context.add_metric("t", value, "ms")


    def pytest_wa_register_workloads(registry):
        registry.add(Series)


    def pytest_wa_spec_start(job):
        with open("spec_hooks.log", "a") as log:
            log.write(f"start {job.spec.id}\\n")


    def pytest_wa_spec_end(job):
        with open("spec_hooks.log", "a") as log:
            log.write(f"end {job.spec.id}\\n")
"""

LAB = "devices:\n  a: {kind: local}\n  b: {kind: local}\n"
STEADY = "[100, 101, 100, 99, 100]"  # cv 0.58 % over the first three
NOISY = "[100, 130, 80, 120, 90]"


def write(pytester: pytest.Pytester, agenda: str, broken: bool = False) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    if broken:
        (pytester.path / "broken").touch()


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly",
                                         "agenda.yaml", *args)


def ran(output: Path) -> Counter[str]:
    """How many iterations of each job id the run lists, each with its directory."""
    jobs = json.loads((output / ".run_state.json").read_text())["jobs"]
    for job in jobs:
        assert (output / f"{job['id']}-{job['label']}-{job['iteration']}").is_dir(), job
    return Counter(job["id"] for job in jobs)


def verdicts(output: Path) -> dict[tuple[str, str], dict[str, Any]]:
    records = json.loads((output / "result.json").read_text())["metadata"]["auto_iterations"]
    return {(record["job"], record["device"]): record for record in records}


def test_a_steady_metric_stops_at_min_iterations(pytester, subtests) -> None:
    write(pytester, f"""
        config: {{iterations: auto, target_cv: 2%}}
        workloads:
          - {{id: steady, name: series, params: {{values: {STEADY}}}}}
        """)
    result = run(pytester, "-rs", "--junit-xml=out.xml")
    result.assert_outcomes(passed=3, skipped=7)
    cv = percent(metric_cv([100, 101, 100]) or 0)
    verdict = f"stable after 3 iterations (cv {cv} ≤ 2 %, t)"
    result.stdout.fnmatch_lines([
        f"pytest-wa: iterations: auto: steady-series: {verdict}; 7 not needed",
        "Ran a total of 3 iterations: 3 OK",
        f"SKIPPED [[]7[]] agenda.yaml:*: not needed: steady-series {verdict}"])
    cases = {case.get("name"): case for case in ET.parse(pytester.path / "out.xml").iter(
        "testcase")}
    assert len(cases) == 10
    properties = {p.get("name"): p.get("value") for p in cases["steady-series[3]"].iter(
        "property")}
    assert properties["wa_auto_verdict"] == verdict
    assert properties["wa_auto"] == "target_cv=2% min_iterations=3 max_iterations=10"
    skipped = cases["steady-series[4]"].find("skipped")
    assert skipped is not None and verdict in skipped.get("message", "")

    output = pytester.path / "wa_output"
    assert ran(output) == {"steady": 3}  # the rest never ran, and is not listed
    run_output = RunOutput(output)
    assert run_output.status.name == "OK"
    record = verdicts(output)[("steady", "local")]
    assert (record["stopped"], record["iterations"], record["metric"]) == (STABLE, 3, "t")
    assert record["cv"] == pytest.approx(metric_cv([100, 101, 100]))
    assert f"iterations: auto: steady-series: {verdict}" in [e.message for e in
                                                            run_output.events]
    specs = json.loads((output / "__meta" / "jobs.json").read_text())["jobs"]
    assert specs[0]["iterations"] == 10  # WA3's JobSpec: a number (max_iterations)
    check_wa3_reads_the_same(subtests, output)



#: s is 100, 101, 100, 101...; n is 100, 130, 160, 100...: only s is steady.
TWO_METRICS = """
    config: {{iterations: auto, target_cv: 2%, max_iterations: 6{extra}}}
    workloads:
      - id: two
        name: command
        params:
          command: "i=$(cat two.count 2>/dev/null || echo 0); echo $((i + 1)) > two.count;
            echo s=$((100 + i % 2)) n=$((100 + 30 * (i % 3)))"
          metrics: {{s: 's=(\\d+)', n: 'n=(\\d+)'}}
    """


@pytest.mark.parametrize(("extra", "outcomes", "verdict"), [
    ("", {"passed": 6}, "reached max_iterations (6) with cv * > 2 % (n)"),
    (", target_metrics: [s]", {"passed": 3, "skipped": 3},
     "stable after 3 iterations (cv 0.58 % ≤ 2 %, s)"),
    (", target_metrics: S*", {"passed": 3, "skipped": 3},
     "none of its metrics is in target_metrics (S*; it reported n, s): stopped after 3 "
     "iterations"),
], ids=["every-metric", "the-named-one", "a-name-that-matches-none"])
def test_target_metrics_choose_what_decides(pytester, extra, outcomes, verdict) -> None:
    write(pytester, TWO_METRICS.format(extra=extra))
    result = run(pytester)
    result.assert_outcomes(**outcomes)
    result.stdout.fnmatch_lines([f"pytest-wa: iterations: auto: two-command: {verdict}*"])

def test_a_noisy_metric_runs_to_max_iterations_and_says_so(pytester) -> None:
    write(pytester, f"""
        workloads:
          - id: noisy
            name: series
            iterations: auto
            target_cv: 2 %
            max_iterations: 5
            params: {{values: {NOISY}}}
        """)
    result = run(pytester)
    result.assert_outcomes(passed=5)
    cv = percent(metric_cv([100, 130, 80, 120, 90]) or 0)
    verdict = f"reached max_iterations (5) with cv {cv} > 2 % (t)"
    result.stdout.fnmatch_lines([f"pytest-wa: iterations: auto: noisy-series: {verdict}"])
    output = pytester.path / "wa_output"
    assert ran(output) == {"noisy": 5}
    assert verdicts(output)[("noisy", "local")]["stopped"] == MAX_ITERATIONS
    assert f"iterations: auto: noisy-series: {verdict}" in (output / "status.txt").read_text()


def test_zero_variance_zeros_and_no_metrics(pytester) -> None:
    """Identical values are stable (cv 0, even all zeros); a spec with no metric has
    nothing to wait for; a metric spread around a mean of 0 has no known cv."""
    write(pytester, """
        config: {iterations: auto, max_iterations: 4}
        workloads:
          - {id: flat, name: series, params: {values: [42]}}
          - {id: zero, name: series, params: {values: [0]}}
          - {id: none, name: series}
          - {id: around, name: series, params: {values: [-1, 1]}}
        """)
    result = run(pytester)
    result.assert_outcomes(passed=13, skipped=3)
    result.stdout.fnmatch_lines_random([
        "*auto: flat-series: stable after 3 iterations (cv 0 % ≤ 3 %, t); 1 not needed",
        "*auto: zero-series: stable after 3 iterations (cv 0 % ≤ 3 %, t); 1 not needed",
        "*auto: none-series: no metrics to judge: stopped after 3 iterations; 1 not needed",
        "*auto: around-series: reached max_iterations (4) and the cv of t unknown*"])
    assert ran(pytester.path / "wa_output") == {"flat": 3, "zero": 3, "none": 3, "around": 4}


def test_failed_iterations_are_not_counted(pytester) -> None:
    """A failed iteration's numbers are left out; it counts against max_iterations."""
    write(pytester, f"""
        config: {{iterations: auto, max_retries: 0, max_iterations: 4}}
        workloads:
          - {{id: flaky, name: series, params: {{values: {STEADY}, fail_at: [2]}}}}
          - {{id: broken, name: series, params: {{values: {STEADY}, fail_at: [1, 2, 3, 4]}}}}
        """, broken=True)
    result = run(pytester)
    result.assert_outcomes(passed=3, failed=5)
    result.stdout.fnmatch_lines_random([
        "*auto: flaky-series: stable after 3 OK iterations of 4 (cv * ≤ 3 %, t)",
        "*auto: broken-series: reached max_iterations (4) with no OK iteration"])
    output = pytester.path / "wa_output"
    assert ran(output) == {"flaky": 4, "broken": 4}
    assert RunOutput(output).status.name == "PARTIAL"


@pytest.mark.parametrize("order", ["by_iteration", "by_workload", "random"])
def test_every_execution_order(pytester, order: str) -> None:
    """Each spec is judged on its own iterations whatever runs between them; its
    spec_start and spec_end still pair up when its last iterations are not needed."""
    write(pytester, f"""
        config: {{iterations: auto, target_cv: 2%, execution_order: {order}}}
        sections:
          - id: s1
          - id: s2
        workloads:
          - {{id: steady, name: series, params: {{values: {STEADY}}}}}
          - {{id: noisy, name: series, max_iterations: 5, params: {{values: {NOISY}}}}}
        """)
    result = run(pytester, "--wa-seed=7")
    result.assert_outcomes(passed=16, skipped=14)
    for job in ("s1-steady", "s2-steady"):
        result.stdout.fnmatch_lines([f"*auto: {job}-series: stable after 3 iterations*"])
    output = pytester.path / "wa_output"
    assert ran(output) == {"s1-steady": 3, "s2-steady": 3, "s1-noisy": 5, "s2-noisy": 5}
    open_specs: set[str] = set()
    for line in (pytester.path / "spec_hooks.log").read_text().splitlines():
        event, spec = line.split()
        assert (spec in open_specs) == (event == "end"), line
        (open_specs.add if event == "start" else open_specs.discard)(spec)
    assert not open_specs


def test_resume_runs_only_the_iterations_still_needed(pytester, subtests) -> None:
    """A run stopped at its first failure (-x) is resumed: the iteration that passed
    before counts, two more make the spec stable, and the rest never run."""
    write(pytester, f"""
        config: {{iterations: auto, max_retries: 0}}
        workloads:
          - {{id: steady, name: series, params: {{values: {STEADY}, fail_at: [2]}}}}
        """, broken=True)
    first = run(pytester, "-x")
    first.assert_outcomes(passed=1, failed=1)
    (pytester.path / "broken").unlink()
    result = run(pytester, "--wa-resume=wa_output")
    result.assert_outcomes(passed=2, skipped=7)
    result.stdout.fnmatch_lines(["*auto: steady-series: stable after 3 iterations*; "
                                 "7 not needed"])
    output = pytester.path / "wa_output"
    assert ran(output) == {"steady": 3}
    assert RunOutput(output).status.name == "OK"
    check_wa3_reads_the_same(subtests, output)
    again = run(pytester, "--wa-resume=wa_output")
    again.assert_outcomes(skipped=7)  # still not needed: nothing runs
    assert ran(output) == {"steady": 3}


def test_a_matrix_judges_each_device_on_its_own(pytester) -> None:
    pytest.importorskip("xdist")
    write(pytester, f"""
        config: {{iterations: auto, max_iterations: 6}}
        workloads:
          - {{id: steady, name: series, params: {{values: {STEADY}}}}}
        """)
    pytester.makefile(".yaml", lab=LAB)
    result = run(pytester, "-n", "2", "--wa-config=lab.yaml", "--wa-device=a,b",
                 "--wa-matrix")
    result.assert_outcomes(passed=6, skipped=6)
    result.stdout.fnmatch_lines_random(["*auto: a.steady-series: stable after 3 iterations*",
                                        "*auto: b.steady-series: stable after 3 iterations*"])
    output = pytester.path / "wa_output"
    assert ran(output) == {"a.steady": 3, "b.steady": 3}
    assert set(verdicts(output)) == {("a.steady", "a"), ("b.steady", "b")}
    assert RunOutput(output).status.name == "OK"


def test_a_pool_that_shares_jobs_judges_on_each_device(pytester, subtests) -> None:
    """Iterations dealt out to two devices: each judges those it ran, says so in a
    warning, and the run lists exactly the iterations that ran."""
    pytest.importorskip("xdist")
    write(pytester, f"""
        config: {{iterations: auto}}
        workloads:
          - {{id: steady, name: series, params: {{values: {STEADY}}}}}
        """)
    pytester.makefile(".yaml", lab=LAB)
    result = run(pytester, "-n", "2", "--wa-config=lab.yaml", "--wa-device=a,b")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("skipped", 0) == 10
    assert 3 <= outcomes["passed"] <= 6, outcomes  # at least one device got three
    result.stdout.fnmatch_lines(["*iterations: auto in a pool that shares jobs out: each "
                                 "device judges the iterations it ran*"])
    output = pytester.path / "wa_output"
    assert ran(output) == {"steady": outcomes["passed"]}
    records = verdicts(output)
    assert STABLE in {record["stopped"] for record in records.values()}
    assert sum(record["iterations"] for record in records.values()) == outcomes["passed"]
    assert RunOutput(output).status.name == "OK"
    check_wa3_reads_the_same(subtests, output)


def test_bad_auto_settings_are_located(pytester) -> None:
    result = run_bad_agenda(pytester, """
        config:
          iterations: auto
          target_cv: 0.02
        sections:
          - {id: s1, min_iterations: 1}
        workloads:
          - {id: a, name: idle, iterations: atuo}
          - {id: b, name: idle, target_cv: 0%}
          - {id: c, name: idle, target_cv: fast}
          - {id: d, name: idle, iterations: 4, max_iterations: 8}
          - {id: e, name: idle, min_iterations: 6, max_iterations: 5}
          - {id: f, name: idle, max_iterations: 2}
          - {id: g, name: idle, target_metrics: []}
    """)
    assert_clean_collection_error(
        result, pytester,
        agenda_line(3, "config.target_cv", "0.02 is ambiguous: write 2% for 2 percent, or "
                                           "0.02% if you mean 0.02 percent"),
        agenda_line(5, "sections[0].min_iterations", "must be at least 2 (a coefficient of "
                                                     "variation needs two values), got 1"),
        agenda_line(7, "workloads[0].iterations", "expected an integer or 'auto', got "
                                                  "'atuo' (string). Did you mean 'auto'?"),
        agenda_line(8, "workloads[1].target_cv", "must be a percentage above 0, got '0%'"),
        agenda_line(9, "workloads[2].target_cv", "expected a percentage such as 2%, got "
                                                 "'fast'"),
        agenda_line(10, "workloads[3].max_iterations", "applies only to 'iterations: auto'; "
                                                       "this job runs 4 iteration(s)"),
        agenda_line(11, "workloads[4].max_iterations", "min_iterations (6) is above "
                                                       "max_iterations (5)"),
        agenda_line(13, "workloads[6].target_metrics", "expected a metric name or a list "
                                                       "of them (patterns such as 'time*' "
                                                       "too), got []"))
    result = run_bad_agenda(pytester, """
        config: {iterations: auto}
        workloads:
          - {id: f, name: idle, max_iterations: 2}
    """)
    assert_clean_collection_error(result, pytester, agenda_line(
        3, "workloads[0].max_iterations",
        "min_iterations (3, the default) is above max_iterations (2)"))


def test_the_rule_by_hand() -> None:
    """judge's edges: fewer OK iterations than min_iterations, a cv on the target."""
    assert judge({"t": [1.0, 1.0]}, ok=2, ran=2, target_cv=0.03, min_iterations=3,
                 max_iterations=5) is None
    on_target = [97.0, 100.0, 103.0]  # cv exactly 3 %
    verdict = judge({"t": on_target}, ok=3, ran=3, target_cv=0.03, min_iterations=3,
                    max_iterations=5)
    assert verdict is not None and verdict.stopped == STABLE
    short = judge({"t": [1.0, 1.0]}, ok=2, ran=5, target_cv=0.03, min_iterations=3,
                  max_iterations=5)
    assert short is not None and short.message == (
        "reached max_iterations (5) with 2 OK iteration(s), fewer than min_iterations (3)")
    assert metric_cv([5.0]) is None and metric_cv([-1.0, 1.0]) is None
