"""Live progress as users see it: on a terminal (a real pseudo-terminal, through
``script``), in a CI log (not a terminal), under -q. (A pool's: test_pool_progress.py.)"""

from __future__ import annotations

import os
import re
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


#: script(1) runs pytest on a real pseudo-terminal.
needs_script = pytest.mark.skipif(shutil.which("script") is None,
                                  reason="needs script(1) for a terminal")


def on_a_terminal(pytester: pytest.Pytester, *args: str) -> str:
    """What pytest writes on an 80-column pseudo-terminal (a passing session)."""
    command = " ".join([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args])
    done = subprocess.run(["script", "-qec", command, "/dev/null"], cwd=pytester.path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "80"})
    assert done.returncode == 0, done.stdout
    return done.stdout


def column_after(shown: str, marker: str) -> int:
    """The terminal column after ``marker`` is written: ``shown`` replayed as a
    terminal moves its cursor (colours, backspaces, line starts, cursor moves)."""
    column = 0
    end = shown.index(marker) + len(marker)
    for count, command, char in re.findall(r"\x1b\[([\d;]*)([A-Za-z])|([^\x1b])",
                                           shown[:end], re.S):
        if command == "C":
            column += int(count or 1)
        elif command:
            continue  # colours, up, clear: the column stays
        elif char in "\r\n":
            column = 0
        elif char == "\b":
            column = max(column - 1, 0)
        else:
            column += 1
    return column


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


@needs_script
def test_a_terminal_gets_a_status_rewritten_in_place(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA)
    shown = on_a_terminal(pytester, "agenda.yaml")
    status = " [slow-command#2 run 1 s, expected ~"
    assert " [slow-command#1 run 1 s]" in shown and status in shown
    width = shown.index("]", shown.index(status)) - shown.index(status) + 1
    assert "\b" * width + " " * width + "\b" * width in shown  # erased before the outcome
    assert column_after(shown, "[100%]") == 79  # at the right edge, as without a status
