"""The hwmon instrument as users meet it: on the simulated phone (whose hwmon sensors follow
this host's load), with a sensor that breaks during a job, and on this host (a VM without
hwmon: refused with a clear error, or left out when optional), locally and over SSH."""

from __future__ import annotations

from pathlib import Path

import pytest
from instrument_runs import check_refusal, on_host, on_phone, on_ssh
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa import RunOutput
from pytest_wa.instruments.hwmon_sensors import Sensor, guess_site, unique_sites

SCMI = "/sys/class/hwmon/hwmon0"
RAILS = ("little", "big", "gpu", "sys")
#: The simulated phone's whole-device power (W) at no load and at full load.
SYS_POWER = (2.7, 6.25)


def test_sensors_before_and_after_on_the_phone(pytester, device, subtests) -> None:
    """As the shell user (hwmon is world-readable): every known sensor, WA3's names."""
    result = on_phone(pytester, device, root=False, agenda="""\
        config: {augmentations: [hwmon, execution_time]}
        workloads: [{id: idle, name: command, params: {command: "sleep 1"}}]
        """)
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("idle", 1)
    metrics = {metric.name: metric for metric in job.metrics}
    momentary = [f"{rail}_power" for rail in RAILS] + [
        "soc_temperature", "cpu_thermal_temperature", "gpu_thermal_temperature",
        "ina231_current", "ina231_in0_voltage", "ina231_in1_voltage", "ina231_power"]
    assert sorted(metrics) == sorted(
        [f"{rail}_energy" for rail in RAILS] + ["execution_time"]
        + [f"{name}_{side}" for name in momentary for side in ("before", "after")])
    energy = {rail: metrics[f"{rail}_energy"] for rail in RAILS}
    assert all(m.units == "joules" and m.lower_is_better and m.value > 0
               for m in energy.values())
    assert energy["big"].classifiers["sensor"] == "scmi_sensors/energy2"
    # The rest of the phone draws 2.4 W besides the three rails: that gives the time counted.
    rest = energy["sys"].value - sum(energy[rail].value for rail in ("little", "big", "gpu"))
    assert rest / 2.4 >= 0.9  # the sensors were read around a 1 s sleep (0.1 s ticks)
    for side in ("before", "after"):
        sys_power = metrics[f"sys_power_{side}"]
        low, high = SYS_POWER[0] - 1e-9, SYS_POWER[1] + 1e-9  # sums of rails: float error
        assert sys_power.units == "watts" and low <= sys_power.value <= high
        assert metrics[f"ina231_power_{side}"].value == pytest.approx(sys_power.value)
        assert 20 < metrics[f"soc_temperature_{side}"].value < 90
        assert metrics[f"soc_temperature_{side}"].units == "degrees"
        assert metrics[f"ina231_in1_voltage_{side}"].units == "volts"
        assert not metrics[f"ina231_in1_voltage_{side}"].lower_is_better
    log = (pytester.path / "wa_output" / "run.log").read_text()
    assert "hwmon: sensor left out: pwmfan/fan1 (/sys/class/hwmon/hwmon4/fan1_input): " \
           "'fan' is not a kind pytest-wa records" in log
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


