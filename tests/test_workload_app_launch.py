"""``app_launch``: Android's own launch times, on the simulated device, as users run it.

The report texts below are written from the layouts ``am start -W`` prints on
Android 8 (with ThisTime) and Android 13 (with LaunchState), and from its
error and warning lines; the simulated device's ``am`` prints the same layouts.
"""

from __future__ import annotations

import textwrap

import pytest

from pytest_wa import RunOutput
from pytest_wa.workloads.app_launch_report import failure, read_report

ANDROID_8 = """\
Starting: Intent { act=android.intent.action.MAIN cat=[android.intent.category.LAUNCHER] \
cmp=com.android.settings/.Settings }
Status: ok
Activity: com.android.settings/.Settings
ThisTime: 346
TotalTime: 346
WaitTime: 364
Complete
"""

ANDROID_13 = """\
Starting: Intent { cmp=com.example.app/.MainActivity }
Status: ok
LaunchState: COLD
Activity: com.example.app/.MainActivity
TotalTime: 432
WaitTime: 436
Complete
"""

NO_SUCH_ACTIVITY = """\
Starting: Intent { cmp=com.example.app/.Nope }
Error type 3
Error: Activity class {com.example.app/com.example.app.Nope} does not exist.
"""

BROUGHT_TO_FRONT = """\
Starting: Intent { cmp=com.example.app/.MainActivity }
Warning: Activity not started, its current task has been brought to the front
Status: ok
LaunchState: UNKNOWN (0)
Activity: com.example.app/.MainActivity
WaitTime: 7
Complete
"""


def test_an_android_8_report() -> None:
    report = read_report(ANDROID_8)
    assert report.times == {"total_time": 346, "wait_time": 364, "this_time": 346}
    assert report.launch_state is None and report.status == "ok"
    assert failure(report) is None


def test_an_android_13_report() -> None:
    report = read_report(ANDROID_13)
    assert report.times == {"total_time": 432, "wait_time": 436}
    assert report.launch_state == "COLD"
    assert report.activity == "com.example.app/.MainActivity"


def test_an_error_is_a_failure_although_am_exits_0() -> None:
    assert failure(read_report(NO_SUCH_ACTIVITY)) == (
        "Error type 3; Error: Activity class {com.example.app/com.example.app.Nope} does "
        "not exist.")


def test_a_start_that_only_brought_a_task_forward_is_no_measurement() -> None:
    reason = failure(read_report(BROUGHT_TO_FRONT))
    assert reason is not None and "no TotalTime" in reason and "brought to the front" in reason


@pytest.fixture
def phone(wa_simulated_devices, monkeypatch):
    def make(**kwargs):
        device = wa_simulated_devices(**kwargs)
        monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(device.adb_port))
        return device
    return make


def run_agenda(pytester: pytest.Pytester, device, agenda: str) -> pytest.RunResult:
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v",
                                         f"--wa-device=adb:{device.serial}")


LAUNCHES = """\
    workloads:
      - id: cold
        name: app_launch
        params: {package: com.android.settings}
      - id: warm
        name: app_launch
        params: {package: com.android.settings, start: warm}
      - id: left
        name: command
        params:
          command: "wc -l < /data/system/running.list"
          metrics: {running_apps: '^([0-9]+)'}
    """


def test_cold_and_warm_launches_on_android_13(pytester, phone) -> None:
    device = phone(sdk=33)
    run_agenda(pytester, device, LAUNCHES).assert_outcomes(passed=3)
    output = RunOutput(pytester.path / "wa_output")
    cold, warm = output.job("cold", 1), output.job("warm", 1)
    assert {m.name for m in cold.metrics} == {"total_time", "wait_time"}
    assert cold.metric("total_time").units == "milliseconds"
    assert cold.metric("total_time").lower_is_better
    assert cold.metric("total_time").classifiers["launch_state"] == "cold"
    assert warm.metric("total_time").classifiers["launch_state"] == "hot"
    assert warm.metric("total_time").value < cold.metric("total_time").value
    assert output.job("left", 1).metric("running_apps").value == 0  # each job stopped it


def test_an_android_8_device_reports_this_time(pytester, phone) -> None:
    device = phone(sdk=26)
    run_agenda(pytester, device, """\
        workloads:
          - {name: app_launch, params: {package: com.android.settings}}
        """).assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").jobs[0]
    assert {m.name for m in job.metrics} == {"total_time", "wait_time", "this_time"}
    assert "launch_state" not in job.metric("total_time").classifiers


def test_an_app_that_is_not_there_or_does_not_start_fails_the_job(pytester, phone) -> None:
    device = phone()
    result = run_agenda(pytester, device, """\
        workloads:
          - {id: gone, name: app_launch, params: {package: com.example.absent}}
          - id: nope
            name: app_launch
            params: {package: com.android.settings, activity: .Nope}
        """)
    result.assert_outcomes(errors=1, failed=1)
    result.stdout.fnmatch_lines(["*app 'com.example.absent' is not installed on the device*",
                                 "*com.android.settings did not start: Error type 3; Error: "
                                 "Activity class {com.android.settings/.Nope} does not exist.*"])
    assert "Traceback" not in result.stdout.str()


def test_names_match_as_wa3_matches_them(pytester) -> None:
    """Case and '-'/'_' do not matter in plugin names, as in WA3 (rt_app is rt-app)."""
    pytester.makefile(".yaml", agenda="workloads:\n  - {name: App-Launch, params: "
                                      "{package: com.example.app}}\n")
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["agenda.yaml::wk1-App-Launch[[]1[]]"])  # label as written
