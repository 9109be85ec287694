"""The device's power and thermal hardware in sysfs: hwmon, powercap, thermal, battery.

One load figure drives everything, so the numbers instruments read agree
with each other as on a real phone: the busy fraction of the host's CPUs
(the device shares the host's /proc, so a workload run on the device loads
them) sets the power of each rail; energy counters and the battery's charge
advance by power x elapsed time; temperatures move towards a level set by
power, with a lag. The rails, in watts, for a busy fraction ``b``:

- little cores 0.10 + 0.50 b, big cores 0.05 + 2.95 b, GPU 0.15 + 0.10 b;
- the SoC package (RAPL ``package-0``): those three + 1.6 (uncore, DRAM);
- the whole device (``sys``, the battery, the INA231 monitor): package + 0.8.

What a kernel shows, where it shows it:

- ``/sys/class/hwmon/hwmonN``: ``scmi_sensors`` (energyN_input in uJ and
  powerN_input in uW for the little, big, gpu and sys rails, a SoC temperature),
  ``cpu_thermal`` and ``gpu_thermal`` (what thermal zones register), an
  ``ina231`` current monitor on the battery rail (in0 shunt and in1 bus voltage
  in mV, curr1 in mA, power1 in uW, no labels) and a ``pwmfan`` (fan1_input in
  rpm: a sensor kind the instruments do not know).
- ``/sys/class/powercap/intel-rapl:0`` (``package-0``) and ``intel-rapl:0:0``
  (``core``): ``energy_uj`` (root only, as since Linux 5.10) wraps at
  ``max_energy_range_uj``, set small (a few seconds of load) so that tests
  cross a wrap.
- ``/sys/class/thermal/thermal_zone0..2`` (``cpu-thermal``, ``gpu-thermal``,
  ``battery``): ``temp`` in millidegrees C.
- ``/sys/class/power_supply/battery``: discharging (wireless adb), with
  ``capacity``, ``status``, ``voltage_now`` (uV), ``current_now`` (uA, negative
  while discharging), ``charge_counter`` (uAh) moving with time; and ``usb``,
  offline.

As on real kernels the class directories hold symlinks into ``/sys/devices``.
Files are replaced whole at each tick (write, then rename), so a reader never
sees a half-written number.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field

HWMON_DEVICES = (  # (class link name, device directory under /sys/devices, hwmon name)
    ("hwmon0", "platform/firmware:scmi/scmi_dev.6/hwmon/hwmon0", "scmi_sensors"),
    ("hwmon1", "virtual/thermal/thermal_zone0/hwmon1", "cpu_thermal"),
    ("hwmon2", "virtual/thermal/thermal_zone1/hwmon2", "gpu_thermal"),
    ("hwmon3", "platform/soc/a90000.i2c/i2c-4/4-0040/hwmon/hwmon3", "ina231"),
    ("hwmon4", "platform/pwm-fan/hwmon/hwmon4", "pwmfan"),
)
RAILS = ("little", "big", "gpu", "sys")
RAPL = "virtual/powercap/intel-rapl"
#: Where the package counter wraps (uJ): 4 J, a second or two of the package's power.
RAPL_RANGE_UJ = 4_000_000
ZONES = ("cpu-thermal", "gpu-thermal", "battery")
BATTERY_FULL_UAH = 4_500_000
SHUNT_OHMS = 0.01


@dataclass
class PowerState:
    """What the hardware holds between ticks (energies in joules, temperatures in C)."""

    energy: dict[str, float] = field(default_factory=lambda: dict.fromkeys(RAILS, 0.0))
    rapl: dict[str, float] = field(default_factory=lambda: {"package": 1.2345, "core": 0.5})
    temps: dict[str, float] = field(default_factory=dict)
    charge_uah: float = 0.8 * BATTERY_FULL_UAH
    cpu_times: tuple[int, int] | None = None  # (busy, total) jiffies at the last tick
    busy: float = 0.0


_STATES: dict[str, PowerState] = {}
_LOCK = threading.Lock()


def rail_power(busy: float) -> dict[str, float]:
    """Watts of each rail, and of the RAPL zones, at a busy fraction of 0..1."""
    b = min(max(busy, 0.0), 1.0)
    little, big, gpu = 0.10 + 0.50 * b, 0.05 + 2.95 * b, 0.15 + 0.10 * b
    package = little + big + gpu + 1.6
    return {"little": little, "big": big, "gpu": gpu, "sys": package + 0.8,
            "package": package, "core": little + big}


def settled_temperatures(power: dict[str, float]) -> dict[str, float]:
    """The temperature (C) each zone tends to under a constant ``power``."""
    return {"cpu-thermal": 33.0 + 9.0 * power["core"],
            "gpu-thermal": 31.0 + 20.0 * power["gpu"],
            "battery": 28.0 + 1.5 * power["sys"]}


#: Seconds for each zone to close 63 % of the gap to its settled temperature.
LAG = {"cpu-thermal": 3.0, "gpu-thermal": 6.0, "battery": 60.0}


def battery_volts(charge_uah: float) -> float:
    return 3.45 + 0.75 * min(max(charge_uah / BATTERY_FULL_UAH, 0.0), 1.0)


# --- building --------------------------------------------------------------------------


def build_power_tree(sys_root: str, cpu_count: int) -> None:
    """Writes the power and thermal trees under ``sys_root``, as a fresh boot has them."""
    del cpu_count  # one SoC whatever its CPU count
    state = PowerState()
    state.temps = settled_temperatures(rail_power(0.0))
    for link, device, name in HWMON_DEVICES:
        _link(sys_root, f"class/hwmon/{link}", f"devices/{device}")
        _write(sys_root, f"devices/{device}/name", name)
    _write_labels(sys_root)
    _build_powercap(sys_root)
    _build_thermal(sys_root)
    _build_power_supply(sys_root)
    with _LOCK:
        _STATES[sys_root] = state
        _publish(sys_root, state, rail_power(0.0))


def _write_labels(sys_root: str) -> None:
    scmi = _device_path("hwmon0")
    for number, rail in enumerate(RAILS, start=1):
        _write(sys_root, f"{scmi}/energy{number}_label", f"{rail}_energy")
        _write(sys_root, f"{scmi}/power{number}_label", f"{rail}_power")
    _write(sys_root, f"{scmi}/temp1_label", "soc_temp")
    _write(sys_root, f"{_device_path('hwmon4')}/pwm1_enable", "2")


def _build_powercap(sys_root: str) -> None:
    _link(sys_root, "class/powercap/intel-rapl", f"devices/{RAPL}")
    _write(sys_root, f"devices/{RAPL}/enabled", "1")
    for zone, name in (("intel-rapl:0", "package-0"), ("intel-rapl:0/intel-rapl:0:0", "core")):
        base = f"devices/{RAPL}/{zone}"
        _link(sys_root, f"class/powercap/{os.path.basename(zone)}", base)
        _write(sys_root, f"{base}/name", name)
        _write(sys_root, f"{base}/enabled", "1")
        _write(sys_root, f"{base}/max_energy_range_uj", str(RAPL_RANGE_UJ))
        _write(sys_root, f"{base}/constraint_0_name", "long_term")
        _write(sys_root, f"{base}/constraint_0_power_limit_uw", "6000000")
        _write(sys_root, f"{base}/constraint_0_time_window_us", "27983872")


def _build_thermal(sys_root: str) -> None:
    for index, zone in enumerate(ZONES):
        base = f"devices/virtual/thermal/thermal_zone{index}"
        _link(sys_root, f"class/thermal/thermal_zone{index}", base)
        _write(sys_root, f"{base}/type", zone)
        _write(sys_root, f"{base}/mode", "enabled")
        _write(sys_root, f"{base}/policy", "step_wise")
        _write(sys_root, f"{base}/trip_point_0_type", "passive")
        _write(sys_root, f"{base}/trip_point_0_temp", "85000")
        _write(sys_root, f"{base}/trip_point_1_type", "critical")
        _write(sys_root, f"{base}/trip_point_1_temp", "105000")


def _build_power_supply(sys_root: str) -> None:
    fixed = {
        "battery": {"type": "Battery", "present": "1", "technology": "Li-ion",
                    "health": "Good", "status": "Discharging", "charge_type": "N/A",
                    "charge_full": str(BATTERY_FULL_UAH), "charge_full_design": "4600000",
                    "voltage_max_design": "4400000", "voltage_min_design": "3400000",
                    "cycle_count": "42"},
        "usb": {"type": "USB", "present": "1", "online": "0", "voltage_now": "0",
                "current_max": "0"},
    }
    for supply, files in fixed.items():
        base = f"devices/platform/soc/soc:charger/power_supply/{supply}"
        _link(sys_root, f"class/power_supply/{supply}", base)
        for name, value in files.items():
            _write(sys_root, f"{base}/{name}", value)


# --- ticking ---------------------------------------------------------------------------


def tick(sys_root: str, seconds: float) -> None:
    """Advances the energy counters, temperatures and battery by ``seconds``."""
    with _LOCK:
        state = _STATES.get(sys_root)
        if state is None:
            return
        state.busy = _host_busy(state)
        power = rail_power(state.busy)
        advance(state, power, seconds)
        _publish(sys_root, state, power)


def advance(state: PowerState, power: dict[str, float], seconds: float) -> None:
    """``seconds`` at ``power``: counters and charge integrate it, temperatures follow it."""
    for rail in RAILS:
        state.energy[rail] += power[rail] * seconds
    for zone in state.rapl:
        state.rapl[zone] += power[zone] * seconds
    amps = power["sys"] / battery_volts(state.charge_uah)
    state.charge_uah = max(state.charge_uah - amps * seconds / 3600 * 1e6, 0.0)
    for zone, settled in settled_temperatures(power).items():
        gap = settled - state.temps[zone]
        state.temps[zone] += gap * (1 - math.exp(-seconds / LAG[zone]))


def _host_busy(state: PowerState) -> float:
    """The host CPUs' busy fraction since the last tick, from /proc/stat's cpu line."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return state.busy
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already in user and nice
    previous, state.cpu_times = state.cpu_times, (total - idle, total)
    if previous is None or total <= previous[1]:
        return state.busy
    return (total - idle - previous[0]) / (total - previous[1])


