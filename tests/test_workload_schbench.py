"""The schbench workload: the 2021 schbench WA3 was written for and today's, each given
the options it has, their final reports read with WA3's names, and real runs.

schbench is not packaged by Debian. The ``schbench-*`` files under tests/data/outputs/
were recorded unedited (stdout and stderr together, ``2>&1``) on an x86_64 Debian 12
host (2 CPUs, gcc 12.2, ``make`` in the source tree), from three commits of
https://github.com/masoncl/schbench:

- e4aa540 (2021-09-09), the option set WA3 3.3.1 passes (``*99.0th:`` layout):
  ``-latency``: ``schbench -m 2 -t 4 -r 2 -s 30000 -c 30000 -R 0 -i 2``;
  ``-intervals``: ``-m 1 -t 2 -r 3 -s 30000 -c 30000 -R 0 -i 1``;
  ``-auto``: ``-m 1 -t 2 -r 1 -s 30000 -c 30000 -R 0 -i 1 -a``;
  ``-pipe``: ``-m 1 -t 2 -r 2 -s 30000 -c 30000 -p 1024 -R 0 -i 2``.
- 2eef447 (2021-12-03), same options, ``* 99.0th:`` layout: ``-latency`` as e4aa540's.
- 24e32b8 (2025-12-23, today's HEAD): ``-latency``: ``-m 2 -t 4 -r 2 -R 0 -i 2``;
  ``-rps-intervals``: ``-m 1 -t 2 -r 3 -R 200 -i 1``; ``-pipe``: ``-m 1 -t 2 -r 2
  -p 1024 -R 0 -i 2``.
- ``-usage``: ``schbench --help`` of those and of c3d60f6 (2023-04-21, the rework's
  options before today's ``-s``).

Every expected number below is read off those files. The real-run tests run the
schbench in the directory named by the environment variable PYTEST_WA_TOOLS.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from test_workload_resources import executable
from test_workload_sysbench import check_ctrl_c_kills, check_job_timeout_kills, write_agenda

from pytest_wa import RunOutput
from pytest_wa.model.errors import WorkloadError
from pytest_wa.workloads.schbench import Schbench
from pytest_wa.workloads.schbench_parse import parse_schbench, usage_options

OUTPUTS = Path(__file__).resolve().parent / "data" / "outputs"
TOOLS = os.environ.get("PYTEST_WA_TOOLS", "")
CONFTEST = """
from pytest_wa.workloads.schbench import Schbench

def pytest_wa_register_workloads(registry):
    registry.add(Schbench)
"""
WAKEUP, REQUEST, RPS = "wakeup latency", "request latency", "requests per second"


def metrics_of(name: str) -> dict[str, tuple[float, str | None, bool, str]]:
    readings = parse_schbench((OUTPUTS / name).read_text())
    assert len({r.name for r in readings}) == len(readings), "a metric named twice"
    return {r.name: (r.value, r.units, r.lower_is_better, r.classifiers["section"])
            for r in readings}


def wakeup(**values: int) -> dict[str, tuple[int, str, bool, str]]:
    names = {"p20": "20.0th", "p50": "50.0th", "p75": "75.0th", "p90": "90.0th",
             "p95": "95.0th", "p99": "*99.0th", "p995": "99.5th", "p999": "99.9th"}
    return {names.get(key, key): (value, "usec", True, WAKEUP) for key, value in values.items()}


# --- the output, from each schbench --------------------------------------------------

def test_2021_schbench_gives_wa3s_nine_metrics() -> None:
    assert metrics_of("schbench-e4aa540-latency.txt") == wakeup(
        p50=8008, p75=18272, p90=26720, p95=31456, p99=37952, p995=44352, p999=44352,
        min=1, max=44355)


def test_late_2021_layout_still_gives_the_starred_99th() -> None:
    """``* 99.0th:`` (a space after the star) escapes WA3 3.3.1's ``\\*99.0th:``."""
    assert metrics_of("schbench-2eef447-latency.txt") == wakeup(
        p50=29984, p75=41920, p90=45120, p95=50368, p99=66176, p995=66176, p999=66176,
        min=11, max=66228)


def test_only_the_final_report_counts_not_the_interval_ones() -> None:
    """Three reports (1 s, 2 s, 3 s): WA3 3.3.1 records each; the run's is the last."""
    metrics = metrics_of("schbench-e4aa540-intervals.txt")
    assert metrics == wakeup(p50=19, p75=22, p90=3996, p95=10992, p99=14928, p995=14928,
                             p999=14928, min=7, max=14942)


