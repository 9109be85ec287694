"""WA statuses and how each maps onto a pytest outcome, driven by real workloads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# A workload defined in a conftest whose stages fail on request; every stage it
# runs is appended to stages.log so tests can check what the lifecycle did.
STAGED_WORKLOAD = """
    import pathlib
    import pytest_wa
    from pytest_wa import Parameter, Workload


    def log(text):
        with open(pathlib.Path(__file__).parent / "stages.log", "a") as handle:
            handle.write(text + "\\n")


    class Staged(Workload):
        name = "staged"
        description = "Fails in the stage it is told to."
        parameters = (Parameter("fail_in", str, default=""),
                      Parameter("interrupt", bool, default=False))

        def _stage(self, stage, context):
            log(f"{stage} {context.iteration if context else ''}".strip())
            if stage == self.fail_in:
                raise pytest_wa.WorkloadError(f"{stage} broke on purpose")

        def initialize(self, context): self._stage("initialize", context)
        def setup(self, context): self._stage("setup", context)
        def run(self, context):
            self._stage("run", context)
            if self.interrupt:
                raise KeyboardInterrupt
        def extract_results(self, context):
            self._stage("extract_results", context)
            context.add_metric("answer", 42)
        def teardown(self, context): self._stage("teardown", context)
        def finalize(self, context): self._stage("finalize", context)


    def pytest_wa_register_workloads(registry):
        registry.add(Staged)
"""


def staged(pytester: pytest.Pytester, fail_in: str = "", iterations: int = 1,
           extra: str = "") -> None:
    pytester.makeconftest(STAGED_WORKLOAD)
    pytester.makefile(".yaml", agenda=textwrap.dedent(f"""
        workloads:
          - name: staged
            iterations: {iterations}
            params: {{fail_in: "{fail_in}"{extra}}}
    """))


def stages(pytester: pytest.Pytester) -> list[str]:
    return (pytester.path / "stages.log").read_text().split("\n")[:-1]


def test_ok_runs_every_stage_in_wa_order(pytester: pytest.Pytester) -> None:
    staged(pytester, iterations=2)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    assert stages(pytester) == [
        "initialize 1", "setup 1", "run 1", "extract_results 1", "teardown 1",
        "setup 2", "run 2", "extract_results 2", "teardown 2", "finalize 1"]


def test_run_failure_is_failed_and_still_extracts_and_tears_down(
        pytester: pytest.Pytester) -> None:
    staged(pytester, fail_in="run")
    result = pytester.runpytest("-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*wk1-staged[[]1[]] FAILED*",
                                 "FAILED: wk1-staged[[]1[]] (staged, *agenda.yaml:2)",
                                 "execute: WorkloadError: run broke on purpose",
                                 "*Ran a total of 1 iteration: 1 FAILED*"])
    assert stages(pytester)[-3:] == ["extract_results 1", "teardown 1", "finalize 1"]
    assert "Traceback" not in result.stdout.str()


def test_extraction_failure_after_a_good_run_is_partial(pytester: pytest.Pytester) -> None:
    staged(pytester, fail_in="extract_results")
    result = pytester.runpytest("-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*wk1-staged[[]1[]] PARTIAL*",
                                 "*Ran a total of 1 iteration: 1 PARTIAL*"])


def test_setup_failure_is_an_error_and_skips_the_rest_of_the_spec(
        pytester: pytest.Pytester) -> None:
    staged(pytester, fail_in="setup", iterations=3)
    result = pytester.runpytest("-v", "-rs")
    result.assert_outcomes(errors=1, skipped=2)
    result.stdout.fnmatch_lines([
        "*wk1-staged[[]1[]] FAILED*",
        "*wk1-staged[[]2[]] SKIPPED*",
        "*wk1-staged[[]3[]] SKIPPED*",
        "*Ran a total of 3 iterations: 1 FAILED, 2 SKIPPED*",
        "SKIPPED [[]2[]] agenda.yaml:2: an earlier iteration of wk1 failed in setup: setup "
        "broke on purpose",
    ])
    assert "teardown 1" not in stages(pytester)  # WA3: no teardown after a failed setup


def test_initialize_failure_fails_the_spec(pytester: pytest.Pytester) -> None:
    staged(pytester, fail_in="initialize", iterations=2)
    result = pytester.runpytest("-v")
    result.assert_outcomes(errors=1, skipped=1)
    result.stdout.fnmatch_lines(["initialize: WorkloadError: initialize broke on purpose"])
    assert "setup 1" not in stages(pytester)


def test_teardown_failure_alone_is_noncritical(pytester: pytest.Pytester) -> None:
    staged(pytester, fail_in="teardown")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*wk1-staged[[]1[]] NONCRITICAL*",
                                 "*PytestWAWarning: NONCRITICAL: wk1-staged[[]1[]]*",
                                 "*teardown: WorkloadError: teardown broke on purpose*",
                                 "*Ran a total of 1 iteration: 1 NONCRITICAL*"])


def test_unexpected_exception_in_a_workload_shows_where(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        from pytest_wa import Workload

        class Buggy(Workload):
            name = "buggy"
            def run(self, context):
                return {}["missing"]

        def pytest_wa_register_workloads(registry):
            registry.add(Buggy)
    """)
    pytester.makefile(".yaml", agenda="workloads: [buggy]\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["execute: Traceback*", "*conftest.py*in run*", "KeyError*"])


def test_ctrl_c_aborts_the_job_in_flight_and_tears_it_down(pytester: pytest.Pytester) -> None:
    staged(pytester, iterations=3, extra=", interrupt: true")
    result = pytester.runpytest_subprocess("-v")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "teardown 1" in stages(pytester)
    assert "finalize 1" in stages(pytester)
    assert "setup 2" not in stages(pytester)
    result.stdout.fnmatch_lines(["*Ran a total of 1 iteration: 1 ABORTED*"])


def test_non_zero_exit_of_a_command_is_failed_with_its_output(pytester: pytest.Pytester
                                                               ) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        workloads:
          - name: command
            params: {command: "echo no space left >&2; exit 3"}
    """))
    result = pytester.runpytest("-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*wk1-command[[]1[]] FAILED*",
                                 "*command exited with code 3: echo no space left*",
                                 "no space left"])


def test_declared_metric_not_found_is_partial(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        workloads:
          - name: command
            params:
              command: "echo speed=12"
              metrics: {speed: 'speed=(\\d+)', latency: 'latency=(\\d+)'}
    """))
    result = pytester.runpytest("-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*PARTIAL*",
                                 "*declared metric(s) not found in the output: latency*"])


def test_command_timeout_is_failed(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        workloads:
          - name: command
            params: {command: "sleep 30", timeout: 0.5}
    """))
    result = pytester.runpytest("-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CommandTimeoutError: command timed out after 0.5 s and was "
                                 "killed: sleep 30*"])


def test_real_sigint_kills_the_command_and_records_abort(pytester: pytest.Pytester) -> None:
    pid_file = pytester.path / "pid"
    pytester.makefile(".yaml", agenda=textwrap.dedent(f"""
        workloads:
          - name: command
            iterations: 2
            params: {{command: "echo $$ > {pid_file}; exec sleep 60"}}
    """))
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider"],
                               cwd=pytester.path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline and process.poll() is None, "job never started"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "Ran a total of 1 iteration: 1 ABORTED" in output
    sleeper = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(sleeper, 0)
