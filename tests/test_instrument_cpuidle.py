"""The cpuidle instrument as users meet it: on the simulated phone (three idle states per CPU,
whose counters grow while this host idles and obey ``disable``), and for real on this host,
locally and over SSH, and read back by WA3."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from instrument_runs import on_host, on_phone, on_ssh
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa import RunOutput
from pytest_wa.instruments.cpustats import idle_residency, parse_idle_states
from pytest_wa.model.errors import InstrumentError

CPU = "/sys/devices/system/cpu"
PHONE_STATES = ("wfi", "cpu_sleep", "cluster_sleep")


def by_state(job, cpu: int) -> dict[str, dict[str, float]]:
    """{state word: {"time": s, "residency": %, "usage": n}} of one CPU, from the metrics."""
    found: dict[str, dict[str, float]] = {}
    prefix = f"cpuidle_cpu{cpu}_"
    for metric in job.metrics:
        if not metric.name.startswith(prefix) or metric.name.startswith(f"{prefix}idle_"):
            continue
        word, _, kind = metric.name[len(prefix):].rpartition("_")
        found.setdefault(word, {})[kind] = metric.value
    return found


def check_consistent(job, cpus: range, states: tuple[str, ...]) -> None:
    """Every CPU has every state, each counted once in the table, within the job's time."""
    assert job.status.name == "OK", job.events
    with open(job.artifact_path("cpuidle"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(row["cpu"]), int(row["state"])) for row in rows] == \
        [(cpu, state) for cpu in cpus for state in range(len(states))]
    for cpu in cpus:
        found = by_state(job, cpu)
        assert tuple(found) == states
        for values in found.values():
            assert values["time"] >= 0 and values["usage"] >= 0 and values["residency"] >= 0
        idle = job.metric(f"cpuidle_cpu{cpu}_idle_residency")
        assert idle.units == "percent" and idle.classifiers == {"cpu": cpu}
        assert idle.value == pytest.approx(sum(v["residency"] for v in found.values()),
                                           abs=0.05)
        # The kernel counts an idle period when the CPU leaves it (here: at a tick of the
        # phone's clock, ten a second), so the counters may run a little ahead of the clock.
        assert job.metric(f"cpuidle_cpu{cpu}_idle_time").value <= \
            job.metric("execution_time").value + 0.3


# --- on the simulated phone ----------------------------------------------------------


def test_idle_residency_on_the_phone(pytester, device, subtests) -> None:
    result = on_phone(pytester, device, """\
        config: {augmentations: [cpuidle, execution_time]}
        workloads:
          - id: idle
            name: command
            params: {command: "sleep 2"}
          - id: wfi
            name: command
            params: {command: "sleep 2"}
            runtime_parameters: {idle_states: wfi}
        """)
    result.assert_outcomes(passed=2)
    output = RunOutput(pytester.path / "wa_output")
    idle, wfi = output.job("idle", 1), output.job("wfi", 1)
    for job in (idle, wfi):
        check_consistent(job, range(8), PHONE_STATES)
    state = idle.metric("cpuidle_cpu5_cluster_sleep_residency")
    assert state.classifiers == {"cpu": 5, "state": 2, "idle_state": "cluster-sleep"}
    # The phone's load is what its commands use: during a sleep, every CPU idles.
    for cpu in range(8):
        assert idle.metric(f"cpuidle_cpu{cpu}_idle_residency").value >= 50
        assert all(values["usage"] > 0 for values in by_state(idle, cpu).values())
    # Only WFI was enabled: the deeper states were (almost: a tick that had begun when they
    # were disabled may still add its share) never entered.
    for cpu in range(8):
        states = by_state(wfi, cpu)
        assert states["cpu_sleep"]["time"] <= 0.06 and states["cluster_sleep"]["time"] <= 0.06
        assert states["wfi"]["time"] == pytest.approx(
            wfi.metric(f"cpuidle_cpu{cpu}_idle_time").value, abs=0.12)
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


# --- on this host, for real ---------------------------------------------------------------

AGENDA = """\
    config: {augmentations: [cpuidle]}
    workloads:
      - id: idle
        name: command
        params: {command: "sleep 1"}
    """