def _publish(sys_root: str, state: PowerState, power: dict[str, float]) -> None:
    """Every moving file, from ``state`` and the power of this tick."""
    values = _hwmon_values(state, power)
    for index, zone in enumerate(ZONES):
        values[f"devices/virtual/thermal/thermal_zone{index}/temp"] = _milli(state.temps[zone])
    for zone, key in (("intel-rapl:0", "package"), ("intel-rapl:0/intel-rapl:0:0", "core")):
        counter = int(state.rapl[key] * 1e6) % RAPL_RANGE_UJ
        values[f"devices/{RAPL}/{zone}/energy_uj"] = str(counter)
    values.update(_battery_values(state, power))
    for relative, text in values.items():
        _write(sys_root, relative, text, 0o400 if relative.endswith("energy_uj") else 0o444)


def _hwmon_values(state: PowerState, power: dict[str, float]) -> dict[str, str]:
    scmi = _device_path("hwmon0")
    values = {}
    for number, rail in enumerate(RAILS, start=1):
        values[f"{scmi}/energy{number}_input"] = str(int(state.energy[rail] * 1e6))
        values[f"{scmi}/power{number}_input"] = str(int(power[rail] * 1e6))
    cpu, gpu = state.temps["cpu-thermal"], state.temps["gpu-thermal"]
    values[f"{scmi}/temp1_input"] = _milli(max(cpu, gpu) + 0.5)
    values[f"{_device_path('hwmon1')}/temp1_input"] = _milli(cpu)
    values[f"{_device_path('hwmon2')}/temp1_input"] = _milli(gpu)
    volts = battery_volts(state.charge_uah)
    amps = power["sys"] / volts
    ina = _device_path("hwmon3")
    values.update({f"{ina}/in0_input": str(round(amps * SHUNT_OHMS * 1000)),
                   f"{ina}/in1_input": str(round(volts * 1000)),
                   f"{ina}/curr1_input": str(round(amps * 1000)),
                   f"{ina}/power1_input": str(int(power["sys"] * 1e6))})
    rpm = 0 if cpu < 45.0 else int(3000 + 100 * (cpu - 45.0))
    fan = _device_path("hwmon4")
    values.update({f"{fan}/fan1_input": str(rpm), f"{fan}/pwm1": str(min(rpm // 40, 255))})
    return values


def _battery_values(state: PowerState, power: dict[str, float]) -> dict[str, str]:
    base = "devices/platform/soc/soc:charger/power_supply/battery"
    volts = battery_volts(state.charge_uah)
    return {f"{base}/capacity": str(round(100 * state.charge_uah / BATTERY_FULL_UAH)),
            f"{base}/voltage_now": str(int(volts * 1e6)),
            f"{base}/current_now": str(-int(power["sys"] / volts * 1e6)),
            f"{base}/charge_counter": str(int(state.charge_uah)),
            f"{base}/temp": str(round(state.temps["battery"] * 10))}


# --- files -----------------------------------------------------------------------------


def _device_path(link: str) -> str:
    return "devices/" + next(device for name, device, _ in HWMON_DEVICES if name == link)


def _milli(celsius: float) -> str:
    return str(round(celsius * 1000))


def _write(sys_root: str, relative: str, text: str, mode: int = 0o444) -> None:
    """Replace a file whole: readers see the old number or the new one, never half."""
    path = os.path.join(sys_root, relative)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.new")
    with open(temporary, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def _link(sys_root: str, relative: str, target: str) -> None:
    """A class entry: a relative symlink into /sys/devices, as the kernel makes them."""
    path = os.path.join(sys_root, relative)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    os.makedirs(os.path.join(sys_root, target), mode=0o755, exist_ok=True)
    os.symlink(os.path.relpath(os.path.join(sys_root, target), os.path.dirname(path)), path)
