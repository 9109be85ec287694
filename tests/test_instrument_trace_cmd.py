"""The trace-cmd instrument as users meet it: real ftrace traces of real workloads on this
host (through the trace-cmd program and through tracefs alone) and over SSH, a trace that
failed or stayed empty making the job PARTIAL, a device that cannot trace refused before
the first job, and no tracing left on afterwards, after a job_timeout too.

Tracing needs root: these runs are skipped without root (or password-less sudo).
"""

from __future__ import annotations

import re
import shutil
import sys

import pytest
from test_ssh_runs import device_config
from test_wa3_compat import job as wa3_job
from test_wa3_compat import wa3_view
from tracing_runs import (
    BUSY,
    REGISTER,
    as_root,
    between_markers,
    instance_of,
    interrupt_once,
    job_of,
    needs_root,
    path_without,
    phone,
    run,
    run_instance,
    tracefs_instances,
)

from pytest_wa.instruments.tracefs import match_events, parse_stop
from pytest_wa.testing.hidden_paths import hiding, why_paths_cannot_be_hidden

# --- reading what the kernel and the trace say ------------------------------------------

AVAILABLE = ["sched:sched_switch", "sched:sched_wakeup", "irq:irq_handler_entry",
             "irq_vectors:local_timer_entry", "power:cpu_idle", "thermal:thermal_zone_trip",
             "raw_syscalls:sys_enter"]


def test_event_patterns_select_as_trace_cmd_does() -> None:
    selected, unmatched = match_events(["sched*", "irq", "*:cpu_idle", "nosuch*", "raw_*:"],
                                       AVAILABLE)
    assert selected == ["sched:sched_switch", "sched:sched_wakeup", "irq:irq_handler_entry",
                        "power:cpu_idle", "raw_syscalls:sys_enter"]
    assert unmatched == ["nosuch*"]
    assert match_events(["irq*"], AVAILABLE)[0] == ["irq:irq_handler_entry",
                                                    "irq_vectors:local_timer_entry"]


#: Two CPUs' per_cpu/cpuN/stats, as Linux 6.18 prints them, after the stop script's facts.
STOP_OUTPUT = """@@pytest-wa tracing_on=1
entries: 1500
overrun: 0
commit overrun: 0
bytes: 98304
oldest event ts: 10133.101500
now ts: 10133.152921
dropped events: 0
read events: 0
entries: 842
overrun: 120
commit overrun: 0
bytes: 65536
oldest event ts: 10133.100400
now ts: 10133.152930
dropped events: 3
read events: 0
"""


def test_stop_counts_the_events_without_the_two_markers() -> None:
    stop = parse_stop(STOP_OUTPUT, "pytest-wa-1", {})
    assert (stop.tracing_on, stop.entries, stop.overrun, stop.dropped) == (True, 2342, 120, 3)
    assert stop.events == 2342 + 120 - 2 and stop.lost == 123
    switched_off = parse_stop(STOP_OUTPUT.replace("tracing_on=1", "tracing_on=0"), "x", {})
    assert not switched_off.tracing_on and switched_off.events == 2342 + 120 - 1
    assert parse_stop("@@pytest-wa tracing_on=1\nentries: 2\n", "x", {}).events == 0


# --- real traces on this host -----------------------------------------------------------

@needs_root
def test_trace_cmd_program_traces_the_workload(pytester: pytest.Pytester) -> None:
    """WA3's defaults (sched*, irq*, power*, thermal*): trace.dat and its report, the
    workload's scheduling between the markers, and the instance gone afterwards."""
    if shutil.which("trace-cmd") is None:
        pytest.skip("trace-cmd is not installed")
    result = run(pytester, f"""
        config:
          augmentations: [trace-cmd]
          trace-cmd: {{buffer_size: 8000}}  # room for WA3's default events on a busy host
        workloads:
          - {{id: busy, name: command, params: {{command: "{BUSY}"}}}}
        """)
    result.assert_outcomes(passed=1)
    job = job_of(pytester, "busy")
    assert job.status.name == "OK"
    kinds = {artifact.name: (artifact.path, artifact.kind) for artifact in job.artifacts}
    assert kinds["trace-cmd-bin"] == ("trace.dat", "data")
    assert kinds["trace-cmd-txt"] == ("trace.txt", "export")
    text = job.artifact_path("trace-cmd-txt").read_text()
    instance = instance_of(job)
    assert instance == run_instance(pytester)
    assert text.startswith("cpus=") and f"{instance}:" in text  # trace-cmd report's layout
    traced = between_markers(text)
    assert any("sched_switch:" in line for line in traced)
    assert any("sched_process_exec:" in line and "ls" in line for line in traced)
    assert instance not in tracefs_instances()
    seen = wa3_job(wa3_view(pytester.path / "wa_output"), "busy")
    assert {(a["name"], a["kind"], a["path"]) for a in seen["artifacts"]} >= {
        ("trace-cmd-bin", "data", "trace.dat"), ("trace-cmd-txt", "export", "trace.txt")}


