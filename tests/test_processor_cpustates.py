"""The cpustates processor: power-state residency and parallelism from a job's trace.

tests/data/cpustates/ holds one small trace, written by hand, in the two layouts the
trace-cmd instrument saves (trace-cmd 3.x's report of an instance, and tracefs's own
text), and the device's CPUs as the processor's probe reads them: CPUs 0 and 1 share a
frequency domain, CPU 2 has its own; each has the idle states WFI and cluster-sleep.

The span (TRACE_MARKER_START at 100.0 to TRACE_MARKER_STOP at 101.0) is 1 s. The events
before it set the states it starts in (devlib's frequencies: 500 MHz, 500 MHz, 800 MHz;
CPU 0 and 2 running, CPU 1 in WFI). Then, worked out by hand:

  100.1 CPUs 0, 1 at 1 GHz          100.6 CPU 0 runs (CPU 1 back to WFI: its cluster woke)
  100.2 CPU 1 runs                  ....  CPU 2 lost events: unknown from 100.6
  100.3 CPU 0 asks cluster-sleep,   100.7 CPU 2 runs, frequency unknown
        gets WFI (CPU 1 runs)       100.8 CPU 2 at 800 MHz
  100.4 CPU 1 asks it: both in it   100.9 CPU 1 runs
  100.5 CPU 2 in WFI                101.1 (after the STOP marker: ignored)

CPU 0: 500 MHz 0.1 s, 1 GHz 0.2 + 0.4, WFI 0.1, cluster-sleep 0.2.
CPU 1: WFI 0.2 + 0.3, 1 GHz 0.2 + 0.1, cluster-sleep 0.2.
CPU 2: 800 MHz 0.5 + 0.2, WFI 0.1, unknown 0.1, running at an unknown frequency 0.1.

Running CPUs per 0.1 s: {0,2} {0,2} {0,1,2} {1,2} {2} {} {0} {0,2} {0,2} {0,1,2}, so
cluster 0 (CPUs 0, 1) has none running 0.2 s, one 0.6 s, two 0.2 s (of its 0.8 s running:
75 % and 25 %); cluster 1 (CPU 2) none 0.2 s, one 0.8 s; all CPUs: none 0.1 s, one 0.2 s,
two 0.5 s, three 0.2 s (of 0.9 s running: 22.2 %, 55.6 %, 22.2 %).
"""

from __future__ import annotations

import math
import shutil
import textwrap
from pathlib import Path

import pytest
from tracing_runs import needs_root
from tracing_runs import run as traced_run

from pytest_wa import RunOutput
from pytest_wa.processors import cpulayout, cpustats
from pytest_wa.processors.ftrace_text import Dropped, Marker, Transition, power_events
from pytest_wa.processors.powerstates import timeline

DATA = Path(__file__).parent / "data" / "cpustates"
LAYOUTS = ["trace-cmd-report.txt", "tracefs-trace.txt"]
PROBE = (DATA / "probe.txt").read_text()
CPUS = cpulayout.layout(PROBE, 0)

RESIDENCY = [
    "state,0xd03 CPU0,0xd03 CPU1,0xd09 CPU2",
    "0500000KHz,10.0,0.0,0.0",
    "0800000KHz,0.0,0.0,70.0",
    "1000000KHz,60.0,30.0,0.0",
    "Running (unknown KHz),0.0,0.0,10.0",
    "WFI,10.0,50.0,10.0",
    "cluster-sleep,20.0,20.0,0.0",
    "unknown,0.0,0.0,10.0",
]
PARALLEL = [
    "cluster,number_of_cores,total_time,%time,%running_time",
    "0,0,0.200000,20.0,0.0", "0,1,0.600000,60.0,75.0", "0,2,0.200000,20.0,25.0",
    "1,0,0.200000,20.0,0.0", "1,1,0.800000,80.0,100.0",
    "all,0,0.100000,10.0,0.0", "all,1,0.200000,20.0,22.2", "all,2,0.500000,50.0,55.6",
    "all,3,0.200000,20.0,22.2",
]


