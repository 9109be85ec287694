"""The energy_measurement instrument as users meet it: each backend on the simulated phone
(hwmon counters, RAPL whose counter wraps every second or two, the battery's fuel gauge),
NVIDIA GPUs through a stub of NVML (and the real one where a GPU is), WA3's lab meters and
this host (a VM without any meter) refused clearly, or left out when optional."""

from __future__ import annotations

import csv
import os
import stat
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest
from instrument_runs import on_host, on_phone
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa import RunOutput
from pytest_wa.instruments.availability import InstrumentUnavailable
from pytest_wa.instruments.energy.base import Counter, integrate
from pytest_wa.instruments.energy.nvml import NvmlBackend
from pytest_wa.instruments.energy.rapl import zone_sites
from pytest_wa.instruments.energy_measurement import select
from pytest_wa.instruments.snapshots import Snapshot
from pytest_wa.model.errors import InstrumentError
from pytest_wa.targets.local import LocalTarget
from pytest_wa.testing.simdevice import power

#: The simulated phone's whole-device power (W) at no load and at full load.
SYS_POWER = (power.rail_power(0)["sys"], power.rail_power(1)["sys"])


def plausible(watts: float, low: float, high: float, seconds: float) -> bool:
    """Within the simulated power's range, give or take what the counters' 0.1 s ticks
    (late ones on a busy host: 0.25 s) can add to or take from an average over ``seconds``."""
    return low * (1 - 0.25 / seconds) <= watts <= high * (1 + 0.25 / seconds)


def readings(job) -> list[dict[str, str]]:
    with open(job.artifact_path("energy_instrument_output"), newline="") as handle:
        return list(csv.DictReader(handle))


# --- on the simulated phone ---------------------------------------------------------------


def test_rapl_counts_every_wrap_around(pytester, device, subtests) -> None:
    """The package counter wraps at 4 J, every 0.7-2 s: a 4 s job crosses it at least once
    (and the core counter at another pace); the difference of the two zones stays the
    uncore's and GPU's 1.75-1.85 W only if every wrap of both was counted."""
    result = on_phone(pytester, device, """\
        config:
          augmentations: [energy_measurement]
          energy_measurement: {instrument: rapl, instrument_parameters: {period: 0.2}}
        workloads: [{id: long, name: command, params: {command: "sleep 4"}}]
        """)
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("long", 1)
    metrics = {metric.name: metric for metric in job.metrics}
    assert sorted(metrics) == ["package_0_average_power", "package_0_core_average_power",
                               "package_0_core_total_energy", "package_0_total_energy"]
    package, core = metrics["package_0_total_energy"], metrics["package_0_core_total_energy"]
    assert package.units == "joules" and package.lower_is_better and core.value > 0
    assert package.value > power.RAPL_RANGE_UJ / 1e6  # it wrapped
    uncore = metrics["package_0_average_power"].value - \
        metrics["package_0_core_average_power"].value
    assert 1.6 <= uncore <= 2.0, metrics
    low, high = power.rail_power(0)["package"], power.rail_power(1)["package"]
    assert plausible(metrics["package_0_average_power"].value, low, high, 4)
    rows = readings(job)
    assert len(rows) >= 4 and rows[0]["package_0_energy"] == "0.0"
    assert float(rows[-1]["package_0_energy"]) == pytest.approx(package.value)
    assert [float(row["time"]) for row in rows] == sorted(float(row["time"]) for row in rows)
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


def test_rapl_needs_root(pytester, device) -> None:
    result = on_phone(pytester, device, """\
        config:
          augmentations: [energy_measurement]
          energy_measurement: {instrument: rapl}
        workloads: [{name: command, params: {command: "true"}}]
        """, root=False)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*instrument 'energy_measurement' cannot work on device 'phone': "
        "/sys/class/powercap/intel-rapl:0/energy_uj, /sys/class/powercap/intel-rapl:0:0/"
        "energy_uj readable by root only (Linux 5.10 and later): run as root "
        "(adb_as_root: true*"])


