"""Live progress as users see it: on a terminal (a real pseudo-terminal, through
``script``), in a CI log (not a terminal), under -q, and the time per device of a pool."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

AGENDA = """
workloads:
  - id: slow
    name: command
    iterations: 2
    params: {command: "sleep 2.5; echo t=1", metrics: {t: 't=(\\d+)'}}
"""


def test_a_ci_log_gets_plain_progress_lines(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml",
                                           "-o", "wa_progress_every=1.5")
    result.assert_outcomes(passed=2)
    lines = result.stdout.lines
    first = [line for line in lines if line.startswith("pytest-wa: [slow-command#1 run")]
    second = [line for line in lines if line.startswith("pytest-wa: [slow-command#2 run")]
    assert first and "expected" not in first[0]
    assert second and all(", expected ~" in line for line in second)
    assert "\b" not in result.stdout.str()  # nothing rewritten in a log
    result.stdout.fnmatch_lines(["Time in jobs: local *.* s (2 jobs)"])


def test_quiet_shows_nothing_extra(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml", "-q",
                                           "-o", "wa_progress_every=1.5")
    result.assert_outcomes(passed=2)
    assert "pytest-wa: [" not in result.stdout.str()


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a terminal")
def test_a_terminal_gets_a_status_rewritten_in_place(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA)
    command = f"{sys.executable} -m pytest -p no:cacheprovider agenda.yaml"
    done = subprocess.run(["script", "-qec", command, "/dev/null"], cwd=pytester.path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout
    shown = done.stdout
    status = " [slow-command#2 run 1 s, expected ~"
    assert " [slow-command#1 run 1 s]" in shown and status in shown
    width = shown.index("]", shown.index(status)) - shown.index(status) + 1
    assert "\b" * width + " " * width + "\b" * width in shown  # erased before the outcome


def test_a_pool_reports_the_time_per_device(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA.replace("iterations: 2", "iterations: 4")
                      .replace("sleep 2.5", "sleep 0.2"),
                      lab="devices:\n  a: {kind: local}\n  b: {kind: local}\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml", "-n", "2",
                                           "--wa-config=lab.yaml", "--wa-device=a,b")
    result.assert_outcomes(passed=4)
    line = next(x for x in result.stdout.lines if x.startswith("Time in jobs: "))
    parts = line.removeprefix("Time in jobs: ").split(", ")
    assert {part.split()[0] for part in parts} <= {"a", "b"}, line  # xdist deals the jobs
    assert sum(int(part.split("(")[1].split()[0]) for part in parts) == 4
