"""``rt-app`` (alias ``rt_app``): use cases, rt-app's output and logs, and real runs.

The ``rt-app-1.0-*`` files under ``tests/data/outputs/`` were recorded on this
project's host with Debian's rt-app 1.0 running ``rt-app-1.0-use-case.json``
(a 200 ms timer task waking a worker, 1 s): what it printed
(``-calibrated.txt``) and the two threads' logs; ``-no-logdir.txt`` is the same
use case with a fixed calibration and a log directory that does not exist.
Every expected number below is read off those files.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_workload_resources import processes, renamed_program

from pytest_wa import RunOutput
from pytest_wa.workloads.rt_app import RtApp
from pytest_wa.workloads.rt_app_results import log_owner, read_log, read_output, task_readings
from pytest_wa.workloads.rt_app_use_case import (
    bundled_use_cases,
    find_use_case,
    for_this_job,
    loads_like_workgen,
    read_use_case,
)

OUTPUTS = Path(__file__).parent / "data" / "outputs"
CONFTEST = """
from pytest_wa.workloads.rt_app import RtApp

def pytest_wa_register_workloads(registry):
    registry.add(RtApp)
"""
WA3_USE_CASES = ["browser-long", "browser-short", "camera-long", "camera-short", "mp3-long",
                 "mp3-short", "spreading-tasks", "taskset", "video-long", "video-short"]


def reading_tuples(readings) -> list[tuple]:
    return [(r.name, r.value, r.units, r.lower_is_better, r.classifiers) for r in readings]


# --- what rt-app printed ---

def test_calibration_and_message_counts() -> None:
    text = (OUTPUTS / "rt-app-1.0-calibrated.txt").read_text()
    assert reading_tuples(read_output(text)) == [
        ("pLoad", 16, "ns", False, {}), ("calib_cpu", 0, None, False, {}),
        ("error_count", 0, "count", True, {}), ("crit_count", 0, "count", True, {})]


def test_a_fixed_calibration_still_gives_pload_and_errors_are_counted() -> None:
    """WA3 3.3.1 needs ': calib_cpu N' on the line, so it reports no pLoad here."""
    text = (OUTPUTS / "rt-app-1.0-no-logdir.txt").read_text()
    assert reading_tuples(read_output(text)) == [
        ("pLoad", 16, "ns", False, {}), ("error_count", 1, "count", True, {}),
        ("crit_count", 0, "count", True, {})]


def test_only_tagged_messages_count_not_a_task_named_error() -> None:
    text = "[rt-app] <notice> [0] starting thread error_handler\n[rt-app] <crit> gone\n"
    counts = {r.name: r.value for r in read_output(text)}
    assert counts == {"error_count": 0, "crit_count": 1}


# --- the threads' logs ---

def test_a_timer_driven_thread() -> None:
    rows = read_log((OUTPUTS / "rt-app-1.0-rt-app-tick-0.log").read_text())
    assert len(rows) == 5 and rows[0]["wu_lat"] == 150
    tick = {"task": "tick", "thread": 0}
    assert reading_tuples(task_readings("tick", 0, rows)) == [
        ("task_activations", 5, "count", False, tick),
        ("task_run_mean", 20668.0, "us", False, tick),
        ("task_period_mean", 199981.8, "us", False, tick),
        ("task_slack_mean", 179160.0, "us", False, tick),
        ("task_slack_min", 177793, "us", False, tick),
        ("task_overruns", 0, "count", True, tick),
        ("task_wu_lat_mean", 125.2, "us", True, tick),
        ("task_wu_lat_max", 150, "us", True, tick)]


def test_a_thread_woken_by_another_has_no_timer_statistics() -> None:
    rows = read_log((OUTPUTS / "rt-app-1.0-rt-app-worker-1.log").read_text())
    worker = {"task": "worker", "thread": 1}
    assert reading_tuples(task_readings("worker", 1, rows)) == [
        ("task_activations", 5, "count", False, worker),
        ("task_run_mean", 5506.8, "us", False, worker),
        ("task_period_mean", 164969.0, "us", False, worker)]


def test_overruns_count_negative_slack_and_leave_the_latency_alone() -> None:
    log = textwrap.dedent("""\
        # Policy : SCHED_OTHER priority : 0
        #idx     perf      run   period           start             end          rel_st      slack c_duration   c_period     wu_lat
           0    99999     2029     5090      4687529550      4687534640             770       1793       1500       5000        107
           0    99999     6171     7291      4687654662      4687661953          125882      -2420       1500       5000          0
           0    99999     2377     5102      4687661962      4687667064          133181       1496       1500       5000        113
        """)  # noqa: E501
    found = {r.name: r.value for r in task_readings("a", 0, read_log(log))}
    assert found["task_overruns"] == 1 and found["task_slack_min"] == -2420
    assert (found["task_wu_lat_mean"], found["task_wu_lat_max"]) == (110.0, 113)


def test_log_file_names() -> None:
    assert log_owner("rt-app-Binder-dummy-12.log", "rt-app") == ("Binder-dummy", 12)
    assert log_owner("rt-app-tick-0.plot", "rt-app") is None
    assert log_owner("other-tick-0.log", "rt-app") is None


# --- use cases ---

def test_the_liberties_workgen_allows() -> None:
    text = """{
        // comments, trailing commas, repeated events and a bare suspend
        "tasks": {
            "t1": {"run": 100, "sleep": 5, "run": 200, "run": 300, "suspend", },
            "t2": {"phases": {"p": {"suspend", "resume": "t1", "note": "a // b, }"}}},
        },
        /* the global object */
        "global": {"duration": 2,},
    }"""
    assert loads_like_workgen(text) == {
        "tasks": {"t1": {"run": 100, "sleep": 5, "run1": 200, "run2": 300, "suspend": "t1"},
                  "t2": {"phases": {"p": {"suspend": "t2", "resume": "t1",
                                          "note": "a // b, }"}}}},
        "global": {"duration": 2}}
    with pytest.raises(ValueError, match="'tasks' object"):
        loads_like_workgen('{"global": {}}')


def test_bundled_use_cases_have_wa3s_names_and_say_what_they_do() -> None:
    assert bundled_use_cases() == WA3_USE_CASES
    for name in WA3_USE_CASES:
        use_case = read_use_case(find_use_case(name, "/nowhere"))
        assert use_case["description"] and use_case["tasks"]
        expected = {"short": 6, "long": 600}.get(name.rsplit("-", 1)[-1])
        assert expected is None or use_case["global"]["duration"] == expected


def test_a_users_file_wins_and_json_is_implied(tmp_path: Path) -> None:
    (tmp_path / "taskset.json").write_text('{"tasks": {"mine": {"run": 1}}}')
    assert find_use_case("taskset", str(tmp_path)) == tmp_path / "taskset.json"
    assert find_use_case("mp3-short.json", str(tmp_path)).parent.name == "rt_app_use_cases"
    with pytest.raises(ValueError, match="neither a JSON file .* nor a use case pytest-wa "
                                         "bundles \\(browser-long, browser-short"):
        find_use_case("nope", str(tmp_path))


def test_the_job_sets_logdir_name_and_duration() -> None:
    use_case = {"tasks": {"a": {}}, "global": {"duration": 60, "logdir": "./"}}
    assert for_this_job(use_case, logdir="/w/j", log_basename="rt-app", duration=2) == {
        "tasks": {"a": {}}, "global": {"duration": 2, "logdir": "/w/j",
                                       "log_basename": "rt-app"}}
    assert use_case["global"] == {"duration": 60, "logdir": "./"}  # not changed in place


def test_cpus_take_wa3s_mask_forms() -> None:
    for given, mask in ((3, 3), ("0x3", 3), ([0, 1], 3), ("0-1", 3), ("0,2-3", 13), (0, 0)):
        values, problems = RtApp.resolve({"taskset_mask": given})
        assert problems == [] and values["cpus"] == mask
    _, problems = RtApp.resolve({"cpus": "all"})
    assert problems and problems[0][0] == "cpus"


def test_wa_show_finds_it_by_either_spelling(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest("--wa-show", "rt_app")
    assert result.ret == 0
    text = result.stdout.str()
    assert text.startswith("rt-app (workload)")
    for parameter in ("config (string, default: 'taskset')", "duration (integer, optional)",
                      "cpus (cpu mask, default: 0)", "uninstall (boolean, default: False)",
                      "force_install (boolean, default: False)", "mp3-short"):
        assert parameter in text


# --- real runs on this host ---

ONE_SECOND = {
    "tasks": {"tick": {"loop": -1, "run": 2000, "resume": "worker",
                       "timer": {"ref": "tick", "period": 100000}},
              "worker": {"loop": -1, "suspend": "worker", "run": 1000}},
    "global": {"duration": 1}}


def run(pytester: pytest.Pytester, agenda: str, *args: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    return pytester.runpytest("-p", "no:cacheprovider", "agenda.yaml", *args)


def test_a_bundled_use_case_and_a_users_for_a_second_each(pytester: pytest.Pytester) -> None:
    """rt-app calibrates for the bundled one (several seconds on a busy host); the user's
    gives its calibration, so rt-app starts at once and prints no calib_cpu."""
    (pytester.path / "mine.json").write_text(json.dumps(
        {**ONE_SECOND, "global": {"duration": 1, "calibration": 15}}))
    run(pytester, """\
        workloads:
          - {id: wa3, name: rt-app, params: {config: taskset, duration: 1, taskset_mask: 0x1}}
          - {id: mine, name: rt_app, params: {config: mine}}
        """).assert_outcomes(passed=2)
    output = RunOutput(pytester.path / "wa_output")
    wa3 = output.job("wa3", 1)
    assert wa3.metric("pLoad").units == "ns" and wa3.metric("pLoad").value > 0
    assert wa3.metric("calib_cpu").value == 0
    assert wa3.metric("error_count").value == wa3.metric("crit_count").value == 0
    assert wa3.classifiers == {"duration": 1, "task_count": 4}
    assert_task_statistics(wa3, {"ThreadA", "ThreadB", "ThreadC", "ThreadD"},
                           timed={"ThreadA"})
    assert "taskset 0x1 " in (wa3.path / "output.txt").read_text()
    assert "pLoad = " in wa3.artifact_path("rt-app_output").read_text()
    mine = output.job("mine", 1)
    assert mine.metric("pLoad").value == 15
    assert "calib_cpu" not in {m.name for m in mine.metrics}
    assert mine.classifiers == {"duration": 1, "task_count": 2}
    assert_task_statistics(mine, {"tick", "worker"}, timed={"tick"})
    assert json.loads(mine.artifact_path("rt-app_use_case").read_text())["global"][
        "log_basename"] == "rt-app"


def assert_task_statistics(job, tasks: set[str], timed: set[str]) -> None:
    """Every task's log came back and gave sensible numbers."""
    by_task: dict[str, dict[str, float]] = {}
    for metric in job.metrics:
        if "task" in metric.classifiers:
            by_task.setdefault(metric.classifiers["task"], {})[metric.name] = metric.value
            assert metric.units in ("us", "count")
    assert set(by_task) == tasks
    for task, found in by_task.items():
        assert found["task_activations"] > 0 and found["task_run_mean"] > 0
        assert found["task_period_mean"] >= found["task_run_mean"]
        assert ("task_wu_lat_mean" in found) == (task in timed)
    logs = {a.classifiers["task"]: a.path for a in job.artifacts if "task" in a.classifiers}
    assert set(logs) == tasks
    assert all((job.path / path).is_file() and path.startswith("rt-app-logs/")
               for path in logs.values())