def test_hwmon_counters_chosen_by_channel(pytester, device) -> None:
    result = on_phone(pytester, device, """\
        config:
          augmentations: [energy_measurement]
          energy_measurement:
            instrument: hwmon
            channels: [sys_energy, sys_power, little_power]
        workloads: [{id: idle, name: command, params: {command: "sleep 1"}}]
        """, root=False)
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("idle", 1)
    metrics = {metric.name: metric for metric in job.metrics}
    assert sorted(metrics) == ["little_average_power", "sys_average_power",
                               "sys_total_energy"]
    sys_power = metrics["sys_average_power"]
    assert sys_power.units == "watts"
    assert plausible(sys_power.value, *SYS_POWER, 1)
    assert metrics["sys_total_energy"].value / sys_power.value >= 1.0  # the 1 s sleep
    assert plausible(metrics["little_average_power"].value, 0.1, 0.6, 1)
    assert set(readings(job)[0]) == {"time", "little_energy", "sys_energy"}


@pytest.mark.parametrize(("method", "status"), [("charge_counter", "Discharging"),
                                                ("current_now", "Charging")])
def test_the_battery_agrees_with_the_power_monitor(pytester, device, method: str,
                                                   status: str) -> None:
    """The fuel gauge (charge or sampled current) against the hwmon power monitor on the
    battery rail, around the same job; a charging battery is said to be one."""
    device.root()
    device.shell(f"echo {status} > /sys/class/power_supply/battery/status")
    result = on_phone(pytester, device, f"""\
        config:
          augmentations: [energy_measurement, hwmon]
          energy_measurement:
            instrument: power_supply
            instrument_parameters: {{method: {method}, period: 0.1}}
        workloads: [{{id: load, name: command, params: {{command: "sleep 2"}}}}]
        """)
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("load", 1)
    battery = job.metric("battery_total_energy").value
    sign = -1 if status == "Charging" else 1  # current while charging enters the battery
    assert sign * battery == pytest.approx(job.metric("sys_energy").value, rel=0.15)
    average = sign * job.metric("battery_average_power").value
    assert plausible(average, *SYS_POWER, 2)
    notes = [e.message for e in job.events if "battery was" in e.message]
    assert notes == ([] if status == "Discharging" else [
        "energy_measurement: the battery was Charging: the energy measured is its net flow, "
        "not the device's consumption"])
    columns = set(readings(job)[0])
    assert columns == ({"time", "battery_energy"} if method == "charge_counter"
                       else {"time", "battery_energy", "battery_power"})


# --- refused, or left out --------------------------------------------------------------------

LAB = """\
    config:
      augmentations: [energy_measurement]
      energy_measurement:
        instrument: daq
        instrument_parameters: {{resistor_values: [0.005], labels: [soc], device_id: Dev1}}
        optional: {optional}
    workloads: [{{name: command, params: {{command: "true"}}}}]
    """


@pytest.mark.parametrize("optional", [False, True])
def test_wa3_lab_meters_are_refused(pytester, optional: bool) -> None:
    result = on_host(pytester, LAB.format(optional=str(optional).lower()))
    refusal = ("instrument 'energy_measurement' cannot work on device 'local': WA3's 'daq' "
               "backend drives a National Instruments DAQ through ARM's daq-server, lab "
               "hardware pytest-wa has no driver for. pytest-wa measures energy with what the "
               "device itself has: instrument: hwmon")
    if not optional:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*{refusal}*"])
        return
    result.assert_outcomes(passed=1)
    assert refusal in (pytester.path / "wa_output" / "run.log").read_text()


def test_a_backend_parameter_typo_is_found_at_collection(pytester) -> None:
    result = on_host(pytester, """\
        config:
          augmentations: [energy_measurement]
          energy_measurement: {instrument: rapl, instrument_parameters: {perod: 0.1}}
        workloads: [{name: command, params: {command: "true"}}]
        """)
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error
    result.stdout.fnmatch_lines([
        "*agenda.yaml:3: config.energy_measurement.instrument_parameters: instrument "
        "'energy_measurement': unknown backend parameter 'perod'. Did you mean 'period'? The "
        "backends' parameters are rapl: period; power_supply: supply, method, period (and "
        "WA3's lab backends', accepted and unused)"])


