"""The simulated Android device, through the real adb server (adb 36) and adbutils.

Every check goes the way a workload's would: adb CLI or adbutils, to a
private adb server, to the device over TCP. The fixtures come from
``pytest_wa.testing.fixtures`` (loaded by the root conftest).
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_wa.testing.adb import AdbServer
from pytest_wa.testing.fixtures import ConnectedDevice
from pytest_wa.testing.simdevice import SimulatedDevice
from pytest_wa.testing.simdevice.cpus import DEFAULT_GOVERNOR

GOVERNOR = "/sys/devices/system/cpu/cpu{}/cpufreq/scaling_governor"
as_real_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="uid 2000 exists only when the device runs as real root")


def out(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stdout.decode()


def namespace_processes(device: SimulatedDevice) -> list[int]:
    """Pids in the device's mount namespace: the daemon and whatever it runs."""
    assert device.pid is not None
    namespace = os.stat(f"/proc/{device.pid}/ns/mnt")
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                info = os.stat(f"/proc/{entry}/ns/mnt")
            except OSError:
                continue
            if (info.st_ino, info.st_dev) == (namespace.st_ino, namespace.st_dev):
                pids.append(int(entry))
    return pids


def wait_gone(pids: list[int], timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = [pid for pid in alive if Path(f"/proc/{pid}").exists()
                 and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]]
    return alive


