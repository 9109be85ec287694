"""The local target, with real processes."""

from __future__ import annotations

import os
import platform
import time

import pytest

from pytest_wa.model.errors import CommandError, CommandTimeoutError, TargetError
from pytest_wa.targets import Target
from pytest_wa.targets.local import LocalTarget


@pytest.fixture
def target(tmp_path):
    local = LocalTarget(working_directory=str(tmp_path / "work"))
    local.connect()
    yield local
    local.disconnect()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:  # a zombie is not alive
        return handle.read().split()[2] != "Z"


def test_implements_the_target_protocol(target: LocalTarget) -> None:
    assert isinstance(target, Target)


def test_execute_returns_both_streams_and_exit_code(target: LocalTarget) -> None:
    result = target.execute("echo out; echo err >&2; exit 7")
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 7)
    assert not result.ok and result.duration > 0


def test_check_raises_with_the_output(target: LocalTarget) -> None:
    with pytest.raises(CommandError, match="exited with code 2: ls /nonexistent"):
        target.execute("ls /nonexistent", check=True)


def test_timeout_kills_the_whole_process_group(target: LocalTarget, tmp_path) -> None:
    pids = tmp_path / "pids"
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError, match="timed out after 0.5 s"):
        target.execute(f"sleep 60 & echo $! > {pids}; sleep 60", timeout=0.5)
    assert time.monotonic() - started < 30
    background = int(pids.read_text())
    deadline = time.monotonic() + 5
    while alive(background) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(background), "the command's background child survived the timeout"


def test_background_command_can_be_stopped(target: LocalTarget, tmp_path) -> None:
    flag = tmp_path / "flag"
    command = target.background(f"echo started; touch {flag}; sleep 60")
    deadline = time.monotonic() + 30
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert command.poll() is None
    result = command.stop()
    assert result.stdout == "started\n"
    assert command.poll() is not None


def test_commands_run_in_a_per_run_working_directory(target: LocalTarget, tmp_path) -> None:
    workdir = target.working_directory
    assert workdir.startswith(str(tmp_path / "work"))
    assert target.execute("pwd").stdout.strip() == workdir
    other = LocalTarget(working_directory=str(tmp_path / "work"))
    other.connect()
    try:
        assert other.working_directory != workdir
    finally:
        other.disconnect()
    target.disconnect()
    assert not os.path.exists(workdir)


def test_push_pull_files_and_directories(target: LocalTarget, tmp_path) -> None:
    source = tmp_path / "data.txt"
    source.write_text("payload")
    on_target = os.path.join(target.working_directory, "data.txt")
    target.push(str(source), on_target)
    assert target.execute(f"cat {on_target}").stdout == "payload"
    folder = os.path.join(target.working_directory, "folder")
    target.execute(f"mkdir {folder} && echo x > {folder}/f")
    target.pull(folder, str(tmp_path / "back"))
    assert (tmp_path / "back" / "f").read_text() == "x\n"
    with pytest.raises(TargetError, match="cannot copy"):
        target.pull("/nonexistent/file", str(tmp_path / "nothing"))


def test_read_and_write_values_are_checked(target: LocalTarget) -> None:
    path = os.path.join(target.working_directory, "value")
    target.write_value(path, 1200000)
    assert target.read_value(path) == "1200000"
    with pytest.raises(TargetError):
        target.read_value(os.path.join(target.working_directory, "missing"))


def test_properties_describe_this_host(target: LocalTarget) -> None:
    props = target.properties
    assert props.os == platform.system().lower()
    assert props.kernel == platform.release()
    assert props.cpus == os.cpu_count()
    assert props.hostname
    assert props.abi in ("x86_64", "arm64", "armeabi", "x86") or props.abi == platform.machine()


def test_reboot_is_refused(target: LocalTarget) -> None:
    with pytest.raises(TargetError, match="cannot be rebooted"):
        target.reboot()
