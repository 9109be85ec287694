"""The dmesg instrument: the job's kernel lines, the ring buffer never cleared; on this
host, over SSH and on the simulated phone (whose /dev is this host's)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from host_instruments import (
    agenda,
    output,
    phone_device,
    register,
    run_on_board,
    ssh_device,
)
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa.instruments.dmesg import job_records, parse, plain, split_log


def marker_agenda(pytester: pytest.Pytester, marker: str, settings: str = "") -> None:
    """Job ``mark`` writes ``marker`` into the kernel log (as root), job ``next`` does not."""
    agenda(pytester, f"""
        config: {{augmentations: [dmesg]{settings}}}
        workloads:
          - id: mark
            name: command
            params: {{command: "echo {marker} > /dev/kmsg", as_root: true}}
          - {{id: next, name: command, params: {{command: "true"}}}}
    """)


def check_marker(pytester: pytest.Pytester, marker: str) -> None:
    """In the job's lines, not in the next job's; still in the kernel's log."""
    run = output(pytester)
    mark, following = run.job("mark", 1), run.job("next", 1)
    for job in (mark, following):
        assert {a.name: a.kind for a in job.artifacts if a.name.startswith("dmesg")} == {
            "dmesg_before": "data", "dmesg_after": "data"}
    lines = (mark.path / "dmesg/after").read_text().splitlines()
    assert [line.split("] ", 1)[1] for line in lines if marker in line] == [marker]
    assert lines[0].startswith("[")  # dmesg's form, the level prefix dropped
    assert marker not in (mark.path / "dmesg/before").read_text()
    assert marker not in (following.path / "dmesg/after").read_text()
    assert marker in (following.path / "dmesg/before").read_text()
    log = subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout
    assert marker in log
    assert log.splitlines()[0] in (mark.path / "dmesg/before").read_text()  # the whole log


def test_on_this_host(pytester: pytest.Pytester, subtests: pytest.Subtests) -> None:
    marker = f"pytest-wa-marker-{uuid.uuid4().hex[:12]}"
    register(pytester, "dmesg")
    marker_agenda(pytester, marker)
    pytester.runpytest().assert_outcomes(passed=2)
    check_marker(pytester, marker)
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


def test_over_ssh(pytester: pytest.Pytester, wa_sshd, monkeypatch) -> None:
    marker = f"pytest-wa-marker-{uuid.uuid4().hex[:12]}"
    register(pytester, "dmesg")
    marker_agenda(pytester, marker)
    ssh_device(pytester, wa_sshd, monkeypatch)
    run_on_board(pytester).assert_outcomes(passed=2)
    check_marker(pytester, marker)


def test_on_the_rooted_simulated_phone(pytester: pytest.Pytester, wa_simulated_device,
                                       monkeypatch) -> None:
    marker = f"pytest-wa-marker-{uuid.uuid4().hex[:12]}"
    register(pytester, "dmesg")
    marker_agenda(pytester, marker)
    phone_device(pytester, wa_simulated_device, monkeypatch, root=True)
    run_on_board(pytester).assert_outcomes(passed=2)
    check_marker(pytester, marker)


def test_a_phone_without_root_is_refused(pytester: pytest.Pytester, wa_simulated_device,
                                         monkeypatch) -> None:
    """kernel.dmesg_restrict keeps the shell user out: one error before the first job."""
    if Path("/proc/sys/kernel/dmesg_restrict").read_text().strip() != "1":
        pytest.skip("kernel.dmesg_restrict is 0 here: anyone may read the kernel log")
    register(pytester, "dmesg")
    marker_agenda(pytester, "never-written")
    phone_device(pytester, wa_simulated_device, monkeypatch, root=False)
    result = run_on_board(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*instrument 'dmesg' cannot work on device 'board': cannot read the kernel log "
        "(dmesg -r: dmesg: read kernel buffer failed: Operation not permitted); *set "
        "adb_as_root: true in the device's config*"])
    assert not (pytester.path / "wa_output").exists()


