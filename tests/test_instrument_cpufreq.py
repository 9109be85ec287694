"""The cpufreq instrument as users meet it: on the simulated phone (whose cpufreq statistics
move with this host's load, and obey the governor), over SSH and on this host (a VM without
cpufreq: refused with a clear error, or left out when optional), and read back by WA3."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from instrument_runs import check_refusal, on_host, on_phone, on_ssh
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa import RunOutput
from pytest_wa.instruments.cpustats import frequency_residency, parse_policies
from pytest_wa.model.errors import InstrumentError

CPU = "/sys/devices/system/cpu"
LITTLE = (300000, 576000, 768000, 1017600, 1248000, 1497600, 1804800)
BIG = (710400, 1056000, 1401600, 1766400, 2016000, 2323200, 2419200)
#: About a second of one CPU's work (the phone's load is what its commands use).
BUSY = "i=0; while [ $i -lt 1000000 ]; do i=$((i+1)); done"
#: The big cluster to its lowest frequency, its highest, its lowest.
SWITCHING = "; ".join(f"sleep {pause}; echo {governor} > {CPU}/cpufreq/policy4/scaling_governor"
                      for pause, governor in ((0.3, "powersave"), (0.6, "performance"),
                                              (0.6, "powersave"))) + "; sleep 0.3"


def seconds_per_frequency(job, policy: str) -> dict[int, float]:
    return {metric.classifiers["frequency"]: metric.value for metric in job.metrics
            if metric.name.startswith(f"cpufreq_{policy}_") and metric.name.endswith("khz_time")}


def table(job, name: str) -> list[dict[str, str]]:
    with open(job.artifact_path(name), newline="") as handle:
        return list(csv.DictReader(handle))


# --- on the simulated phone ----------------------------------------------------------


def test_residency_and_transitions_on_the_phone(pytester, device, subtests) -> None:
    result = on_phone(pytester, device, f"""\
        config:
          augmentations: [cpufreq, execution_time]
          cpufreq: {{paths: ["{CPU}/cpufreq/policy*/scaling_max_freq"]}}
        workloads:
          - id: idle
            name: command
            params: {{command: "sleep 2"}}
          - id: busy
            name: command
            params: {{command: "{BUSY}"}}
          - id: pinned
            name: command
            params: {{command: "sleep 2"}}
            runtime_parameters: {{big_governor: userspace, big_frequency: 1401600}}
          - id: switching
            name: command
            params: {{command: "{SWITCHING}", as_root: true}}
        """)
    result.assert_outcomes(passed=4)
    output = RunOutput(pytester.path / "wa_output")
    idle, busy, pinned = (output.job(name, 1) for name in ("idle", "busy", "pinned"))
    for job in (idle, busy, pinned, output.job("switching", 1)):
        assert job.status.name == "OK", job.events
        workload = job.metric("execution_time").value
        for policy, freqs in (("policy0", LITTLE), ("policy4", BIG)):
            seconds = seconds_per_frequency(job, policy)
            assert set(seconds) <= set(freqs) and seconds
            # cpufreq wraps execution_time, so it counts at least the workload's time
            assert workload - 0.25 <= sum(seconds.values()) <= workload + 1.0
            assert sum(m.value for m in job.metrics if m.name.startswith(f"cpufreq_{policy}")
                       and m.name.endswith("khz_residency")) == pytest.approx(100, abs=0.1)
            transitions = job.metric(f"cpufreq_{policy}_transitions")
            assert transitions.value >= 0 and transitions.units == "count"
            assert transitions.classifiers["policy"] == policy
            average = job.metric(f"cpufreq_{policy}_average_frequency").value
            assert freqs[0] <= average <= freqs[-1]
        rows = table(job, "cpufreq")
        assert [(row["policy"], int(row["frequency_khz"])) for row in rows] == \
            [("policy0", f) for f in LITTLE] + [("policy4", f) for f in BIG]
        assert {row["cpus"] for row in rows} == {"0-3", "4-7"}
    # schedutil: an idle phone stays at its lowest frequencies; a busy one leaves them
    assert idle.metric("cpufreq_policy0_300000khz_residency").value >= 80
    assert idle.metric("cpufreq_policy4_710400khz_residency").value >= 80
    assert busy.metric("cpufreq_policy4_transitions").value >= 1
    assert busy.metric("cpufreq_policy4_average_frequency").value > BIG[0]
    # userspace at 1401600 kHz: the big cluster spent (almost) the whole job there
    residency = pinned.metric("cpufreq_policy4_1401600khz_residency")
    assert residency.value >= 90, seconds_per_frequency(pinned, "policy4")
    assert residency.classifiers == {"policy": "policy4", "cluster": 1, "cpus": "4-7",
                                     "governor": "userspace", "frequency": 1401600}
    assert pinned.metric("cpufreq_policy4_frequency_after").value == 1401600
    assert pinned.metric("cpufreq_policy0_average_frequency").classifiers["governor"] == \
        "schedutil"
    extra = {row["path"]: (row["before"], row["after"]) for row in table(pinned, "cpufreq_files")}
    assert extra == {f"{CPU}/cpufreq/policy0/scaling_max_freq": ("1804800", "1804800"),
                     f"{CPU}/cpufreq/policy4/scaling_max_freq": ("1401600", "1401600")}
    # powersave, performance, powersave: at least two transitions whatever the load
    switching = output.job("switching", 1)
    assert switching.metric("cpufreq_policy4_transitions").value >= 2
    seconds = seconds_per_frequency(switching, "policy4")
    assert seconds[BIG[0]] >= 0.5 and seconds[BIG[-1]] >= 0.3, seconds
    assert "cpufreq: the governor of policy4 changed during the job (schedutil -> powersave)" \
        in [event.message for event in switching.events]
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


def test_a_counter_reset_during_the_job_makes_it_partial(pytester, device) -> None:
    stats = f"{CPU}/cpufreq/policy0/stats/time_in_state"
    # twice: a tick of the phone's clock that read the file just before may write it back
    reset = f"sleep 0.3; sed -i 's/ .*/ 0/' {stats}"
    result = on_phone(pytester, device, f"""\
        config: {{augmentations: [cpufreq], max_retries: 0}}
        workloads:
          - id: reset
            name: command
            params: {{command: "{reset}; {reset}", as_root: true}}
          - id: after
            name: command
            params: {{command: "sleep 0.2"}}
        """)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*reset-command[[]1[]] PARTIAL*"])
    output = RunOutput(pytester.path / "wa_output")
    reset = output.job("reset", 1)
    assert reset.status.name == "PARTIAL"
    assert "PARTIAL: instrument cpufreq failed" in [e.message for e in reset.events]
    [event] = [e.message for e in reset.events if e.message.startswith("instrument 'cpufreq'")]
    assert event.startswith("instrument 'cpufreq' failed in pytest_wa_job_execute: "
                            f"InstrumentError: {stats} (")
    assert "went backwards during the job" in event and "the counter was reset" in event
    assert output.job("after", 1).status.name == "OK"  # the run goes on


def test_a_kernel_without_cpufreq_stats_is_refused(pytester, device) -> None:
    device.root()
    device.shell(f"rm -r {CPU}/cpufreq/policy0/stats {CPU}/cpufreq/policy4/stats")
    result = on_phone(pytester, device, """\
        config: {augmentations: [cpufreq]}
        workloads: [{name: command, params: {command: "true"}}]
        """)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*augmentations: cpufreq: instrument 'cpufreq' cannot work on device 'phone': the "
        "device's cpufreq keeps no statistics: /sys/devices/system/cpu/cpufreq/policy[[]0-9]*/"
        "stats/time_in_state does not exist (the kernel needs CONFIG_CPU_FREQ_STAT)*"])


# --- on this host: a VM without cpufreq ---------------------------------------------------

NO_CPUFREQ = ("*augmentations: cpufreq: instrument 'cpufreq' cannot work on device '{}': the "
              "device has no cpufreq: neither /sys/devices/system/cpu/cpufreq/policy[[]0-9]*/ "
              "nor /sys/devices/system/cpu/cpu[[]0-9]*/cpufreq/ exists*optional: true*")
AGENDA = """\
    config:
      augmentations: [cpufreq]
      cpufreq: {{optional: {optional}}}
    workloads: [{{name: command, params: {{command: "true"}}}}]
    """


def needs_a_host_without_cpufreq() -> None:
    if list(Path(CPU).glob("cpu[0-9]*/cpufreq/related_cpus")):
        pytest.skip("this host has cpufreq: these tests are about a device without it")


@pytest.mark.parametrize("optional", [False, True])
def test_this_host_without_cpufreq(pytester, optional: bool) -> None:
    needs_a_host_without_cpufreq()
    result = on_host(pytester, AGENDA.format(optional=str(optional).lower()))
    check_refusal(pytester, result, instrument="cpufreq", device="local",
                  error=NO_CPUFREQ.format("local"), reason="the device has no cpufreq",
                  optional=optional)


@pytest.mark.parametrize("optional", [False, True])
def test_this_host_without_cpufreq_over_ssh(pytester, wa_sshd, home, optional: bool) -> None:
    needs_a_host_without_cpufreq()
    result = on_ssh(pytester, wa_sshd, AGENDA.format(optional=str(optional).lower()))
    check_refusal(pytester, result, instrument="cpufreq", device="board",
                  error=NO_CPUFREQ.format("board"), reason="the device has no cpufreq",
                  optional=optional)


# --- the arithmetic, on the kernel's text ---------------------------------------------------


def policy_files(root: str, cpus: str, table_text: str, transitions: str) -> dict:
    return {f"{root}/related_cpus": cpus, f"{root}/scaling_governor": "schedutil",
            f"{root}/scaling_cur_freq": "300000", f"{root}/stats/time_in_state": table_text,
            f"{root}/stats/total_trans": transitions}


def test_old_kernels_per_cpu_directories_are_one_policy() -> None:
    before, after = {}, {}
    for cpu in (0, 1):  # cpuN/cpufreq of one policy: the same numbers twice
        before.update(policy_files(f"{CPU}/cpu{cpu}/cpufreq", "0 1", "300000 100\n600000 50",
                                   "7"))
        after.update(policy_files(f"{CPU}/cpu{cpu}/cpufreq", "0 1", "300000 250\n600000 100",
                                  "10"))
    [found] = frequency_residency(parse_policies(before), parse_policies(after))
    assert found.policy.name == "policy0" and found.policy.cpus == (0, 1)
    assert found.seconds == {300000: 1.5, 600000: 0.5}  # 10 ms units
    assert found.transitions == 3 and found.average_frequency == 375000


@pytest.mark.parametrize(("table_text", "message"), [
    ("", "stats/time_in_state is empty: kernels older than about 5.10 keep no statistics while a "
         "governor switches frequency fast (schedutil)"),
    ("300000 1", "stats/time_in_state (300000) went backwards during the job (100 -> 1): the "
                 "counter was reset"),
])
def test_what_cannot_be_counted_is_an_error(table_text: str, message: str) -> None:
    root = f"{CPU}/cpufreq/policy0"
    before = parse_policies(policy_files(root, "0", "300000 100", "1"))
    with pytest.raises(InstrumentError) as error:
        frequency_residency(before, parse_policies(policy_files(root, "0", table_text, "1")))
    assert message in str(error.value)