def host_states() -> dict[int, list[str]]:
    """This host's idle states per CPU, as sysfs names them; skip where it has none."""
    states: dict[int, list[str]] = {}
    for path in sorted(Path(CPU).glob("cpu[0-9]*/cpuidle/state[0-9]*/name")):
        states.setdefault(int(path.parts[-4][3:]), []).append(path.read_text().strip())
    if not states:
        pytest.skip("this host has no cpuidle states")
    return states


def usage_now() -> dict[tuple[int, int], int]:
    return {(int(path.parts[-4][3:]), int(path.parts[-2][5:])): int(path.read_text())
            for path in Path(CPU).glob("cpu[0-9]*/cpuidle/state[0-9]*/usage")}


def check_host_run(pytester, result: pytest.RunResult, before: dict, after: dict) -> None:
    states = host_states()
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("idle", 1)
    with open(job.artifact_path("cpuidle"), newline="") as handle:
        names = {(int(row["cpu"]), int(row["state"])): row["name"]
                 for row in csv.DictReader(handle)}
    assert names == {(cpu, index): name for cpu, found in states.items()
                     for index, name in enumerate(found)}
    for (cpu, index), name in names.items():
        word = list(by_state(job, cpu))[index]  # metrics come in the states' order
        usage = job.metric(f"cpuidle_cpu{cpu}_{word}_usage")
        assert usage.classifiers["idle_state"] == name
        # the job's entries happened between our two readings
        assert 0 <= usage.value <= after[cpu, index] - before[cpu, index]


def test_idle_residency_on_this_host(pytester) -> None:
    host_states()
    before = usage_now()
    result = on_host(pytester, AGENDA)
    check_host_run(pytester, result, before, usage_now())


def test_idle_residency_on_this_host_over_ssh(pytester, wa_sshd, home) -> None:
    host_states()
    before = usage_now()
    result = on_ssh(pytester, wa_sshd, AGENDA)
    check_host_run(pytester, result, before, usage_now())


def test_a_device_without_idle_states_is_refused(pytester, device) -> None:
    device.root()
    device.shell(f"rm -r {CPU}/cpu*/cpuidle")
    result = on_phone(pytester, device, """\
        config: {augmentations: [cpuidle]}
        workloads: [{name: command, params: {command: "true"}}]
        """)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*augmentations: cpuidle: instrument 'cpuidle' cannot work on device 'phone': the "
        "device has no cpuidle states: /sys/devices/system/cpu/cpu[[]0-9]*/cpuidle/"
        "state[[]0-9]*/ does not exist (a kernel without CONFIG_CPU_IDLE*optional: true*"])


# --- the arithmetic, on the kernel's text ---------------------------------------------------


def state_files(time: str, usage: str, name: str = "C1") -> dict[str, str | None]:
    return {f"{CPU}/cpu3/cpuidle/state1/name": name, f"{CPU}/cpu3/cpuidle/state1/time": time,
            f"{CPU}/cpu3/cpuidle/state1/usage": usage}


def test_microseconds_and_entries_between_two_readings() -> None:
    [found] = idle_residency(parse_idle_states(state_files("1000000", "10")),
                             parse_idle_states(state_files("1750000", "25")), elapsed=1.5)
    assert (found.state.cpu, found.state.index, found.state.name) == (3, 1, "C1")
    assert (found.seconds, found.usage, found.percent) == (0.75, 15, 50.0)


@pytest.mark.parametrize(("before", "after", "message"), [
    (state_files("5", "1"), state_files("4", "1"),
     "/cpu3/cpuidle/state1/time went backwards during the job (5 -> 4): the counter was reset"),
    (state_files("5", "1"), state_files("x", "1"),
     "cannot read /sys/devices/system/cpu/cpu3/cpuidle/state1/time and usage (got 'x', '1')"),
])
def test_what_cannot_be_counted_is_an_error(before: dict, after: dict, message: str) -> None:
    with pytest.raises(InstrumentError) as error:
        idle_residency(parse_idle_states(before), parse_idle_states(after), 1.0)
    assert message in str(error.value)
