"""The interrupts instrument: /proc/interrupts around the workload, on this host, over SSH
and on the simulated phone (which shares this host's /proc)."""

from __future__ import annotations

import csv

import pytest
from host_instruments import (
    agenda,
    artifact_names,
    output,
    phone_device,
    register,
    run_on_board,
    ssh_device,
)
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa.instruments.interrupts import diff_csv, difference, parse, per_cpu_totals

AGENDA = """
    config: {augmentations: [interrupts]}
    workloads:
      - {id: busy, name: command, params: {command: "sleep 0.3"}}
      - {id: plain, name: command, params: {command: "true"}, augmentations: [~interrupts]}
"""
ARTIFACTS = {"interrupts [before]": "data", "interrupts [after]": "data",
             "interrupts [diff]": "data", "interrupts [csv]": "data"}


def counts(text: str, name: str) -> list[int]:
    """One line's per-CPU counts, read the plain way."""
    cpus = len(text.splitlines()[0].split())
    line = next(row for row in text.splitlines() if row.split()[:1] == [f"{name}:"])
    return [int(word) for word in line.split()[1:1 + cpus]]


def check_job(job) -> None:
    """WA3's files are there, and the table and metrics are what the two files say."""
    assert {k: v for k, v in artifact_names(job).items() if "interrupts" in k} == ARTIFACTS
    assert {a.name: a.classifiers.get("stage") for a in job.artifacts if "[" in a.name} == {
        "interrupts [before]": "before", "interrupts [after]": "after",
        "interrupts [diff]": "diff", "interrupts [csv]": "diff"}
    before = (job.path / "before/proc/interrupts").read_text()
    after = (job.path / "after/proc/interrupts").read_text()
    cpus = before.splitlines()[0].split()
    rows = {row["interrupt"]: row for row in csv.DictReader(
        (job.path / "diff/proc/interrupts.csv").open())}
    for name in ("LOC", "RES", "NMI") if "LOC:" in before else list(rows)[:3]:
        expected = [a - b for a, b in zip(counts(after, name), counts(before, name),
                                          strict=True)]
        assert [int(rows[name][cpu]) for cpu in cpus] == expected
        assert int(rows[name]["total"]) == sum(expected)
    metrics = [m for m in job.metrics if m.name in ("interrupts", "per_cpu_interrupts")]
    assert [(m.name, m.classifiers.get("cpu")) for m in metrics] == [
        ("interrupts", None), *(("per_cpu_interrupts", cpu) for cpu in range(len(cpus)))]
    assert all(m.units == "count" and not m.lower_is_better for m in metrics)
    assert metrics[0].value == sum(m.value for m in metrics[1:]) > 0
    diff = (job.path / "diff/proc/interrupts").read_text().splitlines()
    assert diff[0].split() == cpus
    assert any(line.split()[:1] == [f"{name}:"] for line in diff for name in rows)


def test_on_this_host(pytester: pytest.Pytester, subtests: pytest.Subtests) -> None:
    register(pytester, "interrupts")
    agenda(pytester, AGENDA)
    pytester.runpytest().assert_outcomes(passed=2)
    run = output(pytester)
    check_job(run.job("busy", 1))
    assert "interrupts" not in str(artifact_names(run.job("plain", 1)))
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


def test_over_ssh(pytester: pytest.Pytester, wa_sshd, monkeypatch) -> None:
    register(pytester, "interrupts")
    agenda(pytester, AGENDA)
    ssh_device(pytester, wa_sshd, monkeypatch)
    run_on_board(pytester).assert_outcomes(passed=2)
    check_job(output(pytester).job("busy", 1))


def test_on_the_simulated_phone(pytester: pytest.Pytester, wa_simulated_device,
                                monkeypatch) -> None:
    """As the shell user: /proc/interrupts needs no root."""
    register(pytester, "interrupts")
    agenda(pytester, AGENDA)
    phone_device(pytester, wa_simulated_device, monkeypatch, root=False)
    run_on_board(pytester).assert_outcomes(passed=2)
    check_job(output(pytester).job("busy", 1))