def test_another_backends_parameter_is_refused_at_start(pytester) -> None:
    result = on_host(pytester, """\
        config:
          augmentations: [energy_measurement]
          energy_measurement: {instrument: rapl, instrument_parameters: {supply: battery}}
        workloads: [{name: command, params: {command: "true"}}]
        """)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*config.energy_measurement.instrument_parameters.supply: "
                                 "backend 'rapl': unknown parameter*Known parameters: period*"])
    assert not (pytester.path / "wa_output").exists()


def needs_a_host_without_rapl() -> None:
    if list(Path("/sys/class/powercap").glob("*/energy_uj")):
        pytest.skip("this host has RAPL: this test is about a device without")


@pytest.mark.parametrize("optional", [False, True])
def test_this_host_without_rapl_over_ssh(pytester, wa_sshd, home, optional: bool) -> None:
    needs_a_host_without_rapl()
    pytester.makefile(".yaml", agenda=textwrap.dedent(f"""\
        config:
          augmentations: [energy_measurement]
          energy_measurement: {{instrument: rapl, optional: {str(optional).lower()}}}
        workloads: [{{name: command, params: {{command: "true"}}}}]
        """))
    server = wa_sshd
    pytester.makefile(".yaml", lab=f"""\
        devices:
          board: {{kind: ssh, host: {server.host}, port: {server.port},
                   username: {server.username}, keyfile: {server.client_key},
                   known_hosts: {server.known_hosts}}}
        """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml",
                                           "--wa-config=lab.yaml", "--wa-device=board", "-v")
    refusal = ("instrument 'energy_measurement' cannot work on device 'board': no RAPL energy "
               "counters: /sys/class/powercap has no zone with energy_uj")
    if not optional:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*{refusal}*optional: true*"])
        return
    result.assert_outcomes(passed=1)
    assert RunOutput(pytester.path / "wa_output").jobs[0].metrics == []
    assert refusal in (pytester.path / "wa_output" / "run.log").read_text()


# --- the arithmetic ---------------------------------------------------------------------------


def test_a_wrapping_counter_is_integrated_across_its_wraps() -> None:
    counter = Counter("package", "/energy_uj", 1e-6, wraps_at=4.0)
    values = (3_500_000, 3_900_000, 200_000, 3_000_000, 1_000_000)  # two wraps
    measured = integrate([counter], [Snapshot(t, (str(v),)) for t, v in enumerate(values)])
    assert measured.joules == {"package": pytest.approx(0.4 + 0.3 + 2.8 + 2.0)}
    assert measured.seconds == 4
    assert [row["package_energy"] for row in measured.rows] == pytest.approx(
        [0.0, 0.4, 0.7, 3.5, 5.5])


def test_a_counter_that_cannot_wrap_and_goes_back_is_an_error() -> None:
    counter = Counter("sys", "/sys/class/hwmon/hwmon0/energy4_input", 1e-6)
    with pytest.raises(InstrumentError, match="energy4_input went back from 900 to 100 "
                                              r"\(the counter was reset during the job\)"):
        integrate([counter], [Snapshot(0, ("900",)), Snapshot(1, ("100",))])
    with pytest.raises(InstrumentError, match="could not be read after the workload"):
        integrate([counter], [Snapshot(0, ("900",)), Snapshot(1, (None,))])


def test_sites_kinds_and_channels_select_what_is_recorded() -> None:
    sites = ["big", "little", "sys"]
    assert select(sites, None, None, None) == dict.fromkeys(sites, ["energy", "power"])
    assert select(sites, ["sys"], ["power"], None) == {"sys": ["power"]}
    assert select(sites, None, None, ["big_energy", "sys_power"]) == {
        "big": ["energy"], "sys": ["power"]}
    with pytest.raises(InstrumentUnavailable, match="sites gpu not measured here; there are: "
                                                    "big, little, sys"):
        select(sites, ["gpu"], None, None)
    with pytest.raises(InstrumentUnavailable, match="kinds voltage not measured"):
        select(sites, None, ["voltage"], None)
    with pytest.raises(InstrumentUnavailable, match="select nothing"):
        select(sites, ["big"], None, ["sys_energy"])