def smart_socket(server: AdbServer, serial: str, service: str) -> socket.socket:
    """A raw client: host:transport:SERIAL, then the device service."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    for request in (f"host:transport:{serial}", service):
        sock.sendall(b"%04x" % len(request) + request.encode())
        status = sock.recv(4)
        if status != b"OKAY":
            sock.close()
            raise ConnectionError(f"{service}: {status!r}")
    return sock


def read_v2_until_exit(sock: socket.socket) -> tuple[bytes, int]:
    buffer, stdout = b"", b""
    while True:
        data = sock.recv(65536)
        assert data, "stream closed before the exit packet"
        buffer += data
        while len(buffer) >= 5:
            kind, length = struct.unpack_from("<BI", buffer)
            if len(buffer) < 5 + length:
                break
            payload, buffer = buffer[5:5 + length], buffer[5 + length:]
            if kind == 1:
                stdout += payload
            elif kind == 3:
                return stdout, payload[0]


# -- shell ---------------------------------------------------------------------------------


def test_adb_cli_shell_exit_codes_and_separate_stderr(wa_simulated_device: ConnectedDevice):
    device = wa_simulated_device
    hi = device.adb("shell", "echo", "hi")
    assert (hi.returncode, hi.stdout, hi.stderr) == (0, b"hi\n", b"")
    assert device.adb("shell", "exit 3").returncode == 3
    mixed = device.adb("shell", "echo out; echo err >&2; exit 1")
    assert (mixed.returncode, mixed.stdout, mixed.stderr) == (1, b"out\n", b"err\n")
    binary = device.adb("exec-out", r"printf 'a\000b'")
    assert binary.stdout == b"a\0b"
    piped = device.adb("shell", "tr a-z A-Z", input=b"from stdin\n")
    assert piped.stdout == b"FROM STDIN\n"


def test_adbutils_shell_v2_v1_and_the_shell_environment(wa_simulated_device: ConnectedDevice):
    result = wa_simulated_device.shell("pwd; echo $PATH; echo oops >&2; exit 7")
    assert result.returncode == 7
    assert result.stdout.splitlines()[0] == "/"
    assert result.stdout.splitlines()[1].startswith("/product/bin:")
    assert result.stderr == "oops"
    # Legacy "shell:" (v1): merged output, no exit code (adbutils appends its own marker).
    device = wa_simulated_device.adbutils()
    assert device.shell("echo one; echo two >&2") == "one\ntwo"
    assert device.shell2("false").returncode == 1  # v1, exit code from adbutils' marker
    # A command is a session of its own: pid == process group == session id.
    ids = wa_simulated_device.shell("cut -d' ' -f1,5,6 /proc/$$/stat").stdout.split()
    assert len(set(ids)) == 1, ids


def test_preexec_spawning_and_pty(wa_simulated_devices):
    """The other way into the device root (and the one a pty always takes)."""
    device = wa_simulated_devices(spawn="preexec")
    ids = device.shell("pwd; id -u; cut -d' ' -f1,5,6 /proc/$$/stat").stdout.split()
    assert ids[0] == "/" and ids[1] == ("2000" if os.geteuid() == 0 else "0")
    assert len(set(ids[2:])) == 1
    with smart_socket(device.server, device.serial, "shell,v2,pty,TERM=vt100:tty; echo $TERM;"
                      " exit 2") as sock:
        stdout, code = read_v2_until_exit(sock)
    tty, term = stdout.split()
    assert tty.startswith(b"/dev/pts/") and term == b"vt100" and code == 2


@as_real_root
def test_shell_user_and_root(wa_simulated_device: ConnectedDevice):
    device = wa_simulated_device
    assert device.shell("id").stdout.startswith("uid=2000(shell) gid=2000(shell)")
    governor = GOVERNOR.format(0)
    assert device.shell(f"cat {governor}").stdout == DEFAULT_GOVERNOR
    denied = device.shell(f"echo performance > {governor}")
    assert denied.returncode != 0 and "Permission denied" in denied.stderr

    assert device.root() == "restarting adbd as root"
    assert device.shell("id -u").stdout == "0"
    assert device.shell(f"echo performance > {governor}").returncode == 0
    # cpu0-3 share a policy (LITTLE cluster), cpu4-7 have their own.
    assert device.shell(f"cat {GOVERNOR.format(3)} {GOVERNOR.format(7)}").stdout.split() == [
        "performance", DEFAULT_GOVERNOR]
    assert device.root() == "adbd is already running as root"
    assert device.shell("getprop service.adb.root").stdout == "1"

    assert device.unroot() == "restarting adbd as non root"
    assert device.shell("id -u").stdout == "2000"


def test_production_build_refuses_root(wa_simulated_devices):
    device = wa_simulated_devices(debuggable=False, model="Retail")
    answer = device.adb("root")
    assert out(answer) == "adbd cannot run as root in production builds\n"
    assert device.shell("getprop ro.debuggable; getprop ro.build.type").stdout.split() == [
        "0", "user"]


# -- files ---------------------------------------------------------------------------------


def test_sync_round_trip_of_5_mb(wa_simulated_device: ConnectedDevice, tmp_path: Path):
    data = os.urandom(5 * 1024 * 1024)
    local = tmp_path / "big.bin"
    local.write_bytes(data)
    sync = wa_simulated_device.adbutils().sync
    sync.push(str(local), "/data/local/tmp/big.bin")
    info = sync.stat("/data/local/tmp/big.bin")
    assert info.size == len(data) and info.mode & 0o170000 == 0o100000
    assert {".", "..", "big.bin"} <= {entry.path for entry in sync.list("/data/local/tmp")}
    assert sync.read_bytes("/data/local/tmp/big.bin") == data
    assert sync.stat("/data/local/tmp/missing").mode == 0

    # The adb CLI (stat v2, fixed_push_mkdir), through /sdcard's absolute symlinks.
    device = wa_simulated_device
    pushed = device.adb("push", str(local), "/sdcard/new/dir/big.bin")
    assert pushed.returncode == 0, pushed.stderr
    back = tmp_path / "back.bin"
    assert device.adb("pull", "/storage/emulated/0/new/dir/big.bin", str(back)).returncode == 0
    assert back.read_bytes() == data
    listing = device.shell("stat -c '%U %s' /storage/emulated/0/new/dir/big.bin").stdout
    assert listing == ("shell" if os.geteuid() == 0 else "root") + f" {len(data)}"


def test_sync_stays_inside_the_device(wa_simulated_device: ConnectedDevice, tmp_path: Path):
    device = wa_simulated_device
    device.shell("ln -s / /data/local/tmp/up; ln -s ../../../../.. /data/local/tmp/rel")
    sync = device.adbutils().sync
    for path in ("/data/local/tmp/up/system/bin/getprop", "/data/local/tmp/rel/system/bin/getprop",
                 "/../../system/bin/getprop"):
        assert sync.read_text(path).startswith("#!/system/bin/sh"), path
    marker = tmp_path / "host-only"
    marker.write_text("host")
    assert not sync.exists(str(marker))


@as_real_root
def test_push_to_a_root_only_file_fails_as_shell(wa_simulated_device: ConnectedDevice,
                                                 tmp_path: Path):
    local = tmp_path / "governor"
    local.write_text("performance\n")
    pushed = wa_simulated_device.adb("push", str(local), GOVERNOR.format(0))
    assert pushed.returncode != 0
    assert "Permission denied" in out(pushed) + pushed.stderr.decode()


# -- device tools --------------------------------------------------------------------------


def test_properties_and_identity(wa_simulated_devices):
    device = wa_simulated_devices(model="Pixel Sim", sdk=34, cpus=4,
                                  properties={"ro.vendor.extra": "yes"})
    values = device.shell("getprop ro.product.model; getprop ro.build.version.sdk; "
                          "getprop ro.build.version.release; getprop ro.vendor.extra; "
                          "getprop ro.product.cpu.abi; getprop sys.boot_completed; "
                          "getprop no.such.prop fallback").stdout.splitlines()
    assert values == ["Pixel Sim", "34", "14", "yes", "arm64-v8a", "1", "fallback"]
    listing = device.shell("getprop").stdout.splitlines()
    assert "[ro.product.model]: [Pixel Sim]" in listing
    assert f"[ro.serialno]: [sim-{device.device.port}]" in listing
    assert device.shell("setprop debug.wa 42 && getprop debug.wa").stdout == "42"
    refused = device.shell("setprop ro.product.model Other")
    assert refused.returncode == 1 and "Failed to set property" in refused.stderr
    assert "model:Pixel_Sim" in out(device.server.run("devices", "-l"))
    assert device.adbutils().prop.model == "Pixel Sim"
    cpus = device.shell("grep -c ^processor /proc/cpuinfo; "
                        "cat /sys/devices/system/cpu/possible").stdout.split()
    assert cpus == ["4", "0-3"]


def test_pm_screencap_uiautomator_logcat(wa_simulated_device: ConnectedDevice, tmp_path: Path):
    device = wa_simulated_device
    apk = tmp_path / "app.apk"
    apk.write_bytes(b"PK\x03\x04 not really a zip; package=com.example.pushed\n")
    assert device.adb("push", str(apk), "/data/local/tmp/app.apk").returncode == 0
    assert device.shell("pm install -r -t /data/local/tmp/app.apk").stdout == "Success"
    streamed = tmp_path / "other.apk"
    streamed.write_bytes(b"PK package=com.example.streamed\n")
    installed = device.adb("install", str(streamed))  # streamed through "cmd package"
    assert installed.returncode == 0 and "Success" in out(installed), installed
    packages = device.shell("pm list packages -3").stdout.splitlines()
    assert packages == ["package:com.example.pushed", "package:com.example.streamed"]
    assert "package:android" in device.shell("pm list packages").stdout
    assert device.shell("pm path com.example.pushed").stdout == (
        "package:/data/app/com.example.pushed/base.apk")
    assert device.shell("pm uninstall com.example.pushed").stdout == "Success"

    png = device.adb("exec-out", "screencap -p").stdout
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert device.adbutils().screenshot().size == (108, 234)

    dump = device.shell("uiautomator dump")
    assert dump.stdout == "UI hierchary dumped to: /sdcard/window_dump.xml"
    assert device.adbutils().sync.read_text("/sdcard/window_dump.xml").startswith("<?xml")

    device.shell("log -t WaTest -p w hello from the test")
    assert " W WaTest  : hello from the test" in device.shell("logcat -d").stdout
    device.shell("logcat -c")
    assert "hello" not in device.shell("logcat -d -v threadtime").stdout


# -- life and death ------------------------------------------------------------------------


def test_reboot_resets_volatile_state(wa_simulated_devices):
    device = wa_simulated_devices(boot_time=0.3)
    device.root()
    device.shell(f"echo performance > {GOVERNOR.format(0)}; touch /tmp/x /data/local/tmp/kept;"
                 " setprop debug.volatile 1; setprop persist.kept 2; log -t Before reboot")
    device.shell("setsid sleep 1000 < /dev/null > /dev/null 2>&1 &")
    before = namespace_processes(device.device)

    device.adb("reboot")  # returns once the device is down
    assert device.server.devices().get(device.serial) != "device"
    device.wait_ready()

    state = device.shell(f"cat {GOVERNOR.format(0)}; ls /tmp; ls /data/local/tmp; id -u; "
                         "getprop debug.volatile; getprop persist.kept; logcat -d | grep -c Before")
    expected_uid = "2000" if os.geteuid() == 0 else "0"
    assert state.stdout.split() == [DEFAULT_GOVERNOR, "kept", expected_uid, "2", "0"]
    assert wait_gone([pid for pid in before if pid != device.device.pid]) == []


def test_two_devices_side_by_side(wa_simulated_devices, tmp_path: Path):
    little = wa_simulated_devices(model="Little", cpus=2)
    big = wa_simulated_devices(model="Big", cpus=6, sdk=30)
    assert little.serial != big.serial
    devices = little.server.devices()
    assert devices[little.serial] == devices[big.serial] == "device"
    assert little.shell("cat /sys/devices/system/cpu/present").stdout == "0-1"
    assert big.shell("cat /sys/devices/system/cpu/present").stdout == "0-5"
    little.root()
    little.shell(f"echo powersave > {GOVERNOR.format(0)}; touch /data/local/tmp/only-little")
    assert little.shell(f"cat {GOVERNOR.format(0)}").stdout == "powersave"
    assert big.shell(f"cat {GOVERNOR.format(0)}").stdout == DEFAULT_GOVERNOR
    assert big.shell("ls /data/local/tmp").stdout == ""
    assert big.shell("getprop ro.product.model").stdout == "Big"


def test_closing_the_stream_kills_the_command(wa_simulated_device: ConnectedDevice):
    device = wa_simulated_device
    sock = smart_socket(device.server, device.serial, "shell,v2,raw:echo $$; sleep 1000; echo no")
    first = b""
    while not first.endswith(b"\n"):
        first += sock.recv(64)
    pid = int(first[5:])
    assert Path(f"/proc/{pid}").exists()
    sock.close()
    assert wait_gone([pid]) == []

    # Same through the adb CLI: kill the client, the device hangs the command up.
    cli = subprocess.Popen(device.server.adb_command("shell", "echo $$; exec sleep 1000",
                                                     serial=device.serial),
                           env=device.server.env(), stdout=subprocess.PIPE)
    assert cli.stdout is not None
    pid = int(cli.stdout.readline())
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    assert wait_gone([pid]) == []


def test_unknown_service_is_refused(wa_simulated_device: ConnectedDevice):
    with pytest.raises(ConnectionError):
        smart_socket(wa_simulated_device.server, wa_simulated_device.serial, "no-such-service:")
    # The connection is still fine afterwards.
    assert wa_simulated_device.shell("echo ok").stdout == "ok"


def test_kill_and_stop_leave_nothing(wa_adb_server: AdbServer):
    for ending in ("kill", "stop"):
        device = ConnectedDevice(SimulatedDevice().start(), wa_adb_server).connect()
        simulated = device.device
        device.shell("setsid sleep 1000 < /dev/null > /dev/null 2>&1 &")
        device.shell("sleep 1000 < /dev/null > /dev/null 2>&1 &")
        processes = namespace_processes(simulated)
        assert len(processes) >= 3
        workdir = Path(simulated.workdir)
        assert workdir.is_dir()
        getattr(device, ending)()
        assert wait_gone(processes) == []
        assert not workdir.exists()
        mounts = Path("/proc/self/mountinfo").read_text()
        assert "pytest-wa-simdevice" not in mounts
        if ending == "kill":
            wa_adb_server.wait_for(device.serial, "offline", timeout=10)
            wa_adb_server.disconnect(device.serial)


def test_no_namespace_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch):
    from pytest_wa.testing.simdevice import linux, rootfs

    def refuse(flags: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(linux, "unshare", refuse)
    with pytest.raises(rootfs.SetupError, match="^cannot create a mount namespace: run as root, "
                       "or enable unprivileged user namespaces"):
        rootfs.enter_namespace()


def test_cli_refuses_reserved_ports():
    result = subprocess.run([sys.executable, "-m", "pytest_wa.testing.simdevice", "--port", "5555"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "reserved" in result.stderr


def test_round_trip_is_fast(wa_simulated_device: ConnectedDevice):
    """shell,v2 ``true`` through the adb server, raw client and adb CLI (printed with -s)."""
    device = wa_simulated_device

    def raw() -> None:
        with smart_socket(device.server, device.serial, "shell,v2,raw:true") as sock:
            assert read_v2_until_exit(sock) == (b"", 0)

    raw()
    start = time.perf_counter()
    for _ in range(30):
        raw()
    raw_ms = (time.perf_counter() - start) / 30 * 1000
    start = time.perf_counter()
    for _ in range(10):
        device.adb("shell", "true")
    cli_ms = (time.perf_counter() - start) / 10 * 1000
    print(f"\nshell,v2 true: raw smart socket {raw_ms:.1f} ms, adb CLI {cli_ms:.1f} ms")
    assert raw_ms < 50 and cli_ms < 100