def test_a_failing_workload_still_gets_its_numbers(pytester: pytest.Pytester) -> None:
    register(pytester, "interrupts")
    agenda(pytester, """
        config: {augmentations: [interrupts], max_retries: 0}
        workloads: [{id: fails, name: command, params: {command: "sleep 0.1; exit 3"}}]
    """)
    pytester.runpytest().assert_outcomes(failed=1)
    job = output(pytester).job("fails", 1)
    assert job.status.name == "FAILED"
    check_job(job)


def test_a_device_without_proc_interrupts_is_refused(pytester: pytest.Pytester,
                                                     wa_sshd_servers, monkeypatch) -> None:
    """A board whose /proc shows nothing: one error before the first job."""
    register(pytester, "interrupts")
    agenda(pytester, AGENDA)
    ssh_device(pytester, wa_sshd_servers(hidden_paths=["/proc"]), monkeypatch)
    result = run_on_board(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*instrument 'interrupts' cannot work on device 'board': /proc/interrupts cannot "
        "be read (cat /proc/interrupts: *No such file or directory*"])
    assert not (pytester.path / "wa_output").exists()


# --- the difference, on an Arm phone's /proc/interrupts ---------------------------------

ARM_BEFORE = """\
           CPU0       CPU1       CPU2       CPU3
 11:     104562      93310      88721      90112     GICv3  30 Level     arch_timer
 45:        120          0          0          0     GICv3  97 Level     ufshcd
 80:         17          0          0          0     GICv3 184 Edge      gpu
IPI0:      5531       6012       4870       5122       Rescheduling interrupts
IPI1:       801        766        912        700       Function call interrupts
Err:          0
"""
ARM_AFTER = """\
           CPU0       CPU1       CPU2       CPU3
 11:     104662      93350      88721      90212     GICv3  30 Level     arch_timer
 45:        170          0          0          0     GICv3  97 Level     ufshcd
 99:          4          0          0          0     GICv3 201 Level     wlan
IPI0:      5541       6012       4880       5122       Rescheduling interrupts
IPI1:       801        766        912        700       Function call interrupts
Err:          2
"""


def test_the_difference_of_an_arm_phone() -> None:
    """A new interrupt (wlan) counts from zero, a freed one (gpu) has no counts, Err is an
    error counter left out of the totals."""
    before, after = parse(ARM_BEFORE), parse(ARM_AFTER)
    changes = difference(before, after)
    assert [(c.mark, c.line.name) for c in changes] == [
        ("", "11"), ("", "45"), (">", "99"), ("", "IPI0"), ("", "IPI1"), ("", "Err"),
        ("<", "80")]
    assert changes[0].counts == {"CPU0": 100, "CPU1": 40, "CPU2": 0, "CPU3": 100}
    assert changes[2].counts == {"CPU0": 4, "CPU1": 0, "CPU2": 0, "CPU3": 0}
    assert changes[5].counts == {"CPU0": 2}
    assert per_cpu_totals(changes, after.cpus) == {"CPU0": 164, "CPU1": 40, "CPU2": 10,
                                                   "CPU3": 100}
    table = list(csv.reader(diff_csv(changes, after.cpus).splitlines()))
    assert table[0] == ["interrupt", "CPU0", "CPU1", "CPU2", "CPU3", "total", "description"]
    assert table[3] == ["99", "4", "0", "0", "0", "4", "GICv3 201 Level wlan"]
    assert table[6] == ["Err", "2", "", "", "", "2", ""]


def test_a_cpu_offline_at_one_end_and_a_reset_counter() -> None:
    """Only CPUs online at both ends are compared; a count that went backwards was reset
    (the interrupt was freed and requested again), so its count after is the job's."""
    after = parse("""\
           CPU0       CPU1       CPU2
 11:     104662      93350      88721     GICv3  30 Level     arch_timer
 45:         30          0          0     GICv3  97 Level     ufshcd
""")
    changes = difference(parse(ARM_BEFORE), after)
    assert changes[0].counts == {"CPU0": 100, "CPU1": 40, "CPU2": 0}
    assert changes[0].line.description == "GICv3 30 Level arch_timer"
    assert changes[1].counts == {"CPU0": 30, "CPU1": 0, "CPU2": 0}
