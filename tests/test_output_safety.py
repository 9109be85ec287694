"""Nothing finished is lost: real runs interrupted with SIGINT, killed with SIGKILL, resumed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import pytest_wa

# Three quick jobs, then one that waits for a long time: the run is stopped while
# the fourth job runs, after the first three finished.
AGENDA = """
    workloads:
      - id: quick
        name: command
        iterations: 3
        params:
          command: "echo speed=4$(date +%N | cut -c1)"
          metrics: {{speed: 'speed=(\\d+)'}}
      - id: slow
        name: command
        params: {{command: "echo $$ > {flag}; exec sleep 60"}}
      - id: never
        name: command
        params: {{command: "true"}}
"""


# Two quick jobs, then one whose first attempt fails (with a metric) and whose
# retry waits for a long time: the run is stopped during the retry.
RETRIED_AGENDA = """
    config: {{max_retries: 1}}
    workloads:
      - id: quick
        name: command
        iterations: 2
        params:
          command: "echo speed=42"
          metrics: {{speed: 'speed=(\\d+)'}}
      - id: flaky
        name: command
        params:
          command: >-
            n=$(cat {count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {count};
            echo attempt=$n; [ $n -ge 2 ] || exit 1; echo $$ > {flag}; exec sleep 60
          metrics: {{attempt: 'attempt=(\\d+)'}}
"""


def start_run(pytester: pytest.Pytester, *args: str, agenda: str = AGENDA
              ) -> tuple[subprocess.Popen, Path]:
    flag = pytester.path / "slow-started"
    text = agenda.format(flag=flag, count=pytester.path / "count")
    pytester.makefile(".yaml", agenda=textwrap.dedent(text))
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--wa-order",
         "by_workload", *args], cwd=pytester.path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not (flag.exists() and flag.read_text().strip()):
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, "the slow job never started"
        time.sleep(0.05)
    return process, pytester.path / "wa_output"


def assert_quick_jobs_kept(run: pytest_wa.RunOutput) -> None:
    quick = [job for job in run.jobs if job.id == "quick"]
    assert [job.iteration for job in quick] == [1, 2, 3]
    for job in quick:
        assert job.status == pytest_wa.JobStatus.OK
        assert 40 <= job.metric("speed").value <= 49
        assert (job.path / "result.json").is_file()


def test_sigint_keeps_finished_jobs_and_records_the_rest(pytester: pytest.Pytester) -> None:
    process, output = start_run(pytester)
    process.send_signal(signal.SIGINT)
    text = process.communicate(timeout=60)[0]
    assert process.returncode == pytest.ExitCode.INTERRUPTED, text
    run = pytest_wa.RunOutput(output)
    assert_quick_jobs_kept(run)
    assert run.job("slow", 1).status == pytest_wa.JobStatus.ABORTED
    assert run.job("never", 1).status == pytest_wa.JobStatus.SKIPPED
    assert run.status == pytest_wa.JobStatus.PARTIAL
    assert run.run_info.end_time is not None
    assert "slow" in (output / "status.txt").read_text()
    assert f"results in {output}" in text


def kill_hard(process: subprocess.Popen, pytester: pytest.Pytester) -> None:
    """SIGKILL pytest; its command (in its own session) is an orphan we clean up."""
    process.kill()
    process.communicate(timeout=60)
    with contextlib.suppress(ProcessLookupError):
        os.kill(int((pytester.path / "slow-started").read_text()), signal.SIGKILL)


def test_sigkill_mid_job_leaves_every_finished_job_loadable(pytester: pytest.Pytester) -> None:
    process, output = start_run(pytester)
    kill_hard(process, pytester)
    run = pytest_wa.RunOutput(output)
    assert_quick_jobs_kept(run)
    assert run.job("slow", 1).status == pytest_wa.JobStatus.RUNNING
    assert run.job("never", 1).status == pytest_wa.JobStatus.NEW
    for name in (".run_state.json", "result.json", "__meta/run_info.json", "__meta/jobs.json"):
        json.loads((output / name).read_text())  # whole, valid JSON
    rows = (output / "results.csv").read_text().splitlines()
    assert len([row for row in rows if row.startswith("quick,")]) == 3
    assert not list(output.rglob(".*.tmp"))


def test_sigkill_during_a_retry_leaves_no_rows_of_the_attempt_it_replaces(
        pytester: pytest.Pytester) -> None:
    """results.csv lists final attempts only, and stays true to the run at any moment:
    the retried attempt's rows left it when the retry started; finished jobs' stay."""
    process, output = start_run(pytester, agenda=RETRIED_AGENDA)
    kill_hard(process, pytester)
    run = pytest_wa.RunOutput(output)
    flaky = run.job("flaky", 1)
    assert flaky.status == pytest_wa.JobStatus.RUNNING and flaky.retries == 1
    assert [a.metric("attempt").value for a in run.failed_attempts(flaky)] == [1]
    assert (output / "results.csv").read_bytes() == (
        b"id,workload,iteration,metric,value,units\r\n"
        b"quick,command,1,speed,42,\r\nquick,command,2,speed,42,\r\n")
    assert not list(output.rglob(".*.tmp"))


def test_resume_runs_only_what_did_not_finish(pytester: pytest.Pytester) -> None:
    process, output = start_run(pytester)
    kill_hard(process, pytester)
    first = pytest_wa.RunOutput(output)
    (pytester.path / "slow-started").unlink()
    pytester.makefile(".yaml", agenda=textwrap.dedent(AGENDA.format(flag="/dev/null"))
                      .replace("exec sleep 60", "true"))
    result = pytester.runpytest("--wa-resume", "wa_output", "--wa-order", "by_workload", "-v")
    result.assert_outcomes(passed=2, deselected=3)
    result.stdout.fnmatch_lines(["*--wa-resume: 3 job(s) already finished OK, not rerun*"])
    run = pytest_wa.RunOutput(output)
    assert run.run_info.uuid == first.run_info.uuid
    assert [(j.id, j.iteration, j.status.name) for j in run.jobs] == [
        ("quick", 1, "OK"), ("quick", 2, "OK"), ("quick", 3, "OK"), ("slow", 1, "OK"),
        ("never", 1, "OK")]
    assert [j.metric("speed").value for j in run.jobs[:3]] == \
        [j.metric("speed").value for j in first.jobs[:3]]
    slow = run.job("slow", 1)
    assert slow.retries == 1
    assert [attempt.attempt for attempt in run.failed_attempts(slow)] == [1]
    assert run.status == pytest_wa.JobStatus.OK
    assert not (pytester.path / "wa_output-").exists()
    assert sorted(p.name for p in pytester.path.iterdir() if p.name.startswith("wa_output")) \
        == ["wa_output"]


def test_resume_of_something_that_is_not_a_run_is_a_usage_error(pytester: pytest.Pytester
                                                                ) -> None:
    pytester.makefile(".yaml", agenda="workloads: [{name: idle, params: {duration: 0}}]\n")
    os.mkdir(pytester.path / "empty")
    result = pytester.runpytest("--wa-resume", "empty")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--wa-resume *empty: *"])