def test_auto_mode_reports_the_thread_count_it_stopped_at() -> None:
    metrics = metrics_of("schbench-e4aa540-auto.txt")
    assert metrics["auto_threads"] == (2, "threads", False, "auto")
    assert metrics["*99.0th"] == (3996, "usec", True, WAKEUP)


def test_2021_pipe_test_transfer_rate() -> None:
    metrics = metrics_of("schbench-e4aa540-pipe.txt")
    assert metrics["worker_transfer_ops"] == (28.29, "ops/s", False, "pipe transfer")
    assert metrics["worker_transfer_rate"] == (28.29 * 1024, "bytes/s", False, "pipe transfer")
    assert metrics["*99.0th"] == (8008, "usec", True, WAKEUP)


def test_todays_three_tables_each_named_for_what_it_measures() -> None:
    """WA3 3.3.1 would record 50.0th six times here, latencies and RPS mixed, and no
    ``*99.0th``. The interval report's figures (e.g. 50.0th: 11152) are not taken."""
    assert metrics_of("schbench-24e32b8-latency.txt") == {
        **wakeup(p50=11184, p90=40000, p99=68992, p999=68992, min=3, max=68888),
        **{f"request_latency_{key}": (value, "usec", True, REQUEST) for key, value in (
            ("50.0th", 149760), ("90.0th", 773120), ("99.0th", 947200), ("99.9th", 947200),
            ("min", 52964), ("max", 947426))},
        **{f"rps_{key}": (value, "requests/s", False, RPS) for key, value in (
            ("20.0th", 0), ("50.0th", 18), ("90.0th", 31), ("min", 18), ("max", 31))},
        "average_rps": (29.5, "requests/s", False, RPS),
    }


def test_a_table_of_no_samples_gives_no_zero_latencies() -> None:
    """In RPS mode no wake-up is timed: schbench prints a table of zeros (0 samples)."""
    metrics = metrics_of("schbench-24e32b8-rps-intervals.txt")
    assert not any(section == WAKEUP for *_, section in metrics.values())
    assert metrics["request_latency_99.0th"] == (26592, "usec", True, REQUEST)
    assert metrics["rps_50.0th"] == (123, "requests/s", False, RPS)
    assert metrics["average_rps"] == (166.67, "requests/s", False, RPS)


def test_todays_pipe_test() -> None:
    assert metrics_of("schbench-24e32b8-pipe.txt") == {
        **wakeup(p20=11, p50=12, p90=14, p99=24, p999=56, min=1, max=5175),
        "worker_transfer_ops": (17124.36, "ops/s", False, "pipe transfer"),
        "worker_transfer_rate": (16.72 * 1024**2, "bytes/s", False, "pipe transfer"),
    }


def test_a_min_max_line_without_a_table_and_a_new_table() -> None:
    """schbench prints ``min=, max=`` alone for a table with no samples; a label it may
    add later is named after itself."""
    text = ("\t  min=0, max=0\nFoo Bar percentiles (usec) runtime 1 (s) (9 total samples)\n"
            "\t* 99.0th: 42         (9 samples)\n\t  min=5, max=43\n")
    assert {r.name: r.value for r in parse_schbench(text)} == {
        "foo_bar_99.0th": 42, "foo_bar_min": 5, "foo_bar_max": 43}


# --- which options each schbench gets --------------------------------------------------

def workload(**given: object) -> Schbench:
    values, problems = Schbench.resolve(given)
    assert not problems
    schbench = Schbench(**values)
    schbench.validate()
    return schbench


def usage(commit: str) -> dict[str, str]:
    return usage_options((OUTPUTS / f"schbench-{commit}-usage.txt").read_text())


WA3_DEFAULTS = "-m 2 -t 16 -r 30 -s 30000 -c 30000 -R 0 -i 30"


@pytest.mark.parametrize(("commit", "expected"), [
    ("e4aa540", WA3_DEFAULTS), ("2eef447", WA3_DEFAULTS),
    ("c3d60f6", "-m 2 -t 16 -r 30 -R 0 -i 30"), ("24e32b8", "-m 2 -t 16 -r 30 -R 0 -i 30")])
