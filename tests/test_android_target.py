"""The Android target, through the real adb server to the simulated device.

The device runs commands as uid 2000 ("shell") unless adbd runs as root, has
a fake cpufreq tree under /sys, getprop/setprop, pm, screencap, uiautomator
and logcat, reboots for real (drops off adb, comes back with /sys reset) and
can be killed outright.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from pytest_wa.model.errors import (
    CommandError,
    CommandTimeoutError,
    TargetError,
    TargetNotRespondingError,
)
from pytest_wa.targets import Target
from pytest_wa.targets.android import AndroidTarget, count_cpus, parse_getprop

GOVERNOR = "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"
as_real_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="the device's uid 2000 shell exists only when run as root")


def alive(target: AndroidTarget, pid: str) -> bool:
    """Whether process ``pid`` runs on the device (a zombie waiting to be reaped does not)."""
    state = target.execute(f"cut -d' ' -f3 /proc/{pid}/stat 2>/dev/null").stdout.strip()
    return state not in ("", "Z", "X")


def connected(device, **settings) -> AndroidTarget:
    target = AndroidTarget("phone", serial=device.serial, adb_port=device.adb_port,
                           **settings)
    target.connect()
    return target


@pytest.fixture
def target(wa_simulated_device):
    android = connected(wa_simulated_device)
    yield android
    android.disconnect()


def test_connects_and_describes_the_device(wa_simulated_devices) -> None:
    device = wa_simulated_devices(cpus=6, model="Pixel Sim", sdk=34)
    target = connected(device)
    directory = target.working_directory
    try:
        assert isinstance(target, Target)
        assert target.working_directory.startswith("/data/local/tmp/pytest-wa-run-")
        assert target.execute(f"test -d {target.working_directory}").ok
        props = target.properties
        assert (props.os, props.model, props.cpus) == ("android", "Pixel Sim", 6)
        assert props.extra["sdk"] == 34 and props.extra["serial"] == device.serial
        assert props.abi == target.execute("getprop ro.product.cpu.abi").stdout.strip()
        assert target.execute("pwd").stdout.strip() == target.working_directory
    finally:
        target.disconnect()
    assert device.shell(f"test -d {directory}").returncode != 0  # removed at disconnect


def test_exit_codes_and_separate_streams(target: AndroidTarget) -> None:
    result = target.execute("echo out; echo err >&2; exit 7")
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 7)
    with pytest.raises(CommandError, match="exited with code [12]: ls /nonexistent"):
        target.execute("ls /nonexistent", check=True)


def test_a_hanging_command_is_killed_on_the_device(target: AndroidTarget) -> None:
    started = time.monotonic()
    # SIGHUP ignored: the device's own hang-up when the stream closes does not stop
    # it, only pytest-wa's kill of the process group does.
    with pytest.raises(CommandTimeoutError, match="timed out after 1 s"):
        target.execute("trap '' HUP; sleep 60 & echo $! > bg.pid; sleep 60", timeout=1)
    assert time.monotonic() - started < 10
    background = target.execute("cat bg.pid", check=True).stdout.strip()
    time.sleep(0.3)
    assert not alive(target, background), "the child survived the timeout"


def test_ctrl_c_kills_the_command_on_the_device(target: AndroidTarget) -> None:
    timer = threading.Timer(0.7, os.kill, (os.getpid(), signal.SIGINT))  # a real Ctrl-C
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        target.execute("trap '' HUP; echo $$ > shell.pid; sleep 60", timeout=60)
    timer.cancel()
    pid = target.execute("cat shell.pid", check=True).stdout.strip()
    time.sleep(0.3)
    assert not alive(target, pid)


def test_the_device_sees_its_own_sysfs(target: AndroidTarget) -> None:
    governor = target.read_value(GOVERNOR)
    assert governor in target.read_value(
        "/sys/devices/system/cpu/cpu0/cpufreq/scaling_available_governors").split()
    host = Path(GOVERNOR)
    if host.exists():
        assert target.execute(f"cat {GOVERNOR}").stdout.strip() == governor


@as_real_root
def test_as_root_needs_root_and_adb_root_gives_it(wa_simulated_device) -> None:
    plain = connected(wa_simulated_device)
    try:
        assert not plain.is_rooted
        with pytest.raises(TargetError, match="as_root needs root: set adb_as_root"):
            plain.write_value(GOVERNOR, "performance")
        assert not plain.execute(f"echo performance > {GOVERNOR}").ok  # uid 2000
    finally:
        plain.disconnect()
    rooted = connected(wa_simulated_device, adb_as_root=True)
    try:
        assert rooted.is_rooted
        rooted.write_value(GOVERNOR, "performance")
        assert rooted.read_value(GOVERNOR) == "performance"
    finally:
        rooted.disconnect()


def test_adb_root_refused_by_a_production_build(wa_simulated_devices) -> None:
    device = wa_simulated_devices(debuggable=False)
    with pytest.raises(TargetError, match="adb_as_root: adbd cannot run as root in production"):
        connected(device, adb_as_root=True)


def test_push_and_pull_a_directory(target: AndroidTarget, tmp_path: Path) -> None:
    source = tmp_path / "tree"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("alpha")
    (source / "sub" / "b.bin").write_bytes(os.urandom(300_000))
    remote = f"{target.working_directory}/tree"
    target.push(str(source), remote)
    assert target.execute(f"cat {remote}/a.txt").stdout == "alpha"
    back = tmp_path / "back"
    target.pull(remote, str(back))
    assert (back / "a.txt").read_text() == "alpha"
    assert (back / "sub" / "b.bin").read_bytes() == (source / "sub" / "b.bin").read_bytes()
    with pytest.raises(TargetError, match="cannot pull"):
        target.pull("/data/local/tmp/no-such-file", str(tmp_path / "x"))


def test_install_and_uninstall(target: AndroidTarget, tmp_path: Path) -> None:
    apk = tmp_path / "com.example.bench.apk"
    apk.write_bytes(b"PK\x03\x04 not a real apk")
    target.install(str(apk))
    assert "com.example.bench" in target.installed_packages()
    target.uninstall("com.example.bench")
    assert "com.example.bench" not in target.installed_packages()
    with pytest.raises(TargetError, match="cannot uninstall com.example.absent"):
        target.uninstall("com.example.absent")


def test_screenshot_ui_dump_and_logcat(target: AndroidTarget, tmp_path: Path) -> None:
    target.screenshot(str(tmp_path / "screen.png"))
    assert (tmp_path / "screen.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    target.ui_dump(str(tmp_path / "ui.uix"))
    assert b"<hierarchy" in (tmp_path / "ui.uix").read_bytes()
    target.clear_logcat()
    target.execute("log -t bench 'hello from the job'", check=True)
    target.dump_logcat(str(tmp_path / "logcat.log"))
    assert "hello from the job" in (tmp_path / "logcat.log").read_text()


def test_background_command_stops_on_the_device(target: AndroidTarget) -> None:
    command = target.background("trap '' HUP; echo started; echo $$ > bg.pid; sleep 60")
    deadline = time.monotonic() + 10
    while not target.execute("test -s bg.pid").ok and time.monotonic() < deadline:
        time.sleep(0.05)
    assert command.poll() is None
    started = time.monotonic()
    result = command.stop()
    assert time.monotonic() - started < 5
    assert result.stdout == "started\n" and result.exit_code != 0
    pid = target.execute("cat bg.pid", check=True).stdout.strip()
    assert not alive(target, pid)
    finished = target.background("echo done")
    assert finished.wait(10).stdout == "done\n" and finished.poll() == 0


def test_reboot_waits_until_the_device_is_back(wa_simulated_device) -> None:
    target = connected(wa_simulated_device, adb_as_root=True, boot_timeout=60)
    try:
        target.write_value(GOVERNOR, "powersave")
        target.execute("echo kept > kept.txt", check=True)
        target.reboot()
        assert target.is_responsive() and target.is_rooted
        assert target.read_value(GOVERNOR) != "powersave"  # sysfs is reset by a boot
        assert target.execute("cat kept.txt").stdout == "kept\n"  # /data survives
    finally:
        target.disconnect()


def test_hard_reboot_needs_a_command(target: AndroidTarget) -> None:
    with pytest.raises(TargetError, match="no hard_reset_command is configured"):
        target.reboot(hard=True)


def test_a_device_that_vanishes_is_not_responding(wa_simulated_device) -> None:
    target = connected(wa_simulated_device)
    killer = threading.Timer(0.5, wa_simulated_device.kill)
    killer.start()
    started = time.monotonic()
    with pytest.raises(TargetNotRespondingError, match="is not responding"):
        target.execute("sleep 30", timeout=60)
    assert time.monotonic() - started < 15
    assert not target.is_responsive()


def test_unknown_serial_is_reported(wa_adb_server) -> None:
    target = AndroidTarget("ghost", serial="ZX1G22NOPE", adb_port=wa_adb_server.port,
                           connect_timeout=1)
    with pytest.raises(TargetNotRespondingError, match="adb ZX1G22NOPE .* is absent after 1 s"):
        target.connect()


def test_getprop_and_cpu_list_parsing() -> None:
    assert parse_getprop("[ro.a]: [1]\n[ro.b]: [x y]\njunk\n") == {"ro.a": "1", "ro.b": "x y"}
    assert count_cpus("0-3,6-7") == 6 and count_cpus("0") == 1