def test_loglevel_keeps_the_severe_lines(pytester: pytest.Pytester) -> None:
    """loglevel 3 keeps err and worse: a line written at <3> stays, one at <6> goes."""
    tag = uuid.uuid4().hex[:12]
    register(pytester, "dmesg")
    agenda(pytester, f"""
        config: {{augmentations: [dmesg], dmesg: {{loglevel: 3}}}}
        workloads:
          - name: command
            params:
              command: "echo '<3>pytest-wa-err-{tag}' > /dev/kmsg;
                        echo '<6>pytest-wa-info-{tag}' > /dev/kmsg"
              as_root: true
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    job = output(pytester).jobs[0]
    text = (job.path / "dmesg/after").read_text()
    assert f"pytest-wa-err-{tag}" in text
    assert f"pytest-wa-info-{tag}" not in text
    assert "level err or more severe" in next(
        a.description for a in job.artifacts if a.name == "dmesg_after")


def test_a_loglevel_outside_0_to_7_is_an_agenda_error(pytester: pytest.Pytester) -> None:
    register(pytester, "dmesg")
    agenda(pytester, """
        config: {augmentations: [dmesg], dmesg: {loglevel: 9}}
        workloads: [{name: command, params: {command: "true"}}]
    """)
    result = pytester.runpytest()
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*config.dmesg.loglevel: instrument 'dmesg': 9 is not "
                                 "allowed; choose from 0, 1, 2, 3, 4, 5, 6, 7*"])


# --- finding the job's lines ------------------------------------------------------------

LOG = """\
<6>[    0.000000] Linux version 6.1.0-13-amd64
<4>[   12.503311] usb 1-1: device descriptor read/64, error -71
<6>[  100.250000] eth0: link up
<12>[  200.125000] pytest-wa: a line written from user space
"""


def test_the_job_lines_follow_the_last_line_read_before() -> None:
    before = parse(LOG)
    after = parse(LOG + "<3>[  201.000000] oops\n<6>[  201.500000] two\n continued\n")
    records, lost = job_records(before, after)
    assert not lost
    assert [(r.level, r.timestamp, r.text) for r in records] == [
        (3, 201.0, "[  201.000000] oops"), (6, 201.5, "[  201.500000] two\n continued")]
    assert before[3].level == 4  # <12>: facility user, level warning


def test_a_wrapped_ring_buffer_keeps_the_later_lines_and_says_so() -> None:
    """The buffer wrapped during the job: the last line read before is gone."""
    after = parse("<6>[  200.500000] job line 1 (the buffer wrapped)\n"
                  "<6>[  201.000000] job line 2\n")
    records, lost = job_records(parse(LOG), after)
    assert lost
    assert [r.text for r in records] == ["[  200.500000] job line 1 (the buffer wrapped)",
                                         "[  201.000000] job line 2"]


def test_a_log_without_timestamps() -> None:
    before = parse("<6>boot\n<6>ready\n")
    assert job_records(before, parse("<6>boot\n<6>ready\n<4>job\n")) == (
        parse("<4>job\n"), False)
    assert job_records(before, parse("<4>job\n")) == (parse("<4>job\n"), True)
    assert job_records([], parse("<4>job\n")) == (parse("<4>job\n"), False)


def test_the_raw_text_is_cut_where_the_records_are() -> None:
    """The fast path on raw text agrees with the records: the last record read before
    (continuation lines included) is found again only at a record's start."""
    before = LOG + "<6>[  200.500000] two lines\n of text\n"
    job = "<6>[  200.600000] <6>[  200.500000] two lines\n of text\n<4>[  201.0] late\n"
    found, records, lost = split_log(before, before + job)
    assert (found, records, lost) == (before, *job_records(parse(before), parse(before + job)))
    assert [r.text for r in records] == [
        "[  200.600000] <6>[  200.500000] two lines\n of text", "[  201.0] late"]
    assert split_log(before, before) == (before, [], False)
    assert plain(before).splitlines()[-2:] == ["[  200.500000] two lines", " of text"]


def test_the_log_before_is_read_whole_after_the_job() -> None:
    """Before the job only the log's end is read: the log before it is the whole log
    read after, up to that end's last line; where it wrapped, the end is all there is."""
    tail = "".join(LOG.splitlines(keepends=True)[-2:])
    job = "<4>[  300.0] job\n"
    assert split_log(tail, LOG + job) == (LOG, parse(job), False)
    assert split_log(tail, job) == (tail, parse(job), True)
    assert split_log("", job) == ("", parse(job), False)