@needs_root
def test_wa3_spelling_trace_cmd_enables_it(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        config:
          augmentations: [trace_cmd]
          trace_cmd: {method: tracefs, events: [sched_switch]}
        workloads:
          - {id: a, name: command, params: {command: "sleep 0.1"}}
        """)
    result.assert_outcomes(passed=1)
    assert "trace-cmd-txt" in [artifact.name for artifact in job_of(pytester, "a").artifacts]


@needs_root
def test_tracefs_alone_when_the_device_has_no_trace_cmd(pytester, monkeypatch) -> None:
    monkeypatch.setenv("PATH", path_without(pytester, "trace-cmd"))
    result = run(pytester, f"""
        config:
          augmentations: [trace-cmd]
          trace-cmd: {{events: ["sched:sched_switch", "sched:sched_process_exec"],
                      buffer_size: 2048}}
        workloads:
          - {{id: busy, name: command, params: {{command: "{BUSY}"}}}}
        """)
    result.assert_outcomes(passed=1)
    job = job_of(pytester, "busy")
    assert [artifact.name for artifact in job.artifacts] == ["output", "trace-cmd-txt"]
    text = job.artifact_path("trace-cmd-txt").read_text()
    assert text.startswith("# tracer: nop")  # the kernel's own text of the trace
    traced = between_markers(text)
    assert any("sched_switch:" in line for line in traced)
    assert any(re.search(r"sched_process_exec: filename=\S*/ls ", line) for line in traced)
    assert not any("sched_wakeup" in line for line in traced)  # only what was asked for
    assert instance_of(job) not in tracefs_instances()


@needs_root
def test_a_buffer_too_small_for_the_job_loses_events_with_a_note(pytester) -> None:
    """buffer_size is applied: 64 KB per CPU cannot hold a second of WA3's default events;
    the trace keeps its end, and the job says how many events it lost (WA3 logs it)."""
    result = run(pytester, """
        config:
          augmentations: [trace-cmd]
          trace-cmd: {buffer_size: 64, method: tracefs}
        workloads:
          - {id: busy, name: command, params: {command: "ls -R /usr > /dev/null; sleep 0.5"}}
        """)
    result.assert_outcomes(passed=1)
    job = job_of(pytester, "busy")
    assert job.status.name == "OK"
    assert any(re.fullmatch(r"trace-cmd: \d+ events were lost \(the ring buffer was full\); "
                            r"a larger buffer_size keeps them", event.message)
               for event in job.events), [event.message for event in job.events]
    assert [artifact.name for artifact in job.artifacts] == ["output", "trace-cmd-txt"]
    text = job.artifact_path("trace-cmd-txt").read_text()  # the kernel's, though trace-cmd
    assert text.startswith("# tracer: nop")  # is installed here: method: tracefs
    # the end is kept; the start marker survives only if its CPU's own buffer did not
    # fill (the ring buffer is per CPU), so whether it is there depends on the machine
    assert "TRACE_MARKER_STOP" in text


@needs_root
def test_report_false_keeps_trace_dat_alone(pytester: pytest.Pytester) -> None:
    if shutil.which("trace-cmd") is None:
        pytest.skip("trace-cmd is not installed")
    result = run(pytester, f"""
        config:
          augmentations: [trace-cmd]
          trace-cmd: {{report: false, events: [sched_switch]}}
        workloads:
          - {{id: busy, name: command, params: {{command: "{BUSY}"}}}}
        """)
    result.assert_outcomes(passed=1)
    job = job_of(pytester, "busy")
    assert [artifact.name for artifact in job.artifacts] == ["output", "trace-cmd-bin"]
    assert job.artifact_path("trace-cmd-bin").stat().st_size > 0


@needs_root
def test_a_trace_without_events_makes_the_job_partial(pytester: pytest.Pytester) -> None:
    """A hung-task event never fires in a second: the trace is empty, so PARTIAL (WA3 3.3.1
    leaves such a job OK), and the trace is still kept."""
    result = run(pytester, """
        config:
          augmentations: [trace-cmd]
          max_retries: 0
          trace-cmd: {events: ["sched:sched_process_hang"], method: tracefs}
        workloads:
          - {id: quiet, name: command, params: {command: "sleep 0.2"}}
        """)
    result.assert_outcomes(failed=1)
    job = job_of(pytester, "quiet")
    assert job.status.name == "PARTIAL"
    messages = " ".join(event.message for event in job.events)
    assert "instrument 'trace-cmd' failed" in messages
    assert "the trace holds no events, though it traced sched:sched_process_hang" in messages
    assert "TRACE_MARKER_STOP" in job.artifact_path("trace-cmd-txt").read_text()


@needs_root
def test_tracing_switched_off_during_the_job_is_partial(pytester: pytest.Pytester) -> None:
    """Something else switches the trace off mid-job: PARTIAL, naming what happened."""
    switch_off = ("T=$(grep -m1 ' tracefs ' /proc/mounts | cut -d' ' -f2); "
                  "echo 0 > $T/instances/pytest-wa-$PPID/tracing_on; sleep 0.1")
    result = run(pytester, f"""
        config: {{augmentations: [trace-cmd], max_retries: 0}}
        workloads:
          - {{id: cut, name: command, params: {{command: "{switch_off}", as_root: true}}}}
          - {{id: fine, name: command, params: {{command: "{BUSY}"}}}}
        """)
    result.assert_outcomes(passed=1, failed=1)
    job = job_of(pytester, "cut")
    assert job.status.name == "PARTIAL", [event.message for event in job.events]
    assert any("tracing was switched off during the job" in event.message
               for event in job.events)
    assert job_of(pytester, "fine").status.name == "OK"


@needs_root
def test_events_the_device_lacks_are_refused_before_the_first_job(pytester) -> None:
    result = run(pytester, """
        config:
          augmentations: [trace-cmd]
          trace-cmd: {events: [no_such_event_xyz, "nosys:*"]}
        workloads:
          - {id: a, name: command, params: {command: "true"}}
        """)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*instrument 'trace-cmd' cannot work on device 'local'*"
                                 "none of the events no_such_event_xyz, nosys:* exists on "
                                 "this device*available_events*optional: true*"])
    assert not (pytester.path / "wa_output").exists()


@needs_root
def test_optional_leaves_it_out_and_unknown_patterns_are_a_note(pytester) -> None:
    result = run(pytester, """
        config:
          augmentations: [trace-cmd]
          trace-cmd: {events: [no_such_event_xyz], optional: true}
        workloads:
          - {id: a, name: command, params: {command: "true"}}
        """)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*the run goes on without it (optional: true)*"])
    assert job_of(pytester, "a").artifacts[0].name == "output"
    pytester.path.joinpath("wa_output").rename(pytester.path / "first")
    result = run(pytester, """
        config:
          augmentations: [trace-cmd]
          trace-cmd: {events: [sched_switch, no_such_event_xyz], method: tracefs}
        workloads:
          - {id: a, name: command, params: {command: "sleep 0.1"}}
        """)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*trace-cmd: no event of this device matches "
                                 "no_such_event_xyz; traced without them*"])
    assert job_of(pytester, "a").status.name == "OK"


@needs_root
def test_functions_the_kernel_cannot_trace_are_refused(pytester) -> None:
    result = run(pytester, """
        config:
          augmentations: [trace-cmd]
          trace-cmd: {functions: [no_such_kernel_function_xyz]}
        workloads:
          - {id: a, name: command, params: {command: "true"}}
        """)
    assert result.ret != 0
    text = result.stderr.str()
    assert "instrument 'trace-cmd' cannot work on device 'local': functions: " in text
    if as_root("cat $(grep -m1 ' tracefs ' /proc/mounts | cut -d' ' -f2)/"
               "available_filter_functions | head -1"):
        assert "no_such_kernel_function_xyz cannot be traced" in text
    else:  # a kernel that hides them (this CI's VM: Operation not permitted)
        assert "the kernel does not let functions be traced here" in text


@needs_root
def test_job_timeout_leaves_no_tracing_on(pytester: pytest.Pytester) -> None:
    """The workload is killed at its job_timeout; the trace is still stopped, its instance
    removed (the job is FAILED: its own failure, not the instrument's)."""
    result = run(pytester, """
        config: {augmentations: [trace-cmd]}
        workloads:
          - {id: long, name: command, params: {command: "sleep 30"}}
        """, "--wa-job-timeout=1")
    result.assert_outcomes(failed=1)
    assert job_of(pytester, "long").status.name == "FAILED"
    assert run_instance(pytester) not in tracefs_instances()


# --- devices that cannot trace, and a board over SSH ------------------------------------

def test_tracefs_on_a_rooted_phone(pytester, wa_simulated_device, monkeypatch) -> None:
    """Over adb, as root: the phone's tracefs (the host kernel's ftrace, shared with the
    simulated phone) traces the job's commands on the phone."""
    options = phone(pytester, wa_simulated_device, monkeypatch, root=True)
    result = run(pytester, """
        config:
          augmentations: [trace-cmd]
          trace-cmd: {method: tracefs, events: ["sched:sched_process_exec"]}
        workloads:
          - {id: a, name: command, params: {command: "sleep 0.1; ls /system > /dev/null"}}
        """, *options)
    result.assert_outcomes(passed=1)
    traced = between_markers(job_of(pytester, "a").artifact_path("trace-cmd-txt").read_text())
    assert any(re.search(r"sched_process_exec: filename=\S*/ls ", line) for line in traced)


def test_an_unrooted_phone_is_refused(pytester, wa_simulated_device, monkeypatch) -> None:
    options = phone(pytester, wa_simulated_device, monkeypatch, root=False)
    result = run(pytester, "config: {augmentations: [trace-cmd]}\n"
                           "workloads: [{id: a, name: command, params: {command: 'true'}}]\n",
                 *options)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*instrument 'trace-cmd' cannot work on device 'phone': "
                                 "tracing needs root*as_root needs root: set adb_as_root: "
                                 "true*optional: true*"])
    assert not (pytester.path / "wa_output").exists()


