"""The thermal instrument as users meet it: on the simulated phone (whose zones warm with this
host's load), with a zone that cannot be read and one that breaks during a job, and on this
host (a VM without thermal zones: refused with a clear error, or left out when optional)."""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest
from instrument_runs import on_phone
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa import RunOutput
from pytest_wa.instruments.thermal import readable_zones
from pytest_wa.testing.simdevice import power

ZONES = {"cpu-thermal": "thermal_zone0", "gpu-thermal": "thermal_zone1",
         "battery": "thermal_zone2"}


def table(job) -> list[dict[str, str]]:
    with open(job.artifact_path("thermal"), newline="") as handle:
        return list(csv.DictReader(handle))


def test_before_after_and_the_peak_on_the_phone(pytester, device, subtests) -> None:
    """A busy second then an idle one: the CPU zone warms, then cools towards idle; the
    maximum is the highest reading of the table, whichever it was."""
    result = on_phone(pytester, device, root=False, agenda="""\
        config: {augmentations: [thermal]}
        workloads:
          - id: burst
            name: command
            params: {command: "timeout 1 sh -c 'while :; do :; done'; sleep 1"}
        """)
    result.assert_outcomes(passed=1)
    output = RunOutput(pytester.path / "wa_output")
    burst = output.job("burst", 1)
    rows = table(burst)
    assert list(rows[0]) == ["time", *ZONES]
    assert len(rows) >= 4  # before, samples every 0.5 s of the 2 s job, after
    for zone, directory in ZONES.items():
        metrics = {side: burst.metric(f"{zone}_temperature_{side}")
                   for side in ("before", "after", "max")}
        assert all(m.units == "degrees" and m.lower_is_better for m in metrics.values())
        assert metrics["max"].classifiers == {"zone": directory, "type": zone}
        column = [float(row[zone]) for row in rows]
        assert (metrics["before"].value, metrics["after"].value) == (column[0], column[-1])
        assert metrics["max"].value == max(column)
        settled = power.settled_temperatures(power.rail_power(1))[zone]
        assert 20 < metrics["max"].value <= settled
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


def test_zones_chosen_and_period_zero(pytester, device) -> None:
    result = on_phone(pytester, device, root=False, agenda="""\
        config:
          augmentations: [thermal]
          thermal: {zones: ["cpu*", thermal_zone2], period: 0}
        workloads: [{id: idle, name: command, params: {command: "sleep 0.3"}}]
        """)
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("idle", 1)
    assert sorted({m.classifiers["type"] for m in job.metrics}) == ["battery", "cpu-thermal"]
    assert len(table(job)) == 2  # before and after only
    assert job.metric("battery_temperature_max").value == max(
        job.metric("battery_temperature_before").value,
        job.metric("battery_temperature_after").value)


def test_a_zone_asked_for_that_is_not_there(pytester, device) -> None:
    result = on_phone(pytester, device, root=False, agenda="""\
        config:
          augmentations: [thermal]
          thermal: {zones: [skin]}
        workloads: [{name: command, params: {command: "true"}}]
        """)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*instrument 'thermal' cannot work on device 'phone': no thermal zone matches skin; "
        "there are: thermal_zone0 (cpu-thermal), thermal_zone1 (gpu-thermal), thermal_zone2 "
        "(battery)*"])


def test_odd_zones_are_left_out_and_a_broken_one_makes_its_job_partial(pytester,
                                                                       device) -> None:
    """A zone whose block is powered down (its temp cannot be read) is left out when the run
    starts; one that breaks during a job makes that job PARTIAL, and the run goes on."""
    device.root()
    device.shell("cd /sys/class/thermal && mkdir thermal_zone3 thermal_zone4 && "
                 "echo modem > thermal_zone3/type && echo 40000 > thermal_zone3/temp && "
                 "echo camera > thermal_zone4/type && echo N/A > thermal_zone4/temp")
    result = on_phone(pytester, device, """\
        config: {augmentations: [thermal], max_retries: 0}
        workloads:
          - id: breaks
            name: command
            params: {command: "sleep 0.3; echo N/A > /sys/class/thermal/thermal_zone3/temp"}
          - {id: after, name: command, params: {command: "true"}, augmentations: [~thermal]}
        """, root=True)
    result.assert_outcomes(passed=1, failed=1)
    output = RunOutput(pytester.path / "wa_output")
    broken = output.job("breaks", 1)
    assert broken.status.name == "PARTIAL"
    [event] = [e.message for e in broken.events if e.message.startswith("instrument 'thermal'")]
    assert event == ("instrument 'thermal' failed in pytest_wa_job_execute: InstrumentError: "
                     "thermal_zone3 (modem) unreadable after the workload")
    assert broken.metric("cpu-thermal_temperature_max").value > 20
    assert "modem_temperature_before" not in {m.name for m in broken.metrics}
    assert output.job("after", 1).status.name == "OK"
    log = (pytester.path / "wa_output" / "run.log").read_text()
    assert "thermal: zone left out: thermal_zone4 (camera): its temperature reads 'N/A'" in log


# --- on this host: a VM without thermal zones ---------------------------------------------


@pytest.mark.parametrize("optional", [False, True])
def test_this_host_without_thermal_zones(pytester, optional: bool) -> None:
    if list(Path("/sys/class/thermal").glob("thermal_zone*/temp")):
        pytest.skip("this host has thermal zones: this test is about a device without")
    pytester.makefile(".yaml", agenda=textwrap.dedent(f"""\
        config:
          augmentations: [thermal]
          thermal: {{optional: {str(optional).lower()}}}
        workloads: [{{name: command, params: {{command: "true"}}}}]
        """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml", "-v")
    refusal = ("instrument 'thermal' cannot work on device 'local': no readable thermal zone "
               "in /sys/class/thermal (no thermal driver on this device, as in most VMs)")
    if not optional:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*{refusal}*optional: true*"])
        return
    result.assert_outcomes(passed=1)
    assert RunOutput(pytester.path / "wa_output").jobs[0].metrics == []
    assert refusal in (pytester.path / "wa_output" / "run.log").read_text()


def test_a_negative_period_is_found_at_collection(pytester) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent("""\
        config:
          augmentations: [thermal]
          thermal: {period: -1}
        workloads: [{name: command, params: {command: "true"}}]
        """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*agenda.yaml:3: config.thermal.period: instrument 'thermal':"
                                 " expected seconds, 0 or more, got -1*"])


def test_zones_sharing_a_type_are_named_by_directory() -> None:
    root = "/sys/class/thermal"
    zones, left_out = readable_zones({
        f"{root}/thermal_zone10/type": "cpu", f"{root}/thermal_zone10/temp": "50000",
        f"{root}/thermal_zone2/type": "cpu", f"{root}/thermal_zone2/temp": "48000",
        f"{root}/thermal_zone3/type": "skin", f"{root}/thermal_zone3/temp": "31000",
        f"{root}/thermal_zone4/type": "gpu", f"{root}/thermal_zone4/temp": None})
    assert [(z.directory, z.name) for z in zones] == [
        ("thermal_zone2", "thermal_zone2"), ("thermal_zone3", "skin"),
        ("thermal_zone10", "thermal_zone10")]
    assert left_out == ["thermal_zone4 (gpu): its temperature reads None"]
