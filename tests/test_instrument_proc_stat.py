"""The proc_stat instrument: CPU utilisation sampled on the target while the workload runs;
on this host, over SSH and on the simulated phone (which shares this host's /proc)."""

from __future__ import annotations

import csv
import os
import random

import pytest
from host_instruments import (
    agenda,
    output,
    phone_device,
    processes_running,
    register,
    run_on_board,
    ssh_device,
)
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa.instruments.proc_stat import Sample, parse_sample, utilisation

BUSY = "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; sleep 0.3"
AGENDA = f"""
    config: {{augmentations: [proc_stat], proc_stat: {{period: 0.1}}}}
    workloads:
      - {{id: busy, name: command, params: {{command: "{BUSY}"}}}}
"""


def busy_percent(first: list[str], last: list[str]) -> float:
    """procps' utilisation from two raw rows: idle and iowait are not busy, guest time is
    already in user and nice."""
    deltas = [int(b) - int(a) for a, b in zip(first[1:9], last[1:9], strict=True)]
    return 100.0 * (sum(deltas) - deltas[3] - deltas[4]) / sum(deltas)


def check_job(job, cpus: int) -> None:
    assert {a.name: a.kind for a in job.artifacts if "proc-stat" in a.name} == {
        "proc-stat-raw": "raw", "proc-stat": "data"}
    raw = list(csv.reader((job.path / "proc-stat-raw.csv").open()))
    assert raw[0] == ["timestamp", "user", "nice", "system", "idle", "iowait", "irq",
                      "softirq", "steal", "guest", "guest_nice"]
    assert len(raw) >= 3  # the sample at the start, at least one more, the one at the end
    assert [row[0] for row in raw[1:]] == sorted(row[0] for row in raw[1:])
    table = list(csv.DictReader((job.path / "proc-stat.csv").open()))
    assert list(table[0]) == ["timestamp", "cpu_util", *(f"cpu{n}_util" for n in range(cpus))]
    assert len(table) == len(raw) - 2
    assert all(0 <= float(row[column]) <= 100 for row in table for column in row
               if column != "timestamp")
    metrics = [m for m in job.metrics if m.name in ("cpu_util", "per_cpu_util")]
    assert [(m.name, m.classifiers.get("cpu")) for m in metrics] == [
        ("cpu_util", None), *(("per_cpu_util", cpu) for cpu in range(cpus))]
    assert all(m.units == "%" and 0 <= m.value <= 100 for m in metrics)
    assert metrics[0].value == pytest.approx(busy_percent(raw[1], raw[-1]))


def test_on_this_host(pytester: pytest.Pytester, subtests: pytest.Subtests) -> None:
    register(pytester, "proc_stat")
    agenda(pytester, AGENDA)
    pytester.runpytest().assert_outcomes(passed=1)
    check_job(output(pytester).job("busy", 1), os.cpu_count() or 1)
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


def test_over_ssh(pytester: pytest.Pytester, wa_sshd, monkeypatch) -> None:
    register(pytester, "proc_stat")
    agenda(pytester, AGENDA)
    ssh_device(pytester, wa_sshd, monkeypatch)
    run_on_board(pytester).assert_outcomes(passed=1)
    check_job(output(pytester).job("busy", 1), os.cpu_count() or 1)


def test_on_the_simulated_phone(pytester: pytest.Pytester, wa_simulated_device,
                                monkeypatch) -> None:
    register(pytester, "proc_stat")
    agenda(pytester, AGENDA)
    phone_device(pytester, wa_simulated_device, monkeypatch, root=False)
    run_on_board(pytester).assert_outcomes(passed=1)
    check_job(output(pytester).job("busy", 1), os.cpu_count() or 1)