@needs_root
def test_a_kernel_without_tracefs_or_trace_cmd_is_refused(pytester, monkeypatch) -> None:
    """No tracefs to be seen (an empty directory over each place it lives) and no right to
    mount one (CAP_SYS_ADMIN dropped), no trace-cmd either: refused before the first job."""
    why = why_paths_cannot_be_hidden()
    if why or shutil.which("setpriv") is None:
        pytest.skip(why or "setpriv is missing (util-linux)")
    monkeypatch.setenv("PATH", path_without(pytester, "trace-cmd"))
    pytester.makeconftest(REGISTER)
    pytester.makefile(".yaml", agenda="config: {augmentations: [trace-cmd]}\n"
                      "workloads: [{id: a, name: command, params: {command: 'true'}}]\n")
    argv = hiding(["/sys/kernel/tracing", "/sys/kernel/debug"], [
        "setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", sys.executable, "-m",
        "pytest", "-p", "no:cacheprovider", "agenda.yaml"])
    result = pytester.run(*argv, timeout=120)
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*instrument 'trace-cmd' cannot work on device 'local': the "
                                 "kernel has no tracefs*could not be mounted there*"])


@needs_root
@pytest.mark.usefixtures("home")
def test_over_ssh_reported_on_the_board(pytester, wa_sshd) -> None:
    """A board over SSH (this host through sshd): trace-cmd's trace.dat and a report made
    on the board; both pulled, the board's instance removed."""
    if shutil.which("trace-cmd") is None:
        pytest.skip("trace-cmd is not installed")
    device_config(pytester, wa_sshd, working_directory=str(pytester.path / "board"))
    result = run(pytester, f"""
        config:
          augmentations: [trace-cmd]
          trace-cmd: {{events: ["sched:*"], report_on_target: true}}
        workloads:
          - {{id: busy, name: command, params: {{command: "{BUSY}"}}}}
        """, "--wa-config=lab.yaml", "--wa-device=board")
    result.assert_outcomes(passed=1)
    job = job_of(pytester, "busy")
    assert {artifact.name for artifact in job.artifacts} >= {"trace-cmd-bin", "trace-cmd-txt"}
    text = job.artifact_path("trace-cmd-txt").read_text()
    assert text.startswith("cpus=")
    assert any("sched_switch:" in line for line in between_markers(text))
    assert run_instance(pytester) not in tracefs_instances()


@needs_root
def test_ctrl_c_leaves_no_tracing_on(pytester: pytest.Pytester) -> None:
    """Ctrl-C while the workload runs: the run is interrupted, the job ABORTED, and the
    trace's instance removed before pytest exits."""
    pytester.makeconftest(REGISTER)
    pytester.makefile(".yaml", agenda="config: {augmentations: [trace-cmd]}\n"
                      "workloads: [{id: long, name: command, params: {command: 'sleep 30'}}]\n")
    interrupt_once(pytester, lambda: (pytester.path / "run.pid").exists()
                   and run_instance(pytester) in tracefs_instances())
    assert run_instance(pytester) not in tracefs_instances()
    assert job_of(pytester, "long").status.name == "ABORTED"