def events_of(name: str) -> list:
    return list(power_events((DATA / name).read_text().splitlines()))


def rows(path: Path) -> list[str]:
    return path.read_bytes().decode().split("\r\n")[:-1]


def test_the_probe_reads_domains_idle_states_names_and_top_frequencies() -> None:
    assert [(c.column, c.domain, c.idle_states, c.max_frequency) for c in CPUS] == [
        ("0xd03 CPU0", (0, 1), ("WFI", "cluster-sleep"), 1000000),
        ("0xd03 CPU1", (0, 1), ("WFI", "cluster-sleep"), 1000000),
        ("0xd09 CPU2", (2,), ("WFI", "cluster-sleep"), 2000000)]
    assert cpustats.clusters(CPUS) == {"0": {0, 1}, "1": {2}, "all": {0, 1, 2}}
    bare = cpulayout.layout(None, 2)  # no device to ask: the trace's CPU count
    assert [(c.column, c.domain, c.idle_name(1)) for c in bare] == [
        ("cpu CPU0", (), "idle[1]"), ("cpu CPU1", (), "idle[1]")]


@pytest.mark.parametrize("name", LAYOUTS)
def test_both_trace_layouts_read_the_same_events(name: str) -> None:
    events = events_of(name)
    assert events == events_of(LAYOUTS[0])
    assert [e for e in events if isinstance(e, Marker)] == [
        Marker(100.0, "START"), Marker(101.0, "STOP")]
    assert Dropped(2) in events
    assert events[:4] == [Transition(99.9, 0, frequency=500000),
                          Transition(99.9, 1, frequency=500000),
                          Transition(99.9, 2, frequency=800000),
                          Transition(99.95, 0, idle_state=-1)]
    assert sum(isinstance(e, Transition) for e in events) == 17


@pytest.mark.parametrize("name", LAYOUTS)
def test_residency_and_parallelism_worked_out_by_hand(name: str) -> None:
    line = timeline(events_of(name), CPUS)
    figures = cpustats.stats(line, CPUS)
    assert figures is not None and math.isclose(figures.total, 1.0)
    shares = {state: [round(f * 100, 6) for f in row] for state, row in
              figures.residency.items()}
    assert shares == {"0500000KHz": [10, 0, 0], "0800000KHz": [0, 0, 70],
                      "1000000KHz": [60, 30, 0], "Running (unknown KHz)": [0, 0, 10],
                      "WFI": [10, 50, 10], "cluster-sleep": [20, 20, 0], "unknown": [0, 0, 10]}
    parallel = [(c, n, round(t, 6)) for c, n, t, _, _ in figures.parallel]
    assert parallel == [("0", 0, 0.2), ("0", 1, 0.6), ("0", 2, 0.2), ("1", 0, 0.2),
                        ("1", 1, 0.8), ("all", 0, 0.1), ("all", 1, 0.2), ("all", 2, 0.5),
                        ("all", 3, 0.2)]
    # the transitions as traced, up to the STOP marker: 16 (not the one after it)
    assert len(line.transitions) == 16 and line.transitions[-1].timestamp == 100.9
    assert line.problems == {}


def test_split_wfi_states_counts_wfi_per_frequency() -> None:
    line = timeline(events_of(LAYOUTS[0]), CPUS, split_wfi=True)
    figures = cpustats.stats(line, CPUS)
    assert figures is not None
    wfi = {state: [round(f * 100, 6) for f in row] for state, row in
           figures.residency.items() if state.startswith("WFI")}
    # CPU 1's WFI: 0.1 s at 500 MHz, then 0.1 + 0.3 s at 1 GHz
    assert wfi == {"WFI-0500000KHz": [0, 10, 0], "WFI-0800000KHz": [0, 0, 10],
                   "WFI-1000000KHz": [10, 40, 0]}


