"""Running agendas as a user does: outcomes, WA words, selection, summary, junit-xml."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET

import pytest

IDLE_TWICE = """
workloads:
  - name: idle
    iterations: 2
    params: {duration: 0}
"""


def write_agenda(pytester: pytest.Pytester, text: str, name: str = "agenda") -> None:
    pytester.makefile(".yaml", **{name: textwrap.dedent(text)})


def junit_properties(path) -> dict[str, dict[str, list[str]]]:
    """testcase name -> property name -> values."""
    cases: dict[str, dict[str, list[str]]] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props: dict[str, list[str]] = {}
        for prop in case.iter("property"):
            props.setdefault(prop.get("name", ""), []).append(prop.get("value", ""))
        cases[case.get("name", "")] = props
    return cases


def test_idle_iterations_run_ok_with_wa_words(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, IDLE_TWICE)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "agenda.yaml::wk1-idle[[]1[]] OK*",
        "agenda.yaml::wk1-idle[[]2[]] OK*",
        "*Ran a total of 2 iterations: 2 OK*",
    ])


def test_items_are_collected_in_execution_order(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, """
        config: {iterations: 2}
        sections: [{id: x}, {id: y}]
        workloads:
          - {id: a, name: idle, params: {duration: 0}}
          - {id: b, name: idle, params: {duration: 0}}
    """)
    result = pytester.runpytest("--co", "-q")
    names = [line.split("::")[1] for line in result.stdout.lines if "::" in line]
    assert names == ["x-a-idle[1]", "y-a-idle[1]", "x-b-idle[1]", "y-b-idle[1]",
                     "x-a-idle[2]", "y-a-idle[2]", "x-b-idle[2]", "y-b-idle[2]"]


def test_wa_order_option_overrides_agenda(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, """
        config: {iterations: 2, execution_order: by_iteration}
        workloads:
          - {id: a, name: idle, params: {duration: 0}}
          - {id: b, name: idle, params: {duration: 0}}
    """)
    result = pytester.runpytest("--co", "-q", "--wa-order", "by_workload")
    names = [line.split("::")[1] for line in result.stdout.lines if "::" in line]
    assert names == ["a-idle[1]", "a-idle[2]", "b-idle[1]", "b-idle[2]"]


def test_one_iteration_selected_by_node_id(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, IDLE_TWICE)
    result = pytester.runpytest("-v", "agenda.yaml::wk1-idle[2]")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*wk1-idle[[]2[]] OK*", "*Ran a total of 1 iteration: 1 OK*"])
    assert "wk1-idle[1]" not in result.stdout.str()


def test_keyword_selection_matches_workload_and_classifiers(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, """
        workloads:
          - {name: idle, params: {duration: 0}}
          - name: command
            classifiers: {kind: memory}
            params: {command: "true"}
    """)
    assert pytester.runpytest("-k", "memory").ret == 0
    pytester.runpytest("-k", "memory").assert_outcomes(passed=1, deselected=1)
    pytester.runpytest("-k", "idle").assert_outcomes(passed=1, deselected=1)


def test_metrics_classifiers_and_status_reach_junit_xml(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, """
        workloads:
          - id: calc
            name: command
            label: answer
            classifiers: {board: host}
            params:
              command: "echo result=42 things"
              metrics:
                result: {regex: 'result=(\\d+)', units: things}
    """)
    result = pytester.runpytest("--junitxml=out.xml")
    result.assert_outcomes(passed=1)
    props = junit_properties(pytester.path / "out.xml")["calc-answer[1]"]
    assert props["wa_status"] == ["OK"]
    assert props["wa_job_id"] == ["calc"]
    assert props["wa_label"] == ["answer"]
    assert props["wa_iteration"] == ["1"]
    assert props["wa_workload"] == ["command"]
    assert props["classifier:board"] == ["host"]
    assert props["metric:result"] == ["42 things"]


def test_metrics_table_summarises_iterations(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, """
        workloads:
          - id: n
            name: command
            iterations: 3
            params:
              command: "echo value=$(( $(date +%N | sed 's/^0*//') % 5 + 10 ))"
              metrics: {value: 'value=(\\d+)'}
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*pytest-wa results*", "job*metric*n*mean*min*max*stdev*",
                                 "n-command*value*3*"])