def test_wa3_defaults_for_each_schbench(commit: str, expected: str) -> None:
    """2023+ schbench has no -s sleeptime or -c cputime (today's -s is another thing):
    at WA3's defaults they are left out. No ``-p 0`` either (see the docs)."""
    assert " ".join(workload().arguments(usage(commit))) == expected


def test_todays_options_when_the_agenda_gives_them() -> None:
    schbench = workload(runtime=5, intervaltime=1, rps=100, cache_footprint=512,
                        operations=3, sleep_usec=100, locking=False, pipe=0)
    assert " ".join(schbench.arguments(usage("24e32b8"))) == (
        "-m 2 -t 16 -r 5 -R 100 -i 1 -F 512 -n 3 -s 100 -L")


def test_2021_options_when_the_agenda_gives_them() -> None:
    schbench = workload(timeout=5, message_threads=1, threads=4, sleeptime=1000,
                        cputime=2000, pipe=4096, auto=True, intervaltime=0)  # 0: runtime
    assert " ".join(schbench.arguments(usage("e4aa540"))) == (
        "-m 1 -t 4 -r 5 -s 1000 -c 2000 -p 4096 -R 0 -i 5 -a")


@pytest.mark.parametrize(("commit", "given", "missing"), [
    ("24e32b8", {"cputime": 1000}, "cputime: this schbench has no --cputime (-c)"),
    ("24e32b8", {"sleeptime": 1000}, "sleeptime: this schbench has no --sleeptime (-s)"),
    ("24e32b8", {"auto": True}, "auto: this schbench has no --auto (-a)"),
    ("c3d60f6", {"sleep_usec": 10}, "sleep_usec: this schbench has no --sleep_usec (-s)"),
    ("e4aa540", {"cache_footprint": 64}, "cache_footprint: this schbench has no"),
    ("e4aa540", {"locking": False}, "locking: this schbench has no --no-locking (-L)"),
])
def test_a_value_this_schbench_cannot_take_is_an_error(commit, given, missing) -> None:
    with pytest.raises(WorkloadError, match=re.escape(missing)):
        workload(**given).arguments(usage(commit))


def test_late_2021_has_cache_footprint_and_operations() -> None:
    assert workload(cache_footprint=64, operations=2).arguments(usage("2eef447"))[-4:] == [
        "-F", "64", "-n", "2"]


@pytest.mark.parametrize("given", [{"runtime": 0}, {"threads": 0}, {"intervaltime": -1},
                                   {"pipe": -1}])
def test_values_schbench_would_misread_are_refused(given: dict) -> None:
    values, _ = Schbench.resolve(given)
    with pytest.raises(ValueError, match=next(iter(given))):
        Schbench(**values).validate()


# --- through pytest-wa, with a recorded schbench (CI) ----------------------------------

def fake_schbench(pytester: pytest.Pytester, commit: str, output: str) -> Path:
    """A ``schbench`` in a resource directory that logs its arguments and answers like
    the recorded one: schbench is not in Debian, so CI replays what it printed. Like
    schbench, it prints to stderr, and ``--help`` exits 1."""
    usage_file = OUTPUTS / f"schbench-{commit}-usage.txt" if commit else Path("/dev/null")
    argv = pytester.path / "argv.txt"
    executable(pytester.path / "res" / "schbench", f"""#!/bin/sh
echo "$*" >> {argv}
if [ "$1" = "--help" ]; then cat {usage_file} >&2; exit 1; fi
cat {OUTPUTS / output} >&2
""")
    return argv