def test_a_trace_of_frequencies_only_with_no_idle() -> None:
    """No cpuidle: with no_idle, CPUs run from the start; without it they stay unknown."""
    text = textwrap.dedent("""\
        cpus=1
                  sh-1  [000]  10.000000: cpu_frequency:  state=300000 cpu_id=0
                  sh-1  [000]  10.250000: cpu_frequency:  state=600000 cpu_id=0
                  sh-1  [000]  11.000000: cpu_frequency:  state=300000 cpu_id=0
        """).splitlines()
    cpus = cpulayout.layout(None, 1)
    figures = cpustats.stats(timeline(power_events(text), cpus, no_idle=True), cpus)
    assert figures is not None and figures.residency == {"0300000KHz": [0.25],
                                                         "0600000KHz": [0.75]}
    unknown = cpustats.stats(timeline(power_events(text), cpus), cpus)
    assert unknown is not None and unknown.residency == {"unknown": [1.0]}


def test_a_trace_of_idle_events_only() -> None:
    text = textwrap.dedent("""\
        <idle>-0     [000] d..1.  5.000000: cpu_idle: state=4294967295 cpu_id=0
        <idle>-0     [000] d..1.  5.400000: cpu_idle: state=2 cpu_id=0
        <idle>-0     [000] d..1.  6.000000: cpu_idle: state=4294967295 cpu_id=0
        """).splitlines()
    cpus = cpulayout.layout(None, 1)
    figures = cpustats.stats(timeline(power_events(text), cpus), cpus)
    assert figures is not None
    assert {k: round(v[0], 6) for k, v in figures.residency.items()} == {
        "Running (unknown KHz)": 0.4, "idle[2]": 0.6}
    assert [(n, round(t, 6)) for c, n, t, _, _ in figures.parallel if c == "all"] == [
        (0, 0.6), (1, 0.4)]


RECORDED = """
def pytest_wa_job_extract_results(job):
    import shutil
    shutil.copy({trace!r}, job.output_directory / "trace.txt")
    job.add_artifact("trace-cmd-txt", "trace.txt", "export")
"""


def recorded_run(pytester: pytest.Pytester, monkeypatch, agenda: str) -> Path:
    """The agenda run with each job's trace the recorded one and the probe's CPUs."""
    monkeypatch.setattr(cpulayout, "probe", lambda target: PROBE)
    pytester.makeconftest(RECORDED.format(trace=str(DATA / LAYOUTS[0])))
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    result = pytester.runpytest("-p", "no:cacheprovider", "agenda.yaml")
    result.assert_outcomes(passed=2)
    return pytester.path / "wa_output"


def test_files_and_artifacts_of_a_recorded_trace(pytester, monkeypatch) -> None:
    output = recorded_run(pytester, monkeypatch, """
        config: {augmentations: [cpustates]}
        workloads:
          - {id: a, name: command, iterations: 2, params: {command: "true"}}
        """)
    job = RunOutput(output).job("a", 2)
    directory = job.path / "power-states"
    assert rows(directory / "power-state-stats.csv") == RESIDENCY
    assert rows(directory / "parallel-stats.csv") == PARALLEL
    timeline_rows = rows(directory / "power-state-timeline.csv")
    assert timeline_rows[:2] == ["ts,0xd03 CPU0,0xd03 CPU1,0xd09 CPU2",
                                 "100.0,500000,WFI,800000"]
    assert "100.6,1000000,WFI,unknown" in timeline_rows
    assert rows(directory / "utilization-timeline.csv")[1] == "100.0,0.5,,0.4"
    transitions = rows(directory / "state-transitions-timeline.csv")
    assert transitions[0] == "timestamp,cpu_id,frequency,idle_state"
    assert transitions[1:3] == ["99.9,0,500000,", "99.9,1,500000,"]
    assert len(transitions) == 17 and transitions[-1] == "100.9,1,,-1"
    assert {a.name: (a.path, a.kind) for a in job.artifacts if a.kind == "data"} == {
        name: (f"power-states/{file}", "data") for name, file in {
            "power-state-stats": "power-state-stats.csv", "parallel-stats": "parallel-stats.csv",
            "state-timeline": "power-state-timeline.csv",
            "transitions-timeline": "state-transitions-timeline.csv",
            "utilization-timeline": "utilization-timeline.csv"}.items()}
    assert rows(output / "parallel-stats.csv")[:2] == [
        "id,workload,iteration,cluster,number_of_cores,total_time,%time,%running_time",
        "a,command,1,0,0,0.200000,20.0,0.0"]
    run_states = rows(output / "power-state-stats.csv")
    assert run_states[0] == "id,workload,iteration,state,0xd03 CPU0,0xd03 CPU1,0xd09 CPU2"
    assert run_states[1:3] == ["a,command,1,0500000KHz,10.000,0.000,0.000",
                               "a,command,1,0800000KHz,0.000,0.000,70.000"]
    assert len(run_states) == 1 + 2 * 7
    assert {(a.name, a.path, a.kind) for a in RunOutput(output).artifacts} >= {
        ("run-parallel-stats", "parallel-stats.csv", "export"),
        ("run-power-state-stats", "power-state-stats.csv", "export")}