@pytest.mark.parametrize("command", ["sleep 0.6; exit 3", "sleep 30"])
def test_no_sampler_outlives_a_failed_or_timed_out_job(pytester: pytest.Pytester,
                                                       command: str) -> None:
    """The loop is stopped when the workload fails or runs past job_timeout, and what
    it sampled until then is kept."""
    period = f"0.{random.randrange(10**6, 10**7)}"  # a sampling loop no one else runs
    register(pytester, "proc_stat")
    agenda(pytester, f"""
        config: {{augmentations: [proc_stat], proc_stat: {{period: {period}}},
                 job_timeout: 1.5, max_retries: 0}}
        workloads: [{{id: job, name: command, params: {{command: "{command}"}}}}]
    """)
    pytester.runpytest().assert_outcomes(failed=1)
    assert processes_running(f"sleep {float(period):g}") == []
    job = output(pytester).job("job", 1)
    assert job.status.name == "FAILED"
    assert len(list(csv.reader((job.path / "proc-stat-raw.csv").open()))) >= 3


def test_a_job_over_before_the_first_period(pytester: pytest.Pytester) -> None:
    """Read at both ends of the job: even a job of no time has its one interval."""
    register(pytester, "proc_stat")
    agenda(pytester, """
        config: {augmentations: [proc_stat]}
        workloads: [{id: job, name: idle, params: {duration: 0}}]
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    job = output(pytester).job("job", 1)
    assert len(list(csv.reader((job.path / "proc-stat-raw.csv").open()))) == 3
    assert len(list(csv.reader((job.path / "proc-stat.csv").open()))) == 2


def test_a_period_of_zero_is_an_agenda_error(pytester: pytest.Pytester) -> None:
    register(pytester, "proc_stat")
    agenda(pytester, """
        config: {augmentations: [proc_stat], proc_stat: {period: 0}}
        workloads: [{name: command, params: {command: "true"}}]
    """)
    result = pytester.runpytest()
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*config.proc_stat.period: instrument 'proc_stat': must be "
                                 "above 0, got 0*"])


def test_a_device_without_proc_stat_is_refused(pytester: pytest.Pytester, wa_sshd_servers,
                                              monkeypatch) -> None:
    register(pytester, "proc_stat")
    agenda(pytester, AGENDA)
    ssh_device(pytester, wa_sshd_servers(hidden_paths=["/proc"]), monkeypatch)
    result = run_on_board(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*instrument 'proc_stat' cannot work on device 'board': "
                                 "cannot read /proc/stat's cpu lines*"])


# --- utilisation ------------------------------------------------------------------------

def sample(timestamp: float, text: str) -> Sample:
    found = parse_sample(timestamp, text)
    assert found is not None
    return found


def test_a_cpu_offline_for_a_while_counts_only_while_online() -> None:
    first = sample(0, "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n"
                      "cpu1 50 0 50 400 0 0 0 0 0 0")
    second = sample(1, "cpu  150 0 150 900 0 0 0 0 0 0\ncpu0 100 0 100 400 0 0 0 0 0 0")
    third = sample(2, "cpu  200 0 150 1050 0 0 0 0 0 0\ncpu0 125 0 100 475 0 0 0 0 0 0\n"
                      "cpu1 75 0 50 575 0 0 0 0 0 0")
    samples = [first, second, third]
    assert utilisation(samples, "cpu0") == pytest.approx(100 * 125 / 200)
    assert utilisation(samples, "cpu1") == pytest.approx(100 * 25 / 200)
    assert utilisation(samples, "cpu") == pytest.approx(100 * 150 / 400)


def test_iowait_is_idle_and_guest_time_is_not_counted_twice() -> None:
    first = sample(0, "cpu  100 10 50 800 40 0 0 0 30 5")
    second = sample(1, "cpu  200 20 100 900 140 0 0 0 90 10")
    # busy: user 100 + nice 10 + system 50 = 160; all: 160 + idle 100 + iowait 100 = 360
    assert utilisation([first, second], "cpu") == pytest.approx(100 * 160 / 360)


def test_a_sample_cut_short_is_left_out() -> None:
    assert parse_sample(0, "cpu0 1 2 3 4 5") is None
    assert parse_sample(0, "") is None