def run_recorded(pytester: pytest.Pytester, params: str, *args: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    write_agenda(pytester, f"workloads:\n  - {{id: sb, name: schbench, params: {params}}}\n")
    return pytester.runpytest("-p", "no:cacheprovider", "--wa-resources=res", *args)


@pytest.mark.parametrize(("commit", "arguments"), [
    ("e4aa540", "-m 2 -t 4 -r 2 -s 30000 -c 30000 -R 0 -i 2"),
    ("", "-m 2 -t 4 -r 2 -s 30000 -c 30000 -R 0 -i 2"),  # no usage text: WA3's options
])
def test_2021_schbench_through_pytest_wa(pytester: pytest.Pytester, commit: str,
                                         arguments: str) -> None:
    argv = fake_schbench(pytester, commit, "schbench-e4aa540-latency.txt")
    run_recorded(pytester, "{runtime: 2, message_threads: 2, threads: 4}").assert_outcomes(
        passed=1)
    assert argv.read_text().splitlines() == ["--help", arguments]
    job = RunOutput(pytester.path / "wa_output").job("sb", 1)
    assert {m.name: (m.value, m.units, m.lower_is_better) for m in job.metrics} == {
        name: (value, units, lower) for name, (value, units, lower, _) in metrics_of(
            "schbench-e4aa540-latency.txt").items()}
    assert job.metric("*99.0th").value == 37952
    assert "*99.0th: 37952" in job.artifact_path("schbench_output").read_text()


def test_todays_schbench_through_pytest_wa(pytester: pytest.Pytester) -> None:
    argv = fake_schbench(pytester, "24e32b8", "schbench-24e32b8-latency.txt")
    run_recorded(pytester, "{timeout: 2, threads: 4, cache_footprint: 512}").assert_outcomes(
        passed=1)
    assert argv.read_text().splitlines() == ["--help", "-m 2 -t 4 -r 2 -R 0 -i 2 -F 512"]
    job = RunOutput(pytester.path / "wa_output").job("sb", 1)
    assert len(job.metrics) == 18
    assert job.metric("*99.0th").value == 68992
    request = job.metric("request_latency_99.0th")
    assert (request.value, request.units, request.lower_is_better) == (947200, "usec", True)
    assert request.classifiers["section"] == REQUEST
    assert job.metric("average_rps").value == 29.5


def test_an_option_todays_schbench_lacks_fails_the_job_before_it_runs(
        pytester: pytest.Pytester) -> None:
    argv = fake_schbench(pytester, "24e32b8", "schbench-24e32b8-latency.txt")
    result = run_recorded(pytester, "{runtime: 2, cputime: 1000}", "--wa-max-retries=0")
    result.assert_outcomes(errors=1)  # in the job's setup
    assert RunOutput(pytester.path / "wa_output").job("sb", 1).status.name == "FAILED"
    result.stdout.fnmatch_lines(["*cputime: this schbench has no --cputime (-c)*"])
    assert argv.read_text().splitlines() == ["--help"]


def test_shown_with_its_parameters(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest("--wa-show", "schbench")
    result.stdout.fnmatch_lines(["schbench (workload)", "parameters:",
                                 "  runtime (integer, default: 30)", "*(alias: timeout)*",
                                 "  sleeptime (integer, default: 30000)",
                                 "  intervaltime (integer, default: None)"])


# --- the real schbench (PYTEST_WA_TOOLS) -----------------------------------------------

real = pytest.mark.skipif(
    not os.path.isfile(os.path.join(TOOLS, "schbench")),
    reason="no schbench: build it from https://github.com/masoncl/schbench ('make') and "
           "set PYTEST_WA_TOOLS to the directory that has it")


def use_tools(pytester: pytest.Pytester, agenda: str) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(f"[pytest]\naddopts = --wa-resources={TOOLS}\n")
    write_agenda(pytester, agenda)


@real
def test_real_schbench_run(pytester: pytest.Pytester) -> None:
    """Whichever schbench it is, WA3's wake-up names come back; today's adds two tables."""
    use_tools(pytester, "workloads:\n  - {id: sb, name: schbench, "
                        "params: {runtime: 2, message_threads: 1, threads: 2}}\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("sb", 1)
    for name in ("50.0th", "90.0th", "*99.0th", "99.9th", "min", "max"):
        metric = job.metric(name)
        assert metric.value >= 0 and metric.units == "usec" and metric.lower_is_better
    assert job.metric("max").value >= job.metric("min").value
    raw = job.artifact_path("schbench_output").read_text()
    if "Request Latencies" in raw:
        assert job.metric("request_latency_99.0th").value > 0
        assert job.metric("average_rps").value > 0
    else:
        assert job.metric("95.0th").units == "usec"


LONG_RUN = "workloads:\n  - {id: long, name: schbench, params: {runtime: 600, threads: 2}}\n"


@real
def test_job_timeout_leaves_no_schbench(pytester: pytest.Pytester) -> None:
    use_tools(pytester, LONG_RUN)
    check_job_timeout_kills(pytester, "schbench")


@real
def test_ctrl_c_leaves_no_schbench(pytester: pytest.Pytester) -> None:
    use_tools(pytester, LONG_RUN)
    check_ctrl_c_kills(pytester, "schbench")