def test_use_ratios_and_a_job_without_trace(pytester, monkeypatch) -> None:
    """Ratios with three decimals; a job that does not enable cpustates is left alone,
    and one without a text trace is skipped with an event, not failed."""
    output = recorded_run(pytester, monkeypatch, """
        config:
          augmentations: [cpustates]
          cpustates: {use_ratios: true}
        workloads:
          - {id: a, name: command, params: {command: "true"}}
          - {id: b, name: command, params: {command: "true"},
             augmentations: [~cpustates]}
        """)
    assert rows(RunOutput(output).job("a", 1).path / "power-states" /
                "power-state-stats.csv")[1] == "0500000KHz,0.100,0.000,0.000"
    assert not (RunOutput(output).job("b", 1).path / "power-states").exists()


def test_a_job_without_a_trace_is_skipped_with_an_event(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [cpustates]}
        workloads:
          - {id: a, name: command, params: {command: "true"}}
        """))
    pytester.runpytest("-p", "no:cacheprovider", "agenda.yaml").assert_outcomes(passed=1)
    output = RunOutput(pytester.path / "wa_output")
    job = output.job("a", 1)
    assert job.status.name == "OK"
    assert any("cpustates: skipped: the job has no text trace" in e.message
               for e in job.events)
    assert not (job.path / "power-states").exists()
    assert not (output.path / "power-state-stats.csv").exists()


@needs_root
def test_a_real_trace_of_this_host(pytester: pytest.Pytester) -> None:
    """trace-cmd's power:cpu_idle events of this host (no cpufreq here: idle states only),
    every CPU's residency adding up to the whole span."""
    if shutil.which("trace-cmd") is None:
        pytest.skip("trace-cmd is not installed")
    result = traced_run(pytester, """
        config:
          augmentations: [trace-cmd, cpustates]
          trace-cmd: {events: ["power:cpu_idle", "power:cpu_frequency"]}
        workloads:
          - {id: busy, name: command, params: {command: "sleep 0.2; ls / >/dev/null"}}
        """)
    result.assert_outcomes(passed=1)
    output = RunOutput(pytester.path / "wa_output")
    job = output.job("busy", 1)
    assert job.status.name == "OK", job.events
    table = [row.split(",") for row in rows(job.path / "power-states" /
                                            "power-state-stats.csv")]
    cpus = [name for name in table[0][1:]]
    assert len(cpus) == len(cpulayout.cpu_list(Path("/sys/devices/system/cpu/present")
                                               .read_text()))
    for column in range(1, len(cpus) + 1):
        assert abs(sum(float(row[column]) for row in table[1:]) - 100) < 0.2 * len(table)
    assert any(float(x) > 0 for row in table[1:] if row[0] != "unknown" for x in row[1:])
    parallel = [row.split(",") for row in rows(job.path / "power-states" /
                                               "parallel-stats.csv")]
    assert abs(sum(float(r[3]) for r in parallel[1:] if r[0] == "all") - 100) < 0.5
    assert (output.path / "power-state-stats.csv").exists()
