"""The file_poller instrument: files read on the target every few milliseconds while the
workload runs, into one CSV; on this host and on the simulated phone."""

from __future__ import annotations

import csv
import os

import pytest
from host_instruments import (
    agenda,
    output,
    phone_device,
    processes_running,
    register,
    run_on_board,
)
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa.instruments.file_poller import (
    TRACING,
    generate_labels,
    parse_values,
    read_command,
)

#: Counts to 30, one step every 30 ms, into {dir}/a/count; writes a two-line file. Each
#: file is replaced whole (mv), so that no sample sees it half written.
COUNTER = ("printf 'x,1\\ny' > {dir}/t; mv {dir}/t {dir}/b/text; i=0; while [ $i -lt 30 ]; "
           "do i=$((i+1)); echo $i > {dir}/t; mv {dir}/t {dir}/a/count; sleep 0.03; done")


def rows(job) -> list[dict[str, str]]:
    return list(csv.DictReader((job.path / "poller.csv").open()))


def test_on_this_host(pytester: pytest.Pytester, subtests: pytest.Subtests) -> None:
    for name in ("a", "b"):
        (pytester.path / name).mkdir()
    (pytester.path / "a" / "count").write_text("0\n")
    (pytester.path / "b" / "text").write_text("start\n")
    register(pytester, "file_poller")
    agenda(pytester, f"""
        config:
          augmentations: [file_poller]
          file_poller:
            sample_interval: 20
            files: [{pytester.path}/a/count, {pytester.path}/b/text, /proc/sys/fs/file-nr]
        workloads:
          - {{id: count, name: command, params: {{command: "{COUNTER.format(dir=pytester.path)}"}}}}
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    job = output(pytester).job("count", 1)
    assert {a.name: a.kind for a in job.artifacts if a.name.startswith("poller")} == {
        "poller-output": "data", "poller-log": "log"}
    found = rows(job)
    header = list(found[0])  # WA3's labels: the path parts that differ (beyond the
    assert header[0] == "time" and header[3].endswith("proc-sys-fs-file-nr")  # shortest: all)
    assert header[1].endswith(f"{pytester.path.name}-a-count")
    assert header[2].endswith(f"{pytester.path.name}-b-text")
    found = [dict(zip(["time", "a-count", "b-text", "file-nr"], row.values(),
                      strict=True)) for row in found]
    counts = [int(row["a-count"]) for row in found]
    assert counts == sorted(counts) and counts[-1] > counts[0]
    assert {row["b-text"] for row in found} <= {"start", "x1 y"}  # no commas, one line
    assert "x1 y" in {row["b-text"] for row in found}
    times = [float(row["time"]) for row in found]
    assert times == sorted(times) and len(times) >= 3
    assert all(len(row["file-nr"].split()) == 3 for row in found)  # /proc/sys: read whole
    assert (job.path / "poller.log").read_text() == ""
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


def test_globs_on_the_simulated_phone(pytester: pytest.Pytester, wa_simulated_device,
                                      monkeypatch) -> None:
    """Every CPU's current frequency, as the shell user; a glob is expanded once."""
    register(pytester, "file_poller")
    agenda(pytester, """
        config:
          augmentations: [file_poller]
          file_poller: {files: ["/sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq"],
                        sample_interval: 50}
        workloads: [{id: job, name: command, params: {command: "sleep 0.5"}}]
    """)
    phone_device(pytester, wa_simulated_device, monkeypatch, root=False)
    run_on_board(pytester).assert_outcomes(passed=1)
    found = rows(output(pytester).job("job", 1))
    assert list(found[0]) == ["time", *(f"cpu{n}-scaling_cur_freq" for n in range(8))]
    assert len(found) >= 5
    assert all(value.isdigit() and int(value) > 0 for row in found
               for key, value in row.items() if key != "time")


@pytest.mark.parametrize("command", ["sleep 0.6; exit 3", "sleep 30"])
def test_no_sampler_outlives_a_failed_or_timed_out_job(pytester: pytest.Pytester,
                                                       command: str) -> None:
    polled = pytester.path / "polled-by-this-test"
    polled.write_text("1\n")
    register(pytester, "file_poller")
    agenda(pytester, f"""
        config: {{augmentations: [file_poller], job_timeout: 1.5, max_retries: 0,
                 file_poller: {{files: [{polled}], sample_interval: 50}}}}
        workloads: [{{id: job, name: command, params: {{command: "{command}"}}}}]
    """)
    pytester.runpytest().assert_outcomes(failed=1)
    assert processes_running(str(polled)) == []
    job = output(pytester).job("job", 1)
    assert job.status.name == "FAILED"
    assert len(rows(job)) >= 2


def test_a_job_over_before_the_first_sample_gets_one(pytester: pytest.Pytester) -> None:
    register(pytester, "file_poller")
    agenda(pytester, """
        config: {augmentations: [file_poller], file_poller: {files: [/proc/uptime]}}
        workloads: [{id: job, name: idle, params: {duration: 0}}]
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    found = rows(output(pytester).job("job", 1))
    assert len(found) == 1 and len(found[0]["uptime"].split()) == 2


def test_a_file_gone_during_the_job_is_an_event(pytester: pytest.Pytester) -> None:
    polled = pytester.path / "goes-away"
    polled.write_text("1\n")
    register(pytester, "file_poller")
    agenda(pytester, f"""
        config: {{augmentations: [file_poller],
                 file_poller: {{files: [{polled}], sample_interval: 50, labels: [value]}}}}
        workloads: [{{id: job, name: command, params: {{command: "sleep 0.3; rm {polled};
                                                                  sleep 0.3"}}}}]
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    job = output(pytester).job("job", 1)
    values = [row["value"] for row in rows(job)]
    assert values[0] == "1" and values[-1] == ""
    assert f'WARNING: Read nothing from "{polled}" in ' in (job.path / "poller.log").read_text()
    assert any(f"file_poller: {polled} could not be read at" in event.message
               for event in job.events)


def test_a_file_never_read_makes_the_job_partial(pytester: pytest.Pytester) -> None:
    """Readable before the first job, gone when the second runs: its numbers are missing,
    the job is PARTIAL with the instrument named, and the run goes on."""
    polled = pytester.path / "removed-by-the-first-job"
    polled.write_text("1\n")
    register(pytester, "file_poller")
    agenda(pytester, f"""
        config: {{augmentations: [file_poller], file_poller: {{files: [{polled}]}},
                 max_retries: 0}}
        workloads:
          - {{id: remove, name: command, params: {{command: "rm {polled}"}},
             augmentations: [~file_poller]}}
          - {{id: poll, name: command, params: {{command: "sleep 0.2"}}}}
          - {{id: plain, name: command, params: {{command: "true"}},
             augmentations: [~file_poller]}}
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1, warnings=1)
    run = output(pytester)
    job = run.job("poll", 1)
    assert job.status.name == "PARTIAL"
    assert "PARTIAL: instrument file_poller failed" in [e.message for e in job.events]
    assert any(f"file_poller: {polled} could not be read at any sample" in e.message
               for e in job.events)
    assert run.job("plain", 1).status.name == "OK"


def test_a_missing_file_is_one_error_before_any_job(pytester: pytest.Pytester) -> None:
    register(pytester, "file_poller")
    agenda(pytester, """
        config: {augmentations: [file_poller], file_poller: {files: [/proc/no-such-file]}}
        workloads: [{name: command, params: {command: "true"}}]
    """)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*instrument 'file_poller' cannot work on device 'local': no readable file at "
        "/proc/no-such-file (as_root: true reads them as root)*"])
    assert not (pytester.path / "wa_output").exists()


@pytest.mark.parametrize(("settings", "message"), [
    ("{files: ['/proc/sys/kernel/*'], labels: [a]}",
     "labels cannot be given when files has globs (*)*"),
    ("{files: [/proc/loadavg, /proc/uptime], labels: [a]}",
     "1 labels for 2 files: give one label per file"),
    ("{files: [/proc/loadavg], sample_interval: 0}", "sample_interval must be above 0 (ms)*"),
])
def test_settings_that_do_not_go_together_are_agenda_errors(
        pytester: pytest.Pytester, settings: str, message: str) -> None:
    register(pytester, "file_poller")
    agenda(pytester, f"""
        config: {{augmentations: [file_poller], file_poller: {settings}}}
        workloads: [{{name: command, params: {{command: "true"}}}}]
    """)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error
    result.stdout.fnmatch_lines([f"*agenda.yaml:*: config.file_poller: instrument "
                                 f"'file_poller': {message}"])


def test_as_root_on_a_phone_without_root_is_refused(pytester: pytest.Pytester,
                                                    wa_simulated_device, monkeypatch) -> None:
    register(pytester, "file_poller")
    agenda(pytester, """
        config: {augmentations: [file_poller],
                 file_poller: {files: [/proc/loadavg], as_root: true}}
        workloads: [{name: command, params: {command: "true"}}]
    """)
    phone_device(pytester, wa_simulated_device, monkeypatch, root=False)
    result = run_on_board(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*instrument 'file_poller' cannot work on device 'board': "
                                 "as_root is set, and commands cannot run as root*"])


def test_align_with_ftrace_without_tracefs_is_refused(pytester: pytest.Pytester,
                                                     wa_simulated_device, monkeypatch) -> None:
    """The simulated phone's /sys has no tracefs."""
    register(pytester, "file_poller")
    agenda(pytester, """
        config: {augmentations: [file_poller],
                 file_poller: {files: [/proc/loadavg], align_with_ftrace: true}}
        workloads: [{name: command, params: {command: "true"}}]
    """)
    phone_device(pytester, wa_simulated_device, monkeypatch, root=False)
    result = run_on_board(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*instrument 'file_poller' cannot work on device 'board': "
                                 "align_with_ftrace needs a writable trace_marker (tracefs at "
                                 "/sys/kernel/tracing or /sys/kernel/debug/tracing) and there "
                                 "is none; it usually takes as_root: true*"])


TRACE_INSTRUMENT = """
import pytest
from pytest_wa import Instrument, Priority
from pytest_wa.instruments.file_poller import FilePoller

class TraceText(Instrument):
    '''Leaves a trace-cmd report whose POLLER_START marker is at 5000.25 s.'''
    name = "trace_text"
    priority = Priority.VERY_SLOW

    def pytest_wa_job_extract_results(self, job):
        (job.output_directory / "trace.txt").write_text(
            "cpus=2\\n"
            "           <...>-4105  [001]  4999.100000: sched_switch: prev_comm=sh\\n"
            "              sh-4107  [000]  5000.250000: print:  tracing_mark_write: "
            "POLLER_START\\n")
        job.add_artifact("trace-cmd-txt", "trace.txt", "export")

def pytest_wa_register_instruments(registry):
    registry.add(FilePoller)
    registry.add(TraceText)
"""


needs_tracefs = pytest.mark.skipif(
    not any(os.path.exists(f"{d}/trace_marker") for d in TRACING),
    reason="no tracefs here (mount -t tracefs nodev /sys/kernel/tracing)")


@needs_tracefs
def test_align_with_ftrace_moves_the_times_to_the_marker(pytester: pytest.Pytester) -> None:
    """The first sample is at the marker's time in the trace; the others keep their
    distances to it."""
    pytester.makeconftest(TRACE_INSTRUMENT)
    agenda(pytester, """
        config: {augmentations: [file_poller, trace_text],
                 file_poller: {files: [/proc/uptime], sample_interval: 50,
                               align_with_ftrace: true, as_root: true}}
        workloads: [{id: job, name: command, params: {command: "sleep 0.3"}}]
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    times = [float(row["time"]) for row in rows(output(pytester).job("job", 1))]
    assert times[0] == pytest.approx(5000.25)
    assert 5000.25 < times[1] < times[-1] < 5001.25


@needs_tracefs
def test_align_with_ftrace_without_a_trace_is_an_instrument_failure(
        pytester: pytest.Pytester) -> None:
    register(pytester, "file_poller")
    agenda(pytester, """
        config: {augmentations: [file_poller],
                 file_poller: {files: [/proc/uptime], align_with_ftrace: true, as_root: true}}
        workloads: [{id: job, name: command, params: {command: "true"}}]
    """)
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*instrument 'file_poller' failed in pytest_wa_job_output: "
                                 "InstrumentError: file_poller: align_with_ftrace needs the "
                                 "trace-cmd-txt artifact*"])


# --- labels and samples -----------------------------------------------------------------

def test_labels_are_the_parts_that_differ() -> None:
    assert generate_labels(["/sys/class/thermal/thermal_zone0/temp",
                            "/sys/class/thermal/thermal_zone1/temp"]) == [
        "thermal_zone0-temp", "thermal_zone1-temp"]
    assert generate_labels(["/proc/loadavg"]) == ["loadavg"]


def test_a_sample_is_read_back_by_file() -> None:
    text = ("/p/count:42\ngrep: /p/gone: No such file or directory\n/p/text:a,b\n/p/text:c\n")
    assert parse_values(text, ["/p/count", "/p/gone", "/p/text", "/p/count"]) == [
        "42", None, "ab c", "42"]
    assert read_command(["/a b", "/c", "/a b"]) == "grep -a -H '' '/a b' /c 2>&1"
