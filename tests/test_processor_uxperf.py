"""The uxperf processor: UX_PERF start/end markers of a job's logcat as duration metrics.

tests/data/uxperf/logcat.log is a threadtime log with, among other lines, these
UX_PERF markers (nanoseconds, as WA3's ActionLogger logs System.nanoTime()):
gesture_scroll 1000000000 -> 1250500000 (250500 us), open_menu 2000000000 ->
2012345678 (12345.678 us), gesture_scroll again 3000000000 -> 3100000000 (100000 us),
tap 1000 -> 501000 (500 us, with a UX_PERF_X line between that is not a marker);
and what cannot pair up: an end without a start (search), a message that is not
three words, a time that is not a number, a start never ended (login).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_wa import RunOutput
from pytest_wa.processors.uxperf import Duration, durations

LOG = Path(__file__).parent / "data" / "uxperf" / "logcat.log"
EXPECTED = [("gesture_scroll_duration", 250500.0), ("open_menu_duration", 12345.678),
            ("gesture_scroll_duration", 100000.0), ("tap_duration", 500.0)]
PROBLEMS = ["search ended at 12-06 21:10:00.800 without a start",
            "unexpected UX_PERF message at 12-06 21:10:00.900: broken marker",
            "unexpected UX_PERF message at 12-06 21:10:01.000: type start soon",
            "login started and never ended"]


def test_markers_pair_into_durations_in_microseconds() -> None:
    problems: list[str] = []
    found = durations(LOG.read_text().splitlines(), problems)
    assert found == [Duration(name.removesuffix("_duration"), value)
                     for name, value in EXPECTED]
    assert problems == PROBLEMS


def test_a_second_start_replaces_the_first() -> None:
    problems: list[str] = []
    lines = ["01-01 00:00:00.000   1   1 D UX_PERF : a start 1000",
             "01-01 00:00:00.001   1   1 D UX_PERF : a start 5000",
             "01-01 00:00:00.002   1   1 D UX_PERF : a end 9000"]
    assert durations(lines, problems) == [Duration("a", 4.0)]
    assert problems == ["a started again at 01-01 00:00:00.001 before it ended "
                        "(the later start counts)"]


RECORDED = """
def pytest_wa_job_extract_results(job):
    import shutil
    shutil.copy({log!r}, job.output_directory / "logcat.log")
    job.add_artifact("logcat", "logcat.log", "log")
"""


def test_metrics_of_a_recorded_logcat_reach_csv(pytester: pytest.Pytester) -> None:
    """csv is listed first, and still writes uxperf's metrics; a job without a logcat
    (not an Android device) is skipped with an event."""
    pytester.makeconftest(RECORDED.format(log=str(LOG)))
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [csv, uxperf]}
        workloads:
          - {id: a, name: command, params: {command: "true"}}
        """))
    pytester.runpytest("-p", "no:cacheprovider", "agenda.yaml").assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("a", 1)
    assert [(m.name, m.value, m.units, m.lower_is_better) for m in job.metrics] == [
        (name, value, "microseconds", True) for name, value in EXPECTED]
    assert [e.message for e in job.events] == [f"uxperf: {p}" for p in PROBLEMS]
    csv_rows = (pytester.path / "wa_output" / "results.csv").read_text().splitlines()
    assert "a,command,1,open_menu_duration,12345.678,microseconds" in csv_rows


def test_a_job_without_logcat_is_skipped(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [uxperf]}
        workloads:
          - {id: a, name: command, params: {command: "true"}}
        """))
    pytester.runpytest("-p", "no:cacheprovider", "agenda.yaml").assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("a", 1)
    assert job.status.name == "OK" and job.metrics == []
    assert [e.message for e in job.events] == [
        "uxperf: skipped: the job has no logcat (artifact logcat: an Android device's "
        "logcat.log, or the logcat instrument's)"]


def test_markers_logged_on_the_phone(pytester: pytest.Pytester, device) -> None:
    """The simulated phone's ``log`` writes the job's logcat, which the device saves as
    logcat.log: markers logged by the workload become metrics."""
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [uxperf]}
        workloads:
          - id: ui
            name: command
            params:
              command: >-
                log -p d -t UX_PERF "tap start 1000000"; log -t UX_PERF "tap end 3500000";
                log -t UX_PERF "swipe start $(date +%s%N)"; sleep 0.2;
                log -t UX_PERF "swipe end $(date +%s%N)"
        """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml",
                                           f"--wa-device=adb:{device.serial}")
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("ui", 1)
    assert "UX_PERF : tap start 1000000" in (job.path / "logcat.log").read_text()
    metrics = {m.name: m for m in job.metrics}
    assert metrics["tap_duration"].value == 2500.0
    assert metrics["tap_duration"].units == "microseconds"
    assert 200_000 <= metrics["swipe_duration"].value < 5_000_000
