"""The perf instrument as users meet it: perf stat's counters read right from recorded
outputs (fractional values, units, per-CPU lines, CSV, digit grouping, <not counted>),
and real runs of perf stat and perf record on this host and over SSH that stop only their
own perf, leave none behind (after a job_timeout too), and make a job whose counts are
missing PARTIAL.

The outputs under tests/data/outputs/perf-6.1-*.txt are Debian 12's linux-perf 6.1 on a
2-CPU x86_64 VM (Linux 6.18), unedited: ``perf stat -a`` with the options in their names,
stopped with SIGINT as the instrument stops it (the grouped one in en_US.UTF-8, the
<not counted> one from ``--delay 1000 -- sleep 0.1``), and ``perf report`` of a
``perf record -a -e cpu-migrations -e context-switches``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_ssh_runs import device_config
from test_wa3_compat import job as wa3_job
from test_wa3_compat import wa3_view
from test_workload_sysbench import check_ctrl_c_kills
from tracing_runs import (
    REGISTER,
    Bystanders,
    job_of,
    needs_root,
    path_without,
    perf_processes,
    run,
)

from pytest_wa.instruments.perf_parse import Count, parse_report, parse_stat, separator

OUTPUTS = Path(__file__).resolve().parent / "data" / "outputs"
SOFTWARE = "[task-clock, context-switches, cpu-migrations, page-faults]"
BUSY = "sleep 0.2; ls -R /usr/lib > /dev/null; sleep 0.1"


def counts(name: str, sep: str | None = None) -> list[tuple]:
    text = (OUTPUTS / f"perf-6.1-{name}.txt").read_text()
    return [(c.event, c.value, c.units, c.cpu, c.missing) for c in parse_stat(text, sep)]


# --- perf stat's output -----------------------------------------------------------------

def test_system_wide_counts_with_fractions_and_units() -> None:
    assert counts("stat-system-wide") == [
        ("task-clock", 3581.06, "msec", None, ""), ("context-switches", 2798, "count", None, ""),
        ("cpu-migrations", 70, "count", None, ""), ("page-faults", 31873, "count", None, "")]


def test_wa3_default_events() -> None:
    assert counts("stat-wa3-default-events") == [
        ("cpu-migrations", 160, "count", None, ""), ("context-switches", 4067, "count", None, "")]


def test_digit_grouping_of_a_locale() -> None:
    assert counts("stat-en_US-grouping") == [
        ("task-clock", 7454.11, "msec", None, ""), ("context-switches", 6274, "count", None, ""),
        ("cpu-migrations", 144, "count", None, ""), ("page-faults", 77745, "count", None, "")]


PER_CPU = [("task-clock", 1951.61, "msec", 0, ""), ("task-clock", 1955.98, "msec", 1, ""),
           ("context-switches", 1064, "count", 0, ""), ("context-switches", 1500, "count", 1, ""),
           ("cpu-migrations", 17, "count", 0, ""), ("cpu-migrations", 29, "count", 1, ""),
           ("page-faults", 11365, "count", 0, ""), ("page-faults", 36728, "count", 1, "")]


def test_per_cpu_lines_name_their_cpu() -> None:
    assert counts("stat-per-cpu") == PER_CPU


def test_csv_fields() -> None:
    assert counts("stat-csv", ",") == [
        ("task-clock", 3708.10, "msec", None, ""), ("context-switches", 3151, "count", None, ""),
        ("cpu-migrations", 83, "count", None, ""), ("page-faults", 45905, "count", None, ""),
        ("cycles", None, "count", None, "<not supported>")]
    assert counts("stat-csv-per-cpu", ",")[:3] == [
        ("task-clock", 2017.25, "msec", 0, ""), ("task-clock", 2017.24, "msec", 1, ""),
        ("context-switches", 2342, "count", 0, "")]
    assert len(counts("stat-csv-per-cpu", ",")) == 8


def test_counters_without_a_number() -> None:
    assert counts("stat-not-supported") == [
        ("cycles", None, "count", None, "<not supported>"),
        ("instructions", None, "count", None, "<not supported>"),
        ("task-clock", 3354.83, "msec", None, ""), ("context-switches", 2906, "count", None, "")]
    assert counts("stat-not-counted") == [
        ("task-clock", None, "msec", None, "<not counted>"),
        ("context-switches", None, "count", None, "<not counted>")]


def test_lines_outside_the_counters_are_not_counters() -> None:
    """'seconds user' after the counters is no event; neither are perf's own notes."""
    text = (OUTPUTS / "perf-6.1-stat-not-counted.txt").read_text()
    assert "seconds user" in text and "Events enabled" in text
    assert {count.event for count in parse_stat(text)} == {"task-clock", "context-switches"}
    assert parse_stat("perf: no permission\n") == []
    assert parse_stat("  1.0  msec task-clock\n") == []  # no header: not perf stat's counters
    assert parse_stat("\n Performance counter stats for 'sleep':\n\n 12  cs  (50.00%)\n") == [
        Count("cs", 12, "count")]


