"""dhrystone as users meet it: pytest-wa's own program built and run on this host, WA3's
metric names, a duration that reports a real rate, CPU pinning, located mistakes,
the job limits, and the parser on recorded outputs."""

from __future__ import annotations

import pytest
from test_workload_resources import (
    DATA,
    assert_ctrl_c_kills,
    assert_job_timeout_kills,
    metrics,
    run,
    session_cache,
    use_workloads,
)

from pytest_wa import RunOutput
from pytest_wa.workloads.dhrystone import parse_dhrystone
from pytest_wa.workloads.tool import Reading


@pytest.fixture
def lab(pytester, monkeypatch, tmp_path_factory) -> pytest.Pytester:
    use_workloads(pytester, monkeypatch, session_cache(tmp_path_factory))
    return pytester


def test_threads_report_wa3_metrics(lab) -> None:
    lab.makefile(".yaml", agenda="workloads:\n  - {name: dhrystone, params: "
                                 "{mloops: 4, threads: 2}}\n")
    run(lab, "agenda.yaml").assert_outcomes(passed=1)
    job = RunOutput(lab.path / "wa_output").jobs[0]
    found = metrics(job)
    assert set(found) == {"thread 0 score", "thread 1 score", "thread 0 DMIPS",
                          "thread 1 DMIPS", "time", "total DMIPS", "total score"}
    for thread in (0, 1):
        score, units, lower = found[f"thread {thread} score"]
        assert isinstance(score, int) and score > 0 and units is None and not lower
        assert found[f"thread {thread} DMIPS"][0] == pytest.approx(score / 1757, abs=1)
    assert found["total score"][0] == found["thread 0 score"][0] + found["thread 1 score"][0]
    assert found["total DMIPS"][0] == found["thread 0 DMIPS"][0] + found["thread 1 DMIPS"][0]
    run_time, units, lower = found["time"]
    assert 0 < run_time < 30 and units == "seconds" and lower
    raw = job.artifact_path("dhrystone_output").read_text()
    assert "for 2000000 passes" in raw and "Total dhrystone run time" in raw


def test_a_duration_runs_until_the_time_is_up_and_reports_the_rate(lab) -> None:
    """WA3's program prints no score for a duration (its totals are 0); ours does."""
    lab.makefile(".yaml", agenda="workloads:\n  - {name: dhrystone, params: "
                                 "{duration: 1, threads: 1}}\n")
    run(lab, "agenda.yaml").assert_outcomes(passed=1)
    job = RunOutput(lab.path / "wa_output").jobs[0]
    assert 1.0 <= job.metric("time").value < 10
    assert job.metric("total DMIPS").value == job.metric("thread 0 DMIPS").value > 0


def test_cpus_and_its_alias_pin_the_program_with_taskset(lab) -> None:
    lab.makefile(".yaml", agenda="""\
        workloads:
          - {id: listed, name: dhrystone, params: {mloops: 1, threads: 1, cpus: [0]}}
          - {id: masked, name: dhrystone, params: {mloops: 1, threads: 1, taskset_mask: 0x1}}
          - {id: free, name: dhrystone, params: {mloops: 1, threads: 1}}
        """)
    run(lab, "agenda.yaml").assert_outcomes(passed=3)
    output = RunOutput(lab.path / "wa_output")
    commands = {job.id: (job.path / "output.txt").read_text().splitlines()[0]
                for job in output.jobs}
    assert commands["listed"].startswith("$ taskset 0x1 ")
    assert commands["masked"].startswith("$ taskset 0x1 ")
    assert "taskset" not in commands["free"]


def test_mistakes_are_located_at_collection(lab) -> None:
    lab.makefile(".yaml", agenda="""\
        workloads:
          - {name: dhrystone, params: {mloops: 1, duration: 1}}
          - {name: dhrystone, params: {threads: 0}}
          - {name: dhrystone, params: {cpus: "zero"}}
        """)
    result = run(lab, "--co", "agenda.yaml")
    result.stdout.fnmatch_lines([
        "*agenda.yaml:2: workloads[[]0[]]: workload 'dhrystone': give mloops or duration, "
        "not both",
        "*agenda.yaml:3: workloads[[]1[]]: workload 'dhrystone': threads must be 1 or more, "
        "got 0",
        "*agenda.yaml:4: workloads[[]2[]].params.cpus: workload 'dhrystone': *expected a "
        "hexadecimal mask such as 0x0f or CPU numbers and ranges such as 0-3,6*"])


def test_job_timeout_leaves_no_dhrystone_running(lab) -> None:
    lab.makefile(".yaml", agenda="workloads:\n  - {name: dhrystone, params: "
                                 "{duration: 41, threads: 2}}\n")
    assert_job_timeout_kills(lab, "dhrystone.* -r 41 -t 2")


def test_ctrl_c_leaves_no_dhrystone_running(lab) -> None:
    lab.makefile(".yaml", agenda="workloads:\n  - {name: dhrystone, params: "
                                 "{duration: 43, threads: 2}}\n")
    assert_ctrl_c_kills(lab, "dhrystone.* -r 43 -t 2")


def test_wa_show_documents_it(lab) -> None:
    result = run(lab, "--wa-show", "dhrystone")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "dhrystone (workload)", "*Dhrystone 2.1*", "parameters:",
        "  duration (integer, default: 0)", "  mloops (integer, default: 0)",
        "  threads (integer, default: 4)", "  delay (integer, default: 0)",
        "  cpus (cpu mask, default: 0)", "*Alias: taskset_mask.",
        "  uninstall (boolean, default: False)", "  binary (string, default: None)"])


# --- the parser, on outputs recorded here ------------------------------------------

def test_parser_reads_pytest_was_program() -> None:
    readings = parse_dhrystone((DATA / "dhrystone-pytest-wa-2threads.txt").read_text())
    assert readings == [
        Reading("thread 0 score", 41775117), Reading("thread 1 score", 40439277),
        Reading("thread 0 DMIPS", 23776), Reading("thread 1 DMIPS", 23016),
        Reading("time", 0.045358, "seconds", lower_is_better=True),
        Reading("total DMIPS", 46792), Reading("total score", 82214394)]


def test_parser_reads_wa3s_program() -> None:
    readings = parse_dhrystone((DATA / "dhrystone-wa3-format-mloops.txt").read_text())
    assert readings == [
        Reading("thread 0 score", 10000000), Reading("thread 1 score", 5000000),
        Reading("thread 0 DMIPS", 5692), Reading("thread 1 DMIPS", 2846),
        Reading("time", 0.21, "seconds", lower_is_better=True),
        Reading("total DMIPS", 8538), Reading("total score", 15000000)]


def test_wa3s_program_run_for_a_duration_gives_no_results() -> None:
    """It prints no score; the job fails with "no results" instead of WA3's 0 DMIPS."""
    assert parse_dhrystone((DATA / "dhrystone-wa3-format-duration.txt").read_text()) == []
