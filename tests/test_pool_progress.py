"""Live progress of a pool (``-n 2`` on two local devices), as users see it on the
controller: a heartbeat line per device in a CI log, a block of per-device lines
rewritten on a terminal (a real pseudo-terminal, through ``script``), nothing under
-q, and a worker that crashes mid-job leaves no ghost behind."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from test_progress import column_after, needs_script, on_a_terminal

from pytest_wa import RunOutput
from pytest_wa.output.pods import decode_time

pytest.importorskip("xdist")

AGENDA = """
workloads:
  - id: slow
    name: command
    iterations: 4
    params: {command: "sleep 2"}
"""
LAB = "devices:\n  a: {kind: local}\n  b: {kind: local}\n"
POOL = ("-n", "2", "--wa-config=lab.yaml", "--wa-device=a,b")
STAGE = r"(?P<job>slow-command#\d) (?P<stage>start|setup|run|extract|teardown) \d+ s" \
    r"(?P<expected>, expected ~\d+ s)?"
HEARTBEAT = re.compile(rf"pytest-wa: \[(?P<device>a|b): {STAGE}\]")


def pool_agenda(pytester: pytest.Pytester, command: str = "sleep 2") -> None:
    pytester.makefile(".yaml", agenda=AGENDA.replace("sleep 2", command), lab=LAB)


def run_pool(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml", *POOL,
                                         "-o", "wa_progress_every=1.5", *args)


def devices_of_jobs(output: Path) -> dict[str, str]:
    """Each job's device, from its result.json (``slow-command#2``: ``a``)."""
    return {f"slow-command#{job.iteration}": job.metadata.get("device")
            for job in RunOutput(output).jobs}


def later_jobs(output: Path) -> set[str]:
    """The jobs that ran after another of the spec on their device: they expect a time."""
    starts: dict[str, list[tuple[object, str]]] = defaultdict(list)
    for job in RunOutput(output).jobs:
        starts[job.metadata["device"]].append((decode_time(job.metadata["start_time"]),
                                                f"slow-command#{job.iteration}"))
    return {name for runs in starts.values() for _, name in sorted(runs)[1:]}


def check_time_per_device(lines: list[str], jobs: int) -> None:
    line = next(x for x in lines if x.startswith("Time in jobs: "))
    parts = line.removeprefix("Time in jobs: ").split(", ")
    assert {part.split()[0] for part in parts} <= {"a", "b"}, line  # xdist deals the jobs
    assert sum(int(part.split("(")[1].split()[0]) for part in parts) == jobs


def test_a_ci_log_gets_a_line_per_device_job_and_stage(pytester: pytest.Pytester) -> None:
    pool_agenda(pytester)
    result = run_pool(pytester)
    result.assert_outcomes(passed=4)
    found = [HEARTBEAT.fullmatch(line) for line in result.stdout.lines
             if line.startswith("pytest-wa: [")]
    assert found and all(found), result.stdout.str()
    device_of = devices_of_jobs(pytester.path / "wa_output")
    assert {m["job"] for m in found} == set(device_of)  # each job ran long enough for one
    assert all(m["device"] == device_of[m["job"]] for m in found)  # named where it ran
    assert "run" in {m["stage"] for m in found}
    later = later_jobs(pytester.path / "wa_output")
    assert all(m["expected"] for m in found if m["job"] in later)
    assert "\x1b[" not in result.stdout.str()  # nothing rewritten in a log
    check_time_per_device(result.stdout.lines, 4)


def test_quiet_shows_nothing_of_the_pool(pytester: pytest.Pytester) -> None:
    pool_agenda(pytester, "sleep 1")
    result = run_pool(pytester, "-q")
    result.assert_outcomes(passed=4)
    assert "pytest-wa: [" not in result.stdout.str()


@needs_script
def test_a_terminal_gets_a_block_of_devices_rewritten_in_place(
        pytester: pytest.Pytester) -> None:
    pool_agenda(pytester)
    shown = on_a_terminal(pytester, "agenda.yaml", *POOL)
    block = re.findall(rf"\n  (a|b): +{STAGE}", shown)
    assert {device for device, *_ in block} <= {"a", "b"} and "run" in {b[2] for b in block}
    assert "\x1b[J" in shown  # erased before pytest writes, and at the end
    assert "pytest-wa: [" not in shown  # no log lines on a terminal
    assert column_after(shown, "[100%]") == 79  # pytest's line where pytest left it
    check_time_per_device(shown.splitlines(), 4)


def test_a_crashed_worker_leaves_no_ghost_job(pytester: pytest.Pytester) -> None:
    """Worker gw0 dies as its first job runs: that job is not shown running ever
    after (its last status stays on disk), and the jobs after it are, on the devices
    that ran them (gw0's replacement gets its device)."""
    pytester.makefile(".yaml", agenda=AGENDA.replace("iterations: 4", "iterations: 6"),
                      lab=LAB)
    pytester.makeconftest("""
        import os

        def pytest_wa_job_execute(job):
            if os.environ.get("PYTEST_XDIST_WORKER") == "gw0":
                os._exit(3)
    """)
    result = run_pool(pytester)
    result.assert_outcomes(passed=5, failed=1)
    crashed = re.search(r"worker 'gw0' crashed while running 'agenda.yaml::slow-command\[(\d)\]'",
                        result.stdout.str())
    assert crashed, result.stdout.str()
    ghost = f"slow-command#{crashed[1]}"
    found = [HEARTBEAT.fullmatch(line) for line in result.stdout.lines
             if line.startswith("pytest-wa: [")]
    assert found and all(found), result.stdout.str()  # devices a and b, never gw0's ghost
    assert len([m for m in found if m["job"] == ghost]) <= 1  # else one every 1.5 s
    device_of = devices_of_jobs(pytester.path / "wa_output")
    assert all(m["device"] == device_of[m["job"]] for m in found if m["job"] != ghost)