@pytest.mark.parametrize(("options", "sep"), [
    ("-a", None), ("-a -x,", ","), ("-a -x ';'", ";"), ("--field-separator=| -a", "|"),
    ("-a --field-separator ,", ",")])
def test_the_separator_comes_from_the_options(options: str, sep: str | None) -> None:
    assert separator(options) == sep


def test_report_lines_under_their_event() -> None:
    rows = parse_report((OUTPUTS / "perf-6.1-record-report.txt").read_text())
    assert rows[0].event == "cpu-migrations" and rows[0].percent == 48.72
    assert rows[0].columns == {"Command": "bash", "Shared Object": "[kernel.kallsyms]",
                               "Symbol": "[k] __schedule"}
    last = rows[-1]
    assert (last.event, last.percent, last.columns["Command"]) == (
        "context-switches", 0.07, "tail")
    assert [row.columns["Command"] for row in rows if row.event == "context-switches"][:2] == [
        "memfd:sealed-91", "lat_mem_rd"]
    by_event = {event: round(sum(r.percent for r in rows if r.event == event), 2)
                for event in ("cpu-migrations", "context-switches")}
    assert by_event == {"cpu-migrations": 99.99, "context-switches": 99.97}
    assert len(rows) == 37


# --- real runs --------------------------------------------------------------------------

@pytest.fixture
def bystander():
    others = Bystanders()
    yield others
    others.stop()


@needs_root
def test_wa3_defaults_count_the_whole_system(pytester, bystander) -> None:
    result = run(pytester, f"""
        config: {{augmentations: [perf]}}
        workloads:
          - {{id: busy, name: command, params: {{command: "{BUSY}"}}}}
        """)
    result.assert_outcomes(passed=1)
    job = job_of(pytester, "busy")
    metrics = {m.name: m for m in job.metrics}
    assert set(metrics) == {"perf_0_cpu-migrations", "perf_0_context-switches"}
    switches = metrics["perf_0_context-switches"]
    assert isinstance(switches.value, int) and switches.value > 0
    assert (switches.units, switches.lower_is_better) == ("count", False)
    artifact = next(a for a in job.artifacts if a.name == "perf_0")
    assert (artifact.path, artifact.kind) == ("perf/perf_0.out", "raw")
    assert "Performance counter stats for 'system wide'" in (job.path / artifact.path).read_text()
    assert bystander.alive()  # only its own perf was signalled
    assert perf_processes(pytester.path) == []