def test_rt_apps_own_refusal_fails_the_job_with_its_words(pytester: pytest.Pytester) -> None:
    (pytester.path / "bad.json").write_text(json.dumps({
        "tasks": {"a": {"loop": 1, "policy": "SCHED_FIFO", "priority": 200, "run": 1000}},
        "global": {"duration": 1, "calibration": 15}}))
    result = run(pytester, """\
        config: {max_retries: 0}
        workloads: [{id: bad, name: rt_app, params: {config: bad.json}}]
        """)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*rt-app exited with code 1", "*pLoad = 15ns",
                                 "*Using SCHED_FIFO policy with priority 200",
                                 "pthread_setschedparam: Invalid argument"])
    job = RunOutput(pytester.path / "wa_output").job("bad", 1)
    assert job.metric("pLoad").value == 15


def test_an_unknown_use_case_is_reported_at_collection(pytester: pytest.Pytester) -> None:
    result = run(pytester, "workloads:\n  - {name: rt-app, params: {config: mp4-short}}\n",
                 "--co")
    result.stdout.fnmatch_lines(["*agenda.yaml:2: *config 'mp4-short' is neither a JSON file*"
                                 "mp3-short*"])


def unique_rt_app(pytester: pytest.Pytester) -> Path:
    """rt-app under a name no other process has, so pgrep finds only this test's; and a
    use case that would run for a minute."""
    link = renamed_program(pytester, "rt-app")
    long = {**ONE_SECOND, "global": {"duration": 60, "calibration": 15}}
    (pytester.path / "long.json").write_text(json.dumps(long))
    return link


def test_job_timeout_leaves_no_rt_app_running(pytester: pytest.Pytester) -> None:
    program = unique_rt_app(pytester)
    result = run(pytester, f"""\
        config: {{max_retries: 0}}
        workloads: [{{name: rt-app, params: {{config: long, binary: "{program}"}}}}]
        """, "--wa-job-timeout=1.5")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*job_timeout of 1.5 s; the command was killed: cd *{program}*"])
    time.sleep(0.3)
    assert processes(str(program)) == []


def test_ctrl_c_leaves_no_rt_app_running(pytester: pytest.Pytester) -> None:
    program = unique_rt_app(pytester)
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", agenda=f"""\
        workloads: [{{name: rt-app, params: {{config: long, binary: "{program}"}}}}]
        """)
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                "agenda.yaml"], cwd=pytester.path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not processes(str(program)):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)  # rt-app has started its threads
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    time.sleep(0.3)
    assert processes(str(program)) == [], output
