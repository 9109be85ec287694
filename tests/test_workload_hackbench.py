"""The hackbench workload as users meet it: WA3's five metrics, ``fds`` really passed, and
no hackbench left behind on a timeout or Ctrl-C.

The outputs under tests/data/outputs/ are Debian 12's rt-tests 2.4 hackbench on an x86_64
host, unedited: ``hackbench -s 100 -g 2 -l 50 -f 10`` (and with ``-T -p``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_workload_sysbench import (
    check_ctrl_c_kills,
    check_job_timeout_kills,
    register,
    write_agenda,
)

from pytest_wa import RunOutput
from pytest_wa.workloads.hackbench import parse_hackbench

OUTPUTS = Path(__file__).resolve().parent / "data" / "outputs"


def readings(name: str) -> dict[str, tuple[float, str | None, bool]]:
    text = (OUTPUTS / name).read_text()
    return {r.name: (r.value, r.units, r.lower_is_better) for r in parse_hackbench(text)}


@pytest.mark.parametrize(("name", "seconds"), [("hackbench-rt-tests-2.4.txt", 0.025),
                                               ("hackbench-rt-tests-2.4-threads-pipe.txt", 0.011)])
def test_wa3_metrics_from_recorded_output(name: str, seconds: float) -> None:
    assert readings(name) == {
        "total_groups": (2, "groups", False),
        "total_fd": (20, "file_descriptors", False),  # hackbench prints 2 x fds per group
        "total_messages": (50, "messages", False),
        "total_bytes": (100, "bytes", False),
        "test_time": (seconds, "seconds", True),
    }


def test_runs_for_real_with_fds_passed(pytester: pytest.Pytester) -> None:
    """WA3 3.3.1 never passes fds; here fds: 5 makes hackbench use 10 descriptors a group."""
    register(pytester)
    write_agenda(pytester, """
        workloads:
          - {id: hb, name: hackbench, params: {groups: 2, loops: 50, fds: 5, duration: 5}}
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("hb", 1)
    assert {m.name: m.value for m in job.metrics if m.name != "test_time"} == {
        "total_groups": 2, "total_fd": 10, "total_messages": 50, "total_bytes": 100}
    time = job.metric("test_time")
    assert time.value > 0 and time.units == "seconds" and time.lower_is_better
    assert "Time:" in job.artifact_path("hackbench_output").read_text()
    assert " -f 5" in (job.path / "output.txt").read_text()


def test_default_parameters_scaled_down(pytester: pytest.Pytester) -> None:
    """WA3's defaults (100-byte messages, 40 fds) with fewer groups and loops: ~0.1 s."""
    register(pytester)
    write_agenda(pytester, "workloads:\n  - {id: hb, name: hackbench, "
                           "params: {groups: 2, loops: 20}}\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("hb", 1)
    assert job.metric("total_fd").value == 80 and job.metric("test_time").value > 0


def test_shown_with_its_parameters(pytester: pytest.Pytester) -> None:
    register(pytester)
    result = pytester.runpytest("--wa-show", "hackbench")
    result.stdout.fnmatch_lines(["hackbench (workload)", "parameters:",
                                 "  timeout (integer, default: 30)", "*(alias: duration)*",
                                 "  fds (integer, default: 40)"])


LONG_RUN = "workloads:\n  - {id: long, name: hackbench, params: {groups: 2, loops: 10000000}}\n"


def test_job_timeout_kills_hackbench(pytester: pytest.Pytester) -> None:
    register(pytester)
    pytester.makefile(".yaml", agenda=LONG_RUN)
    check_job_timeout_kills(pytester, "hackbench")


def test_ctrl_c_kills_hackbench(pytester: pytest.Pytester) -> None:
    register(pytester)
    pytester.makefile(".yaml", agenda=LONG_RUN)
    check_ctrl_c_kills(pytester, "hackbench")
