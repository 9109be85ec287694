"""Execution control as users meet it: orders, retries, bail options, job timeouts, Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_wa import RunOutput

# Fails on its first two runs (a counter file in the test directory), then passes.
FLAKY = """\
    config:
      augmentations: [execution_time]
    workloads:
      - id: flaky
        name: command
        params:
          command: >-
            n=$(cat {count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {count};
            echo attempt=$n; [ $n -ge {passes_at} ]
          metrics: {{attempt: {{regex: 'attempt=(\\d+)'}}}}
      - id: steady
        name: command
        params: {{command: "echo steady"}}
    """


def flaky(pytester: pytest.Pytester, passes_at: int = 3, extra: str = "") -> Path:
    count = pytester.path / "count"
    text = textwrap.dedent(FLAKY.format(count=count, passes_at=passes_at))
    pytester.makefile(".yaml", flaky=text.replace("config:\n", f"config:\n{extra}", 1))
    return pytester.path / "flaky.yaml"


def assert_outcomes(result: pytest.RunResult, **expected: int) -> None:
    """Like RunResult.assert_outcomes, with the ``rerun`` count too."""
    outcomes = result.parseoutcomes()
    assert {key: outcomes.get(key, 0) for key in expected} == expected, outcomes


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:cacheprovider", *args)


# --- retries ---

def test_a_job_that_fails_twice_then_passes_ends_ok_with_two_retries(pytester) -> None:
    flaky(pytester)
    result = run(pytester, "flaky.yaml", "-v", "--junit-xml=junit.xml")
    assert_outcomes(result, passed=2, rerun=2)
    result.stdout.fnmatch_lines(["*flaky-command[[]1[]] FAILED, RETRYING*",
                                 "*flaky-command[[]1[]] FAILED, RETRYING*",
                                 "*flaky-command[[]1[]] OK*",
                                 "*Ran a total of 2 iterations: 2 OK*"])
    output = RunOutput(pytester.path / "wa_output")
    job = output.job("flaky", 1)
    assert job.status.name == "OK" and job.retries == 2
    assert job.metric("attempt").value == 3
    assert [a.metric("attempt").value for a in output.failed_attempts(job)] == [1, 2]
    failed = pytester.path / "wa_output" / "__failed"
    assert sorted(p.name for p in failed.iterdir()) == ["flaky-command-1-attempt01",
                                                       "flaky-command-1-attempt02"]
    assert "attempt=1" in (failed / "flaky-command-1-attempt01" / "output.txt").read_text()
    state = json.loads((pytester.path / "wa_output" / ".run_state.json").read_text())
    assert {j["id"]: j["retries"] for j in state["jobs"]} == {"flaky": 2, "steady": 0}
    junit = (pytester.path / "junit.xml").read_text()
    assert junit.count("<testcase ") == 2 and "<failure" not in junit
    assert 'name="wa_retries" value="2"' in junit


def test_retries_exhausted_leave_a_failed_job(pytester) -> None:
    flaky(pytester, passes_at=10)
    result = run(pytester, "flaky.yaml", "-v", "--wa-max-retries=1")
    assert_outcomes(result, passed=1, failed=1, rerun=1)
    output = RunOutput(pytester.path / "wa_output")
    job = output.job("flaky", 1)
    assert job.status.name == "FAILED" and job.retries == 1
    assert len(output.failed_attempts(job)) == 1
    config = json.loads((pytester.path / "wa_output" / "__meta" / "config.json").read_text())
    assert config["run_config"]["max_retries"] == 1


def test_only_statuses_in_retry_on_status_are_retried(pytester) -> None:
    flaky(pytester, extra="  retry_on_status: [PARTIAL]\n")
    result = run(pytester, "flaky.yaml")
    result.assert_outcomes(passed=1, failed=1)
    assert RunOutput(pytester.path / "wa_output").job("flaky", 1).retries == 0


def test_max_retries_zero_never_retries(pytester) -> None:
    flaky(pytester, extra="  max_retries: 0\n")
    run(pytester, "flaky.yaml").assert_outcomes(passed=1, failed=1)
    assert not (pytester.path / "wa_output" / "__failed").exists()


def test_a_retried_setup_failure_does_not_skip_later_iterations(pytester) -> None:
    count = pytester.path / "count"
    pytester.makeconftest(f"""
        from pathlib import Path

        def pytest_wa_job_setup(job):
            counter = Path({str(count)!r})
            n = int(counter.read_text()) + 1 if counter.exists() else 1
            counter.write_text(str(n))
            if n == 1:
                raise RuntimeError("setup failed once")
    """)
    pytester.makefile(".yaml", agenda="workloads:\n  - {id: w, name: idle, iterations: 3,"
                                      " params: {duration: 0}}\n")
    result = run(pytester, "agenda.yaml", "-v")
    assert_outcomes(result, passed=3, rerun=1)
    assert [j.status.name for j in RunOutput(pytester.path / "wa_output").jobs] == ["OK"] * 3


# --- bail options ---

BAIL = """\
    config:
      max_retries: 0
      {setting}
    workloads:
      - {{id: a, name: command, params: {{command: "false"}}}}
      - {{id: b, name: command, params: {{command: "true"}}}}
    """


def test_bail_on_job_failure_skips_the_rest_with_the_reason(pytester) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent(BAIL.format(
        setting="bail_on_job_failure: true")))
    result = run(pytester, "agenda.yaml", "-v", "-rs")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] agenda.yaml:*: bail_on_job_failure: "
                                 "a-command[[]1[]] failed"])
    statuses = {j.id: j.status.name for j in RunOutput(pytester.path / "wa_output").jobs}
    assert statuses == {"a": "FAILED", "b": "SKIPPED"}


def test_without_bail_a_failure_does_not_stop_the_run(pytester) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent(BAIL.format(setting="")))
    run(pytester, "agenda.yaml").assert_outcomes(failed=1, passed=1)


INIT_FAILS = """
    from pytest_wa import Workload

    class Broken(Workload):
        name = "broken"
        description = "Fails to initialize."

        def initialize(self, context):
            raise RuntimeError("no such benchmark binary")
"""


@pytest.mark.parametrize(("bail", "statuses"), [
    ("true", ["FAILED", "SKIPPED", "SKIPPED", "SKIPPED"]),
    ("false", ["FAILED", "SKIPPED", "OK", "OK"]),
])
def test_bail_on_init_failure(pytester, bail: str, statuses: list[str]) -> None:
    pytester.makeconftest(INIT_FAILS + """
    def pytest_wa_register_workloads(registry):
        registry.add(Broken)
    """)
    pytester.makefile(".yaml", agenda=f"""\
        config: {{bail_on_init_failure: {bail}, execution_order: by_workload}}
        workloads:
          - {{id: x, name: broken, iterations: 2}}
          - {{id: y, name: idle, iterations: 2, params: {{duration: 0}}}}
        """)
    result = run(pytester, "agenda.yaml", "-rs")
    result.stdout.fnmatch_lines(["*no such benchmark binary*"])
    output = RunOutput(pytester.path / "wa_output")
    assert [j.status.name for j in output.jobs] == statuses


# --- job timeout ---

def test_job_timeout_kills_the_job_on_the_target_and_the_run_goes_on(pytester) -> None:
    pids = pytester.path / "pids"
    pytester.makefile(".yaml", agenda=f"""\
        config: {{job_timeout: 1, max_retries: 0}}
        workloads:
          - id: hangs
            name: command
            params: {{command: "sleep 60 & echo $! > {pids}; sleep 60"}}
          - {{id: next, name: command, params: {{command: "true"}}}}
        """)
    started = time.monotonic()
    result = run(pytester, "agenda.yaml")
    assert time.monotonic() - started < 30
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["execute: JobTimeoutError: the job ran past its job_timeout "
                                 "of 1 s; the command was killed: sleep 60 &*"])
    child = int(pids.read_text())
    time.sleep(0.3)
    assert not Path(f"/proc/{child}").exists() or \
        Path(f"/proc/{child}/stat").read_text().split(")")[1].split()[0] == "Z"


def test_job_timeout_option_overrides_and_bad_values_are_located(pytester) -> None:
    pytester.makefile(".yaml", agenda="""\
        config: {max_retries: 0}
        workloads:
          - {id: slow, name: command, params: {command: "sleep 5"}}
        """)
    result = run(pytester, "agenda.yaml", "--wa-job-timeout=0.5")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*job_timeout of 0.5 s*"])
    pytester.makefile(".yaml", bad="config: {job_timeout: -3}\nworkloads: [idle]\n")
    result = run(pytester, "--co", "bad.yaml")
    result.stdout.fnmatch_lines(["*bad.yaml:1: config.job_timeout: must be a number of "
                                 "seconds above 0, got -3"])


# --- Ctrl-C ---

def test_a_second_ctrl_c_stops_at_once_and_keeps_finished_results(pytester) -> None:
    started = pytester.path / "started"
    pytester.makeconftest("""
        import time

        def pytest_wa_job_teardown(job):
            if job.spec.id == "during":
                time.sleep(60)  # a slow cleanup the user does not want to wait for
    """)
    pytester.makefile(".yaml", agenda=f"""\
        workloads:
          - {{id: before, name: command, params: {{command: "echo m=7",
              metrics: {{m: {{regex: 'm=(\\d+)'}}}}}}}}
          - {{id: during, name: command, params: {{command: "touch {started}; sleep 60"}}}}
          - {{id: after, name: command, params: {{command: "true"}}}}
        """)
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                "agenda.yaml"], cwd=pytester.path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not started.exists():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)  # the job is aborted; teardown starts (and hangs)
    time.sleep(1.0)
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    second = time.monotonic()
    output_text, _ = process.communicate(timeout=30)
    assert time.monotonic() - second < 5, output_text
    assert process.returncode == pytest.ExitCode.INTERRUPTED
    output = RunOutput(pytester.path / "wa_output")
    statuses = {j.id: j.status.name for j in output.jobs}
    assert statuses == {"before": "OK", "during": "ABORTED", "after": "SKIPPED"}
    assert output.job("before", 1).metric("m").value == 7


# --- execution order ---

ORDERS = """\
    config: {{execution_order: {order}}}
    sections:
      - {{id: X, group: g}}
      - {{id: Y, group: g}}
    workloads:
      - {{id: A, name: idle, iterations: 2, params: {{duration: 0}}}}
      - {{id: B, name: idle, iterations: 3, params: {{duration: 0}}}}
    """


@pytest.mark.parametrize(("order", "expected"), [
    ("by_iteration", "X-A1 Y-A1 X-B1 Y-B1 X-A2 Y-A2 X-B2 Y-B2 X-B3 Y-B3"),
    ("by_section", "X-A1 X-B1 Y-A1 Y-B1 X-A2 X-B2 Y-A2 Y-B2 X-B3 Y-B3"),
    ("by_workload", "X-A1 X-A2 X-B1 X-B2 X-B3 Y-A1 Y-A2 Y-B1 Y-B2 Y-B3"),
    ("by_spec", "X-A1 X-A2 X-B1 X-B2 X-B3 Y-A1 Y-A2 Y-B1 Y-B2 Y-B3"),
    ("classic", "X-A1 X-A2 X-B1 X-B2 X-B3 Y-A1 Y-A2 Y-B1 Y-B2 Y-B3"),
])
def test_every_order_with_groups_and_unequal_iterations(pytester, order, expected) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent(ORDERS.format(order=order)))
    result = run(pytester, "agenda.yaml", "-v")
    result.assert_outcomes(passed=10)
    ran = [line.split("::")[1].split()[0] for line in result.outlines
           if line.startswith("agenda.yaml::")]
    assert " ".join(name.replace("-idle[", "").rstrip("]") for name in ran) == expected


def test_section_workloads_follow_the_order_too(pytester) -> None:
    pytester.makefile(".yaml", agenda="""\
        config: {execution_order: by_section}
        sections:
          - id: X
            workloads: [{id: S, name: idle, params: {duration: 0}}]
          - {id: Y}
        workloads:
          - {id: A, name: idle, iterations: 2, params: {duration: 0}}
        """)
    result = run(pytester, "--co", "-q", "agenda.yaml")
    assert [line.split("::")[1] for line in result.outlines if "::" in line] == [
        "X-A-idle[1]", "X-S-idle[1]", "Y-A-idle[1]", "X-A-idle[2]", "Y-A-idle[2]"]


def test_a_refused_run_leaves_the_previous_output_alone(pytester) -> None:
    pytester.makefile(".yaml", agenda="workloads:\n  - {name: idle, params: {duration: 0}}\n")
    run(pytester, "agenda.yaml").assert_outcomes(passed=1)
    before = sorted(p.name for p in pytester.path.iterdir())
    result = run(pytester, "agenda.yaml", "--wa-reboot-policy=each_iteration")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-wa: --wa-reboot-policy: *"])
    assert sorted(p.name for p in pytester.path.iterdir()) == before  # nothing moved aside
    assert RunOutput(pytester.path / "wa_output").status.name == "OK"