def test_odd_sensors_are_left_out_and_a_broken_one_makes_its_job_partial(pytester,
                                                                         device) -> None:
    """An unreadable sensor is left out when the run starts; one that breaks during a job
    makes that job PARTIAL (its other sensors recorded), and the run goes on."""
    device.root()
    device.shell(f"echo 41000 > {SCMI}/temp2_input; echo N/A > {SCMI}/temp3_input; "
                 f"echo 7 > {SCMI}/humidity1_input")
    result = on_phone(pytester, device, f"""\
        config: {{augmentations: [hwmon], max_retries: 0}}
        workloads:
          - id: breaks
            name: command
            params: {{command: "sleep 0.3; echo N/A > {SCMI}/temp2_input"}}
          - {{id: after, name: command, params: {{command: "true"}}, augmentations: [~hwmon]}}
        """, root=True)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*breaks-command[[]1[]] PARTIAL*"])
    output = RunOutput(pytester.path / "wa_output")
    broken = output.job("breaks", 1)
    [event] = [e.message for e in broken.events if e.message.startswith("instrument 'hwmon'")]
    assert event == ("instrument 'hwmon' failed in pytest_wa_job_execute: InstrumentError: "
                     "scmi_sensors/temp2 unreadable after the workload")
    assert broken.metric("sys_energy").value > 0
    assert "scmi_sensors_temperature_before" not in {m.name for m in broken.metrics}
    assert output.job("after", 1).status.name == "OK"
    log = (pytester.path / "wa_output" / "run.log").read_text()
    assert f"scmi_sensors/temp3 ({SCMI}/temp3_input): unreadable ('N/A')" in log
    assert "scmi_sensors/humidity1" in log


# --- on this host: a VM without hwmon -----------------------------------------------------

AGENDA = """\
    config:
      augmentations: [hwmon]
      hwmon: {{optional: {optional}}}
    workloads: [{{name: command, params: {{command: "true"}}}}]
    """
NO_HWMON = ("*augmentations: hwmon: instrument 'hwmon' cannot work on device '{}': no hwmon "
            "sensors: /sys/class/hwmon is missing or empty*optional: true*")


def needs_a_host_without_hwmon() -> None:
    if list(Path("/sys/class/hwmon").glob("*/*_input")):
        pytest.skip("this host has hwmon sensors: these tests are about a device without")


@pytest.mark.parametrize("optional", [False, True])
def test_this_host_without_hwmon(pytester, optional: bool) -> None:
    needs_a_host_without_hwmon()
    result = on_host(pytester, AGENDA.format(optional=str(optional).lower()))
    check_refusal(pytester, result, instrument="hwmon", device="local",
                  error=NO_HWMON.format("local"), reason="no hwmon sensors",
                  optional=optional)


@pytest.mark.parametrize("optional", [False, True])
def test_this_host_without_hwmon_over_ssh(pytester, wa_sshd, home, optional: bool) -> None:
    needs_a_host_without_hwmon()
    result = on_ssh(pytester, wa_sshd, AGENDA.format(optional=str(optional).lower()))
    check_refusal(pytester, result, instrument="hwmon", device="board",
                  error=NO_HWMON.format("board"), reason="no hwmon sensors",
                  optional=optional)


# --- naming, as WA3 meant it ------------------------------------------------------------------


@pytest.mark.parametrize(("device", "label", "site"), [
    ("scmi_sensors", "big_energy", "big"),
    ("scmi_sensors", "soc_temp", "soc"),
    ("juno", "a57_energy", "a57"),
    ("ina231", None, "ina231"),  # WA3's devlib strips the "in" of "ina231": "a231"
    ("coretemp", "Core 0", "Core_0"),
    ("nct6775", "in0", "nct6775"),  # a label that only names the kind: the device
    ("cpu_thermal", None, "cpu_thermal"),
])
def test_sites(device: str, label: str | None, site: str) -> None:
    assert guess_site(device, label) == site


def test_clashing_names_get_longer_sites() -> None:
    def sensor(hwmon: str, device: str, kind: str, number: int, label: str | None) -> Sensor:
        return Sensor(f"/sys/class/hwmon/{hwmon}/{kind}{number}_input", device, kind, number,
                      label, guess_site(device, label))
    sensors = unique_sites([
        sensor("hwmon3", "ina231", "in", 0, None), sensor("hwmon3", "ina231", "in", 1, None),
        sensor("hwmon3", "ina231", "curr", 1, None),
        sensor("hwmon5", "nvme", "temp", 1, "Composite"),
        sensor("hwmon6", "nvme", "temp", 1, "Composite")])
    assert [s.channel for s in sensors] == [
        "ina231_in0_voltage", "ina231_in1_voltage", "ina231_current",
        "hwmon5_nvme_temp1_temperature", "hwmon6_nvme_temp1_temperature"]