@needs_root
def test_fractional_counters_per_label_and_cpu(pytester) -> None:
    result = run(pytester, f"""
        config:
          augmentations: [perf]
          perf: {{events: {SOFTWARE}, optionstring: ["-a", "-a -A -x,"], labels: [all, cpus]}}
        workloads:
          - {{id: busy, name: command, params: {{command: "{BUSY}"}}}}
        """)
    result.assert_outcomes(passed=1)
    job = job_of(pytester, "busy")
    clock = job.metric("all_task-clock")
    assert isinstance(clock.value, float) and clock.value > 0 and clock.units == "msec"
    assert job.metric("all_page-faults").units == "count"
    per_cpu = [m for m in job.metrics if m.name == "cpus_task-clock"]
    assert sorted(m.classifiers["cpu"] for m in per_cpu) == list(range(os.cpu_count() or 1))
    assert all(m.units == "msec" and m.value > 0 for m in per_cpu)
    assert {a.name: a.path for a in job.artifacts if a.kind == "raw"} == {
        "all": "perf/all.out", "cpus": "perf/cpus.out"}
    assert perf_processes(pytester.path) == []
    seen = wa3_job(wa3_view(pytester.path / "wa_output"), "busy")
    assert {(m["name"], m["value"], m["units"]) for m in seen["metrics"]} == {
        (m.name, m.value, m.units) for m in job.metrics}
    assert ("cpus", "raw", "perf/cpus.out") in {(a["name"], a["kind"], a["path"])
                                                 for a in seen["artifacts"]}


@needs_root
def test_record_keeps_its_report(pytester) -> None:
    result = run(pytester, f"""
        config:
          augmentations: [perf]
          perf: {{command: record, events: [context-switches]}}
        workloads:
          - {{id: busy, name: command, params: {{command: "{BUSY}"}}}}
        """)
    result.assert_outcomes(passed=1)
    job = job_of(pytester, "busy")
    artifact = next(a for a in job.artifacts if a.name == "perf_0")
    assert (artifact.path, artifact.kind) == ("perf/perf_0.rpt", "raw")
    assert "of event 'context-switches'" in (job.path / artifact.path).read_text()
    rows = [m for m in job.metrics if m.name == "perf_0_context-switches_Overhead"]
    assert rows and all(m.units == "percent" for m in rows)
    assert set(rows[0].classifiers) >= {"Command", "Shared Object", "Symbol"}
    assert 99.5 <= sum(m.value for m in rows) <= 100.5  # each line rounded to 0.01
    assert perf_processes(pytester.path) == []


@needs_root
def test_perf_killed_during_the_job_makes_it_partial(pytester) -> None:
    """perf dies mid-job (here: killed by the workload): no counts, so PARTIAL; the next job
    starts its own perf and is OK."""
    result = run(pytester, """
        config: {augmentations: [perf], max_retries: 0}
        workloads:
          - {id: kill, name: command, params: {command: "kill -KILL $(cat perf_0.pid)"}}
          - {id: next, name: command, params: {command: "sleep 0.2"}}
        """)
    result.assert_outcomes(passed=1, failed=1)
    job = job_of(pytester, "kill")
    assert job.status.name == "PARTIAL"
    assert any("instrument 'perf' failed" in e.message and "printed no counts" in e.message
               for e in job.events), [e.message for e in job.events]
    assert job_of(pytester, "next").metric("perf_0_context-switches").value > 0


@needs_root
@pytest.mark.parametrize("command", ["stat", "record"])
def test_events_perf_cannot_count_are_refused_before_the_first_job(pytester, command) -> None:
    result = run(pytester, f"""
        config:
          augmentations: [perf]
          perf: {{events: [no-such-event-xyz], command: {command}}}
        workloads:
          - {{id: a, name: command, params: {{command: "true"}}}}
        """)
    assert result.ret != 0
    result.stderr.fnmatch_lines([f"*instrument 'perf' cannot work on device 'local': perf "
                                 f"{command} -a -e no-such-event-xyz failed in a trial run: "
                                 "event syntax error: 'no-such-event-xyz'; *parser error; Run "
                                 "'perf list' for a list of valid events. To run without it*"])
    assert not (pytester.path / "wa_output").exists()