def test_collect_only_never_touches_the_target(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pathlib

        def pytest_wa_make_target(config, device):
            pathlib.Path("target-made").write_text(device)
    """)
    write_agenda(pytester, IDLE_TWICE)
    pytester.runpytest("--co").assert_outcomes()
    assert not (pytester.path / "target-made").exists()
    pytester.runpytest().assert_outcomes(passed=2)
    assert (pytester.path / "target-made").read_text() == "local"


def test_last_failed_reruns_only_the_failed_job(pytester: pytest.Pytester) -> None:
    fixed = pytester.path / "fixed"
    write_agenda(pytester, f"""
        workloads:
          - {{id: good, name: command, params: {{command: "true"}}}}
          - {{id: bad, name: command, params: {{command: "test -e {fixed}"}}}}
    """)
    pytester.runpytest("-p", "cacheprovider").assert_outcomes(passed=1, failed=1)
    fixed.write_text("")
    result = pytester.runpytest("-p", "cacheprovider", "--lf", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*bad-command[[]1[]] OK*"])
    assert "good-command" not in result.stdout.str()


def test_exitfirst_stops_after_the_first_failed_job(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, """
        workloads:
          - {name: command, iterations: 3, params: {command: "false"}}
    """)
    result = pytester.runpytest("-x")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Ran a total of 1 iteration: 1 FAILED*"])


def test_several_agendas_run_one_after_the_other(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, IDLE_TWICE, name="first")
    write_agenda(pytester, IDLE_TWICE, name="second")
    pytester.makefile(".yaml", unrelated="kind: Deployment\nspec: {replicas: 2}\n")
    result = pytester.runpytest("--co", "-q")
    nodes = [line for line in result.stdout.lines if "::" in line]
    assert nodes == ["first.yaml::wk1-idle[1]", "first.yaml::wk1-idle[2]",
                     "second.yaml::wk1-idle[1]", "second.yaml::wk1-idle[2]"]


def test_shellscript_runs_a_script_relative_to_the_agenda(pytester: pytest.Pytester) -> None:
    scripts = pytester.mkdir("scripts")
    script = scripts / "count.sh"
    script.write_text("#!/bin/sh\necho \"args=$*\"\necho count=7\n")
    write_agenda(pytester, """
        workloads:
          - name: shellscript
            params:
              script_file: scripts/count.sh
              argstring: one two
              metrics: {count: 'count=(\\d+)'}
    """)
    result = pytester.runpytest("--junitxml=out.xml")
    result.assert_outcomes(passed=1)
    props = junit_properties(pytester.path / "out.xml")["wk1-shellscript[1]"]
    assert props["metric:count"] == ["7"]


def test_shellscript_missing_script_is_a_collection_error(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, """
        workloads:
          - name: shellscript
            params: {script_file: nowhere.sh}
    """)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*agenda.yaml:2: workloads[[]0[]]: workload 'shellscript': "
                                 "script_file 'nowhere.sh' not found*"])


def test_random_order_is_reproducible_from_its_seed(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, """
        config: {execution_order: random, iterations: 3}
        workloads: [{id: a, name: idle}, {id: b, name: idle}, {id: c, name: idle}]
    """)

    def order(*args: str) -> list[str]:
        result = pytester.runpytest("--co", "-q", *args)
        return [line.split("::")[1] for line in result.stdout.lines if "::" in line]

    first = order("--wa-seed", "7")
    assert first == order("--wa-seed", "7")
    assert sorted(first) == sorted(order("--wa-seed", "8")) and len(first) == 9
    assert any(order("--wa-seed", str(seed)) != first for seed in range(8, 14))


def test_random_order_is_identical_on_every_xdist_worker(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, """
        config: {execution_order: random, iterations: 4}
        workloads: [{id: a, name: idle, params: {duration: 0}},
                    {id: b, name: idle, params: {duration: 0}}]
    """)
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=8)


def test_random_seed_is_printed_for_reuse(pytester: pytest.Pytester) -> None:
    write_agenda(pytester, "workloads: [{name: idle, params: {duration: 0}}]\n")
    result = pytester.runpytest("--wa-order", "random", "--wa-seed", "1234")
    result.stdout.fnmatch_lines(["pytest-wa: random execution order, seed 1234 (--wa-seed 1234 "
                                 "repeats it)"])
    assert "random execution order" not in pytester.runpytest().stdout.str()