# --- the simulated hardware itself -------------------------------------------------------------


def test_the_simulated_counters_follow_power_and_wrap(tmp_path: Path) -> None:
    root = str(tmp_path)
    power.build_power_tree(root, 8)
    state = power.PowerState(temps=power.settled_temperatures(power.rail_power(0)))
    watts = power.rail_power(1.0)
    power.advance(state, watts, 1.5)
    assert state.energy["sys"] == pytest.approx(watts["sys"] * 1.5)
    assert state.rapl["package"] == pytest.approx(1.2345 + watts["package"] * 1.5)
    assert state.charge_uah < 0.8 * power.BATTERY_FULL_UAH
    settled = power.settled_temperatures(watts)
    assert state.temps["battery"] < state.temps["gpu-thermal"] < settled["gpu-thermal"]
    energy_uj = tmp_path / "class/powercap/intel-rapl:0/energy_uj"
    assert stat.S_IMODE(energy_uj.stat().st_mode) == 0o400  # root only, as since Linux 5.10
    before = int(energy_uj.read_text())
    for _ in range(30):  # 3 s of the host's load: between 1.9 and 5.45 W
        power.tick(root, 0.1)
    after = int(energy_uj.read_text())
    assert 0 <= after < power.RAPL_RANGE_UJ
    assert os.readlink(tmp_path / "class/hwmon/hwmon0").startswith("../../devices/platform/")
    assert (tmp_path / "class/hwmon/hwmon0/energy4_label").read_text() == "sys_energy\n"
    assert int((tmp_path / "class/hwmon/hwmon0/energy4_input").read_text()) >= 2.7 * 3e6 - 1
    assert before != after


# --- NVIDIA GPUs through NVML ------------------------------------------------------------------

#: The surface of nvidia-ml-py that the nvml backend uses, with two GPUs: an A100 drawing a
#: steady 75 W, and a Kepler card without an energy counter (NVML: Not Supported).
NVML_STUB = '''
import time

NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_DRIVER_NOT_LOADED = 9
_TEXT = {3: "Not Supported", 9: "Driver Not Loaded"}
GPUS = [("NVIDIA A100-SXM4-40GB", 75.0), ("Tesla K80", None)]
FAIL_INIT = None
started = []


class NVMLError(Exception):
    def __init__(self, value):
        self.value = value

    def __str__(self):
        return _TEXT[self.value]


def nvmlInit():
    if FAIL_INIT:
        raise NVMLError(FAIL_INIT)
    started.append(True)


def nvmlShutdown():
    started.pop()


def nvmlDeviceGetCount():
    return len(GPUS)


def nvmlDeviceGetHandleByIndex(index):
    return ("handle", index)


def nvmlDeviceGetName(handle):
    return GPUS[handle[1]][0].encode()  # bytes, as nvidia-ml-py before 11.515 gives it


def nvmlDeviceGetTotalEnergyConsumption(handle):
    watts = GPUS[handle[1]][1]
    if watts is None:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return int(time.monotonic() * watts * 1000)  # millijoules
'''


@pytest.fixture
def stub_nvml(monkeypatch):
    module = types.ModuleType("pynvml")
    exec(NVML_STUB, module.__dict__)  # noqa: S102 - our own stub's text
    monkeypatch.setitem(sys.modules, "pynvml", module)
    return module


def test_nvml_reads_each_gpu_counter(stub_nvml) -> None:
    backend = NvmlBackend()
    assert backend.discover(LocalTarget()) == ["gpu0"]
    assert backend.left_out == ["gpu1 (Tesla K80): Not Supported: no energy counter"]
    backend.use(["gpu0"])
    backend.start(LocalTarget())
    time.sleep(0.2)
    measured = backend.stop(LocalTarget())
    assert measured.joules["gpu0"] / measured.seconds == pytest.approx(75, rel=0.05)
    backend.close()
    assert stub_nvml.started == []  # NVML shut down