def hardware_counters() -> bool:
    done = subprocess.run(["perf", "stat", "-x,", "-e", "cycles", "--", "true"],
                          capture_output=True, text=True, check=False)
    return "<not supported>" not in done.stderr and done.returncode == 0


@needs_root
@pytest.mark.skipif(hardware_counters(), reason="this host's CPU counts cycles")
def test_hardware_counters_a_vm_lacks_are_refused(pytester) -> None:
    result = run(pytester, """
        config:
          augmentations: [perf]
          perf: {events: [cycles, context-switches], optional: true}
        workloads:
          - {id: a, name: command, params: {command: "true"}}
        """)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*perf cannot count cycles here (<not supported>*"
                                 "the run goes on without it (optional: true)*"])
    assert job_of(pytester, "a").metrics == []


@needs_root
def test_a_device_without_perf_is_refused(pytester, monkeypatch) -> None:
    monkeypatch.setenv("PATH", path_without(pytester, "perf"))
    result = run(pytester, "config: {augmentations: [perf]}\n"
                           "workloads: [{id: a, name: command, params: {command: 'true'}}]\n")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*instrument 'perf' cannot work on device 'local': the "
                                 "device has no perf program*"])


@pytest.mark.parametrize(("config", "message"), [
    ("{perf_type: simpleperf}", "simpleperf is not supported by pytest-wa yet"),
    ("{optionstring: ['-a', '-a -A'], labels: [x]}", "1 labels for 2 option strings"),
    ("{optionstring: '--no-big-num'}", "names nothing to watch: add -a"),
    ("{report_option_string: '--stdio'}", "only works with command: record"),
    ("{command: record, run_report_sample: true}", "perf has no report-sample command"),
])
def test_parameter_mistakes_are_refused_at_collection(pytester, config: str, message: str
                                                      ) -> None:
    result = run(pytester, f"config: {{augmentations: [perf], perf: {config}}}\n"
                           "workloads: [{id: a, name: command, params: {command: 'true'}}]\n")
    assert result.ret != 0  # at collection, located: nothing runs
    result.stdout.fnmatch_lines([f"*agenda.yaml:1: config.perf: instrument 'perf': *{message}*"])
    assert not (pytester.path / "wa_output").exists()


@needs_root
def test_job_timeout_stops_perf_with_its_counts(pytester) -> None:
    result = run(pytester, """
        config: {augmentations: [perf]}
        workloads:
          - {id: long, name: command, params: {command: "sleep 30"}}
        """, "--wa-job-timeout=1")
    result.assert_outcomes(failed=1)
    job = job_of(pytester, "long")
    assert job.status.name == "FAILED"
    assert job.metric("perf_0_context-switches").value > 0  # counted until the timeout
    assert perf_processes(pytester.path) == []


@needs_root
@pytest.mark.usefixtures("home")
def test_over_ssh(pytester, wa_sshd, bystander) -> None:
    device_config(pytester, wa_sshd, working_directory=str(pytester.path / "board"))
    result = run(pytester, f"""
        config:
          augmentations: [perf]
          perf: {{events: {SOFTWARE}}}
        workloads:
          - {{id: busy, name: command, params: {{command: "{BUSY}"}}}}
        """, "--wa-config=lab.yaml", "--wa-device=board")
    result.assert_outcomes(passed=1)
    job = job_of(pytester, "busy")
    assert job.metric("perf_0_task-clock").units == "msec"
    assert job.metric("perf_0_context-switches").value > 0
    assert bystander.alive()
    assert perf_processes(pytester.path) == []


@needs_root
def test_ctrl_c_leaves_no_perf(pytester: pytest.Pytester) -> None:
    """Ctrl-C while the workload runs: the run is interrupted, the job ABORTED, and its
    perf stopped like at the end of any job."""
    pytester.makeconftest(REGISTER)
    pytester.makefile(".yaml", agenda="config: {augmentations: [perf]}\n"
                      "workloads: [{id: long, name: command, params: {command: 'sleep 30'}}]\n")
    check_ctrl_c_kills(pytester, "perf")
