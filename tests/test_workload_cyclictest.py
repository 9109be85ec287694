"""cyclictest as users meet it: rt-tests' program run as root on this host with WA2's
parameters, latencies per thread and overall, the histogram kept, the job limits,
and the parser on outputs recorded here (quiet, refreshing, and a histogram file)."""

from __future__ import annotations

import pytest
from test_workload_resources import (
    DATA,
    assert_ctrl_c_kills,
    assert_job_timeout_kills,
    metrics,
    run,
    session_cache,
    use_workloads,
)

from pytest_wa import RunOutput
from pytest_wa.workloads.cyclictest import ThreadLatency, latency_readings, parse_cyclictest

LATENCIES = ("min latency", "avg latency", "max latency")


@pytest.fixture
def lab(pytester, monkeypatch, tmp_path_factory) -> pytest.Pytester:
    use_workloads(pytester, monkeypatch, session_cache(tmp_path_factory))
    return pytester


def check_latencies(found: dict, prefix: str) -> None:
    values = [found[prefix + name] for name in LATENCIES]
    assert all(units == "microseconds" and lower for _, units, lower in values)
    low, mean, high = (value for value, _, _ in values)
    assert 0 <= low <= mean <= high
    cycles, units, _ = found[prefix + "cycles"]
    assert cycles > 100 and units is None


def test_latencies_per_thread_and_the_histogram(lab) -> None:
    lab.makefile(".yaml", agenda="""\
        workloads:
          - {id: quiet, name: cyclictest, params: {duration: 1, thread: 2, priority: 80}}
          - {id: loud, name: cyclictest, params: {duration: 1, thread: 2, quiet: false,
                                                  histogram: 0, clock: monotonic}}
        """)
    run(lab, "agenda.yaml").assert_outcomes(passed=2)
    output = RunOutput(lab.path / "wa_output")
    for job in output.jobs:
        found = metrics(job)
        assert len(found) == 12
        for prefix in ("thread 0 ", "thread 1 ", ""):
            check_latencies(found, prefix)
        assert found["cycles"][0] == found["thread 0 cycles"][0] + found["thread 1 cycles"][0]
        assert "cyclictest_output" in {a.name for a in job.artifacts}
    quiet = output.job("quiet", 1)
    histogram = quiet.artifact_path("cyclictest_histogram").read_text().splitlines()
    assert histogram[0] == "# Histogram" and len(histogram) > 1000
    command = (quiet.path / "output.txt").read_text().splitlines()[0]
    assert "--clock=1 --duration=1s --thread=2 --latency=1000000 --quiet -p 80" in command
    assert "--histogram=1000 --histfile=" in command
    assert "cyclictest_histogram" not in {a.name for a in output.job("loud", 1).artifacts}


def test_mistakes_are_located_at_collection(lab) -> None:
    lab.makefile(".yaml", agenda="""\
        workloads:
          - {name: cyclictest, params: {clock: boottime}}
          - {name: cyclictest, params: {priority: 100}}
        """)
    run(lab, "--co", "agenda.yaml").stdout.fnmatch_lines([
        "*agenda.yaml:2: workloads[[]0[]].params.clock: workload 'cyclictest': 'boottime' is "
        "not allowed; choose from 'monotonic', 'realtime'",
        "*agenda.yaml:3: workloads[[]1[]]: workload 'cyclictest': priority must be 1-99, "
        "got 100"])


def test_job_timeout_leaves_no_cyclictest_running(lab) -> None:
    lab.makefile(".yaml", agenda="workloads:\n  - {name: cyclictest, params: "
                                 "{duration: 53, thread: 1}}\n")
    assert_job_timeout_kills(lab, "cyclictest .*--duration=53s")


def test_ctrl_c_leaves_no_cyclictest_running(lab) -> None:
    lab.makefile(".yaml", agenda="workloads:\n  - {name: cyclictest, params: "
                                 "{duration: 59, thread: 1}}\n")
    assert_ctrl_c_kills(lab, "cyclictest .*--duration=59s")


def test_wa_show_documents_it(lab) -> None:
    result = run(lab, "--wa-show", "cyclictest")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "cyclictest (workload)", "*timer wake-up latency*", "parameters:",
        "  clock (string, default: 'realtime'; one of 'monotonic', 'realtime')",
        "  duration (integer, default: 30)", "  quiet (boolean, default: True)",
        "  thread (integer, default: 8)", "  latency (integer, default: 1000000)",
        "  extra_parameters (string, default: '')",
        "  clear_file_cache (boolean, default: True)", "  screen_off (boolean, default: True)",
        "  priority (integer, default: None)", "  histogram (integer, default: 1000)",
        "  binary (string, default: None)"])


# --- the parser, on outputs recorded here ------------------------------------------

@pytest.mark.parametrize(("recorded", "expected"), [
    (("cyclictest-rt-tests-2.4-quiet.txt",),
     {0: ThreadLatency(988, 52, 103, 3428), 1: ThreadLatency(663, 49, 98, 2983)}),
    (("cyclictest-rt-tests-2.4-verbose.txt",),  # refreshed as it runs: the last line counts
     {0: ThreadLatency(995, 15, 33, 106), 1: ThreadLatency(663, 15, 32, 121)}),
    (("cyclictest-rt-tests-2.4-histfile-stdout.txt", "cyclictest-rt-tests-2.4-histfile.txt"),
     {0: ThreadLatency(1000, 16, 31, 99), 1: ThreadLatency(1000, 15, 44, 98)}),
    (("cyclictest-rt-tests-2.4-histfile-overflows.txt",),  # outside the histogram: counted
     {0: ThreadLatency(995, 45, 90, 2067), 1: ThreadLatency(997, 46, 87, 2283)}),
])
def test_parser_reads_recorded_outputs(recorded, expected) -> None:
    assert parse_cyclictest("\n".join((DATA / name).read_text() for name in recorded)) == \
        expected


def test_readings_name_each_thread_and_the_whole() -> None:
    readings = latency_readings({0: ThreadLatency(900, 10, 20, 300),
                                 1: ThreadLatency(100, 5, 40, 250)})
    assert [(r.name, r.value, r.units, r.classifiers) for r in readings] == [
        ("thread 0 min latency", 10, "microseconds", {"thread": 0}),
        ("thread 0 avg latency", 20, "microseconds", {"thread": 0}),
        ("thread 0 max latency", 300, "microseconds", {"thread": 0}),
        ("thread 0 cycles", 900, None, {"thread": 0}),
        ("thread 1 min latency", 5, "microseconds", {"thread": 1}),
        ("thread 1 avg latency", 40, "microseconds", {"thread": 1}),
        ("thread 1 max latency", 250, "microseconds", {"thread": 1}),
        ("thread 1 cycles", 100, None, {"thread": 1}),
        ("min latency", 5, "microseconds", {}),
        ("avg latency", 22, "microseconds", {}),  # weighted by cycles: (18000 + 4000) / 1000
        ("max latency", 300, "microseconds", {}),
        ("cycles", 1000, None, {})]
    assert all(r.lower_is_better for r in readings if r.units == "microseconds")