def test_nvml_refusals(stub_nvml) -> None:
    with pytest.raises(InstrumentUnavailable, match="NVML reads the GPUs of the host pytest "
                                                    "runs on: use it with the local target"):
        NvmlBackend().discover(types.SimpleNamespace(kind="adb"))
    stub_nvml.FAIL_INIT = stub_nvml.NVML_ERROR_DRIVER_NOT_LOADED
    with pytest.raises(InstrumentUnavailable, match="NVML cannot start: Driver Not Loaded"):
        NvmlBackend().discover(LocalTarget())
    stub_nvml.FAIL_INIT, stub_nvml.GPUS = None, [("Tesla K80", None)]
    with pytest.raises(InstrumentUnavailable, match=r"no GPU has an energy counter \(Volta or "
                                                    r"later is needed\): gpu0 \(Tesla K80\)"):
        NvmlBackend().discover(LocalTarget())
    assert stub_nvml.started == []


def test_nvml_without_nvidia_ml_py(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml raises ImportError
    with pytest.raises(InstrumentUnavailable, match=r"pynvml cannot be imported .*: install "
                                                    r"the nvml extra: pip install "
                                                    r"'pytest-wa\[nvml\]'"):
        NvmlBackend().discover(LocalTarget())


NVML_AGENDA = """\
    config:
      augmentations: [energy_measurement]
      energy_measurement: {instrument: nvml}
    workloads: [{id: gpu, name: command, params: {command: "sleep 0.5"}}]
    """


def test_nvml_on_this_host_with_the_stub(pytester) -> None:
    """A whole run, the stub importable as pynvml in the run's own process."""
    pytester.makepyfile(pynvml=NVML_STUB)
    result = on_host(pytester, NVML_AGENDA)
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("gpu", 1)
    assert sorted(m.name for m in job.metrics) == ["gpu0_average_power", "gpu0_total_energy"]
    assert job.metric("gpu0_average_power").value == pytest.approx(75, rel=0.05)
    assert job.metric("gpu0_total_energy").value >= 75 * 0.5
    log = (pytester.path / "wa_output" / "run.log").read_text()
    assert "energy_measurement: left out: gpu1 (Tesla K80): Not Supported" in log


def test_nvml_on_this_host_for_real(pytester) -> None:
    """The real NVML, wherever nvidia-ml-py and an NVIDIA GPU with its driver are."""
    pynvml = pytest.importorskip("pynvml", reason="nvidia-ml-py is not installed "
                                                  "(pip install 'pytest-wa[nvml]')")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        pytest.skip(f"no NVIDIA GPU here: NVML cannot start: {exc}")
    pynvml.nvmlShutdown()
    result = on_host(pytester, NVML_AGENDA)
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").job("gpu", 1)
    assert job.metric("gpu0_total_energy").value > 0
    assert job.metric("gpu0_average_power").value > 0


def test_rapl_zones_are_named_after_their_parents_and_never_twice() -> None:
    root = "/sys/class/powercap"
    files = {f"{root}/intel-rapl:0/name": "package-0", f"{root}/intel-rapl:0/energy_uj": "1",
             f"{root}/intel-rapl:0:0/name": "core", f"{root}/intel-rapl:0:0/energy_uj": "1",
             f"{root}/intel-rapl:1/name": "psys", f"{root}/intel-rapl:1/energy_uj": "1",
             f"{root}/intel-rapl-mmio:0/name": "package-0",
             f"{root}/intel-rapl-mmio:0/energy_uj": "1"}
    assert zone_sites(files) == {
        f"{root}/intel-rapl:0": "package_0", f"{root}/intel-rapl:0:0": "package_0_core",
        f"{root}/intel-rapl:1": "psys", f"{root}/intel-rapl-mmio:0": "intel_rapl_mmio_0"}
