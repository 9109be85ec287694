"""The SSH target against a real OpenSSH server on 127.0.0.1 (pytest_wa.testing.sshd).

The server runs on this host, so what a command leaves behind on the "board"
(files, processes) can be checked directly here.
"""

from __future__ import annotations

import logging
import os
import platform
import signal
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paramiko
import pytest

from pytest_wa.model.errors import (
    CommandError,
    CommandTimeoutError,
    TargetError,
    TargetNotRespondingError,
)
from pytest_wa.targets import Target
from pytest_wa.targets.ssh import SshTarget
from pytest_wa.targets.ssh.session import ExecRefused, exec_command
from pytest_wa.testing.ports import free_port
from pytest_wa.testing.ssh_fixtures import unavailable
from pytest_wa.testing.sshd import PasswordUser, SshServer


@pytest.fixture(autouse=True)
def no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the agent test uses an agent: keys in the caller's own would blur the results."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


def make_target(server: SshServer, **settings: object) -> SshTarget:
    options: dict[str, object] = {"port": server.port, "username": server.username,
                                  "keyfile": server.client_key,
                                  "known_hosts": server.known_hosts, **settings}
    return SshTarget("board", server.host, **options)  # type: ignore[arg-type]


@pytest.fixture
def connect(tmp_path: Path) -> Iterator[Callable[..., SshTarget]]:
    """Connects targets to a server; disconnects them all at the end, even after a failure."""
    made: list[SshTarget] = []

    def connected(server: SshServer, **settings: object) -> SshTarget:
        if "username" not in settings:  # the throwaway user cannot enter tmp_path
            settings.setdefault("working_directory", str(tmp_path / "work"))
        target = make_target(server, **settings)
        made.append(target)
        target.connect()
        return target

    yield connected
    for target in made:
        target.disconnect()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:  # a zombie is not alive
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gone_soon(pid: int, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def pids_in(path: Path, count: int, seconds: float = 5) -> list[int]:
    """The pids a remote command wrote to ``path`` (waiting for it to write them)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().split()) >= count:
            return [int(p) for p in path.read_text().split()]
        time.sleep(0.02)
    raise AssertionError(f"{path} did not get {count} pids")


# --- commands ---


def test_implements_the_target_protocol(wa_ssh_target: SshTarget) -> None:
    assert isinstance(wa_ssh_target, Target)


def test_execute_returns_both_streams_and_exit_code(wa_ssh_target: SshTarget) -> None:
    result = wa_ssh_target.execute("echo out; echo err >&2; exit 7")
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 7)
    assert not result.ok and result.duration > 0


def test_large_output_arrives_whole(wa_ssh_target: SshTarget) -> None:
    result = wa_ssh_target.execute("head -c 3000000 /dev/zero | tr '\\0' x; echo; "
                                   "head -c 100000 /dev/zero | tr '\\0' y >&2", timeout=30)
    assert result.stdout == "x" * 3_000_000 + "\n"
    assert result.stderr == "y" * 100_000


def test_check_raises_with_the_output(wa_ssh_target: SshTarget) -> None:
    with pytest.raises(CommandError, match="exited with code 2: ls /nonexistent"):
        wa_ssh_target.execute("ls /nonexistent", check=True)


def test_stdin_is_closed(wa_ssh_target: SshTarget) -> None:
    assert wa_ssh_target.execute("cat; echo done", timeout=10).stdout == "done\n"


def test_timeout_kills_the_whole_process_group(wa_ssh_target: SshTarget, tmp_path: Path
                                               ) -> None:
    pids = tmp_path / "pids"
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError, match="timed out after 0.5 s"):
        wa_ssh_target.execute(f"sleep 60 & echo $! > {pids}; exec sleep 61", timeout=0.5)
    assert time.monotonic() - started < 5
    background = pids_in(pids, 1)[0]
    assert gone_soon(background), "the command's background child survived the timeout"


def test_ctrl_c_kills_the_remote_command(wa_ssh_target: SshTarget, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            wa_ssh_target.execute(f"sleep 60 & echo $! > {pids}; sleep 61", timeout=30)
    finally:
        timer.cancel()
    assert gone_soon(pids_in(pids, 1)[0]), "Ctrl-C left the remote command running"


def test_commands_run_in_the_working_directory(wa_ssh_target: SshTarget) -> None:
    directory = wa_ssh_target.working_directory
    assert Path(directory).name.startswith("pytest-wa-run-")
    assert wa_ssh_target.execute("pwd").stdout.strip() == directory


def test_working_directory_is_created_and_removed(wa_sshd: SshServer, tmp_path: Path,
                                                  connect: Callable[..., SshTarget]) -> None:
    target = connect(wa_sshd, working_directory=str(tmp_path / "base"))
    directory = Path(target.working_directory)
    assert directory.is_dir() and directory.parent == tmp_path / "base"
    assert Path(target.executables_directory).is_dir()
    target.disconnect()
    assert not directory.exists() and target.working_directory == ""


def test_background_stop_kills_the_remote_process(wa_ssh_target: SshTarget, tmp_path: Path
                                                  ) -> None:
    pids = tmp_path / "pids"
    command = wa_ssh_target.background(f"sleep 60 & echo $! > {pids}; sleep 61")
    child = pids_in(pids, 1)[0]
    assert command.poll() is None
    assert all(alive(pid) for pid in (child, *command.pids))
    result = command.stop()
    assert result.exit_code != 0
    assert gone_soon(child) and not any(alive(p) for p in command.pids)
    state = wa_ssh_target.execute(f"ps -o stat= -p {child}").stdout.strip()
    assert state in ("", "Z"), f"ps says {child} is still running ({state})"  # Z: unreaped


def test_background_wait_collects_the_output(wa_ssh_target: SshTarget) -> None:
    command = wa_ssh_target.background("head -c 3000000 /dev/zero; echo err >&2; exit 3")
    result = command.wait(timeout=30)
    assert (len(result.stdout), result.stderr, result.exit_code) == (3_000_000, "err\n", 3)
    assert command.poll() == 3


def test_background_wait_timeout_stops_it(wa_ssh_target: SshTarget) -> None:
    command = wa_ssh_target.background("sleep 60")
    with pytest.raises(CommandTimeoutError):
        command.wait(timeout=0.3)
    assert command.poll() is not None


# --- values, files, facts ---


def test_read_and_write_values(wa_ssh_target: SshTarget) -> None:
    path = f"{wa_ssh_target.working_directory}/value"
    wa_ssh_target.write_value(path, 42)
    assert wa_ssh_target.read_value(path) == "42"


def test_push_pull_directory_round_trip(wa_ssh_target: SshTarget, tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "sub" / "deeper").mkdir(parents=True)
    (source / "a.txt").write_text("alpha\n")
    (source / "sub" / "tool").write_bytes(bytes(range(256)) * 100)
    (source / "sub" / "tool").chmod(0o755)
    (source / "sub" / "deeper" / "empty").write_bytes(b"")
    remote = f"{wa_ssh_target.working_directory}/pushed"
    wa_ssh_target.push(str(source), remote, timeout=30)
    assert wa_ssh_target.execute(f"test -x {remote}/sub/tool").ok
    back = tmp_path / "back"
    wa_ssh_target.pull(remote, str(back), timeout=30)
    for relative in ("a.txt", "sub/tool", "sub/deeper/empty"):
        assert (back / relative).read_bytes() == (source / relative).read_bytes(), relative
    assert stat.S_IMODE((back / "sub" / "tool").stat().st_mode) == 0o755


def test_push_and_pull_a_file_into_a_directory(wa_ssh_target: SshTarget, tmp_path: Path
                                               ) -> None:
    (tmp_path / "one.txt").write_text("one\n")
    wa_ssh_target.push(str(tmp_path / "one.txt"), wa_ssh_target.working_directory)
    assert wa_ssh_target.execute("cat one.txt").stdout == "one\n"
    (tmp_path / "in").mkdir()
    wa_ssh_target.pull(f"{wa_ssh_target.working_directory}/one.txt", str(tmp_path / "in"))
    assert (tmp_path / "in" / "one.txt").read_text() == "one\n"


def test_transfer_past_its_timeout_is_a_timeout(wa_ssh_target: SshTarget, tmp_path: Path
                                                ) -> None:
    big = tmp_path / "big"
    big.write_bytes(os.urandom(20 * 1024 * 1024))
    with pytest.raises(CommandTimeoutError, match="timed out after 0.05 s"):
        wa_ssh_target.push(str(big), f"{wa_ssh_target.working_directory}/big", timeout=0.05)
    wa_ssh_target.push(str(big), f"{wa_ssh_target.working_directory}/big", timeout=30)
    assert Path(f"{wa_ssh_target.working_directory}/big").stat().st_size == 20 * 1024 * 1024


def test_pull_of_a_missing_file_is_a_target_error(wa_ssh_target: SshTarget, tmp_path: Path
                                                  ) -> None:
    with pytest.raises(TargetError, match="cannot pull .*:/nonexistent/file"):
        wa_ssh_target.pull("/nonexistent/file", str(tmp_path / "x"))


def test_properties_describe_the_host(wa_ssh_target: SshTarget) -> None:
    facts = wa_ssh_target.properties
    uname = platform.uname()
    assert (facts.os, facts.kernel, facts.hostname) == (
        uname.system.lower(), uname.release, socket.gethostname())
    assert facts.cpus == len(os.sched_getaffinity(0))
    assert facts.extra["arch"] == uname.machine and facts.abi
    assert facts.extra["kernel_version"] == uname.version


# --- authentication and host keys ---


def test_agent_authentication(wa_sshd: SshServer, wa_ssh_agent: str,
                              monkeypatch: pytest.MonkeyPatch,
                              connect: Callable[..., SshTarget]) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", wa_ssh_agent)
    assert connect(wa_sshd, keyfile=None).execute("echo hi").stdout == "hi\n"


def test_password_authentication_and_sudo(wa_sshd: SshServer,
                                          wa_ssh_password_user: PasswordUser,
                                          caplog: pytest.LogCaptureFixture,
                                          connect: Callable[..., SshTarget]) -> None:
    caplog.set_level(logging.DEBUG)
    user = wa_ssh_password_user
    target = connect(wa_sshd, username=user.name, password=user.password, keyfile=None)
    assert target.execute("id -un").stdout.strip() == user.name
    assert target.execute("id -u", as_root=True, check=True).stdout.strip() == "0"
    # sudo reads the password from stdin: the command itself must not see it
    assert target.execute("cat; echo end", as_root=True, check=True).stdout == "end\n"
    assert user.password not in repr(target) and user.password not in str(vars(target))
    target.disconnect()
    assert user.password not in caplog.text


def test_as_root_timeout_kills_through_sudo(wa_sshd: SshServer,
                                            wa_ssh_password_user: PasswordUser,
                                            tmp_path: Path,
                                            connect: Callable[..., SshTarget]) -> None:
    user = wa_ssh_password_user
    pids = tmp_path / "pids"
    target = connect(wa_sshd, username=user.name, password=user.password, keyfile=None)
    with pytest.raises(CommandTimeoutError):
        target.execute(f"sleep 60 & echo $! > {pids}; sleep 61", as_root=True, timeout=1)
    assert gone_soon(pids_in(pids, 1)[0]), "the root command survived its timeout"


def test_wrong_key_is_one_line(wa_sshd: SshServer) -> None:
    stranger = wa_sshd.new_key("stranger")
    with pytest.raises(TargetError) as raised:
        make_target(wa_sshd, keyfile=stranger).connect()
    message = str(raised.value)
    assert message == (f"cannot connect to ssh {wa_sshd.username}@127.0.0.1:{wa_sshd.port}: "
                       f"authentication failed (tried key {stranger})")


def test_wrong_password_is_one_line_without_the_password(
        wa_sshd: SshServer, wa_ssh_password_user: PasswordUser,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-" + wa_ssh_password_user.password
    target = make_target(wa_sshd, username=wa_ssh_password_user.name, password=wrong,
                         keyfile=None)
    with pytest.raises(TargetError, match="authentication failed") as raised:
        target.connect()
    message = str(raised.value)
    assert "\n" not in message and "password" in message
    for text in (message, repr(raised.value), repr(target), caplog.text):
        assert wrong not in text


def test_unknown_host_key_is_refused(wa_sshd: SshServer, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(TargetError) as raised:
        make_target(wa_sshd, known_hosts=str(empty)).connect()
    assert str(raised.value) == (
        f"cannot connect to ssh {wa_sshd.username}@127.0.0.1:{wa_sshd.port}: host key for "
        f"[127.0.0.1]:{wa_sshd.port} is not in {empty} (set strict_host_check: false to "
        "accept it)")


def test_unknown_host_key_accepted_without_strict_check(
        wa_sshd: SshServer, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        connect: Callable[..., SshTarget]) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    assert connect(wa_sshd, known_hosts=str(empty), strict_host_check=False).is_responsive()
    assert "accepting unknown" in caplog.text
    assert empty.read_text() == "", "the user's known_hosts must not be changed"


def test_connection_refused_is_one_line() -> None:
    port = free_port()
    target = SshTarget("board", "127.0.0.1", port=port, connect_timeout=2)
    with pytest.raises(TargetError) as raised:
        target.connect()
    assert str(raised.value).endswith(f"@127.0.0.1:{port}: connection refused")
    assert not target.is_responsive()


def test_silent_server_times_out() -> None:
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        target = SshTarget("board", "127.0.0.1", port=port, connect_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(TargetError, match=r"@127.0.0.1:\d+: timed out after 0.5 s"):
            target.connect()
    assert time.monotonic() - started < 5


# --- faults ---


def test_sshd_killed_mid_command(wa_sshd_fresh: SshServer,
                                 connect: Callable[..., SshTarget]) -> None:
    target = connect(wa_sshd_fresh)
    killer = threading.Timer(0.5, wa_sshd_fresh.kill)
    killer.start()
    started = time.monotonic()
    with pytest.raises(TargetNotRespondingError,
                       match=f"ssh root@127.0.0.1:{wa_sshd_fresh.port} is not responding"):
        target.execute("sleep 30", timeout=60)
    assert time.monotonic() - started < 5
    killer.join()
    with pytest.raises(TargetNotRespondingError, match="is not responding: connection refused"):
        target.execute("true")
    assert not target.is_responsive()
    wa_sshd_fresh.start()
    assert target.execute("echo back").stdout == "back\n"


def test_reconnects_after_sshd_restart(wa_sshd_fresh: SshServer,
                                       connect: Callable[..., SshTarget]) -> None:
    target = connect(wa_sshd_fresh)
    assert target.execute("true").ok
    wa_sshd_fresh.restart()
    assert target.execute("echo again").stdout == "again\n"
    assert Path(target.working_directory).is_dir()


def test_hung_server_is_not_responding_within_the_timeout(
        wa_sshd_fresh: SshServer, connect: Callable[..., SshTarget]) -> None:
    target = connect(wa_sshd_fresh)
    wa_sshd_fresh.freeze()  # TCP still up, nobody answers
    try:
        started = time.monotonic()
        with pytest.raises(TargetNotRespondingError, match="within 1.5 s"):
            target.execute("true", timeout=1.5)
        with pytest.raises(CommandTimeoutError):
            target.execute("true", timeout=0.3)
        assert time.monotonic() - started < 4
    finally:
        wa_sshd_fresh.thaw()
    assert target.execute("echo thawed", timeout=10).stdout == "thawed\n"


def test_reboot_waits_for_the_link_to_drop_and_come_back(
        wa_sshd_fresh: SshServer, connect: Callable[..., SshTarget]) -> None:
    target = connect(wa_sshd_fresh)
    target.reboot_command = "true"  # the "board" is this host: let sshd play the reboot

    def power_cycle() -> None:
        time.sleep(0.3)
        wa_sshd_fresh.kill()
        time.sleep(0.7)
        wa_sshd_fresh.start()

    cycle = threading.Thread(target=power_cycle)
    cycle.start()
    try:
        target.reboot(timeout=20)
    finally:
        cycle.join()
    assert target.is_responsive()
    assert target.execute("pwd").stdout.strip() == target.working_directory
    with pytest.raises(TargetError, match="no hard reset is configured"):
        target.reboot(hard=True)


def test_hard_reset_runs_the_configured_command(wa_sshd_fresh: SshServer, tmp_path: Path,
                                                connect: Callable[..., SshTarget]) -> None:
    marker = tmp_path / "power-cycled"
    target = connect(wa_sshd_fresh, hard_reset_command=f"touch {marker}")
    wa_sshd_fresh.kill()  # the relay cut the power...
    threading.Timer(0.5, wa_sshd_fresh.start).start()  # ...and the board boots again
    target.reboot(hard=True, timeout=20)
    assert marker.exists() and target.execute("echo up").stdout == "up\n"
    target.hard_reset_command = "exit 3"
    with pytest.raises(TargetError, match="hard_reset_command exited with code 3"):
        target.reboot(hard=True)


def test_missing_setup_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot set up the SSH test server: why"):
        unavailable("why")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="why"):
        unavailable("why")


def test_a_server_that_never_answers_exec_is_given_up_at_the_deadline() -> None:
    class StuckChannel:  # paramiko's exec_command waits for the answer without a timeout
        def __init__(self) -> None:
            self.closed = threading.Event()

        def exec_command(self, command: str) -> None:
            self.closed.wait(30)
            raise paramiko.SSHException("Channel closed.")

        def close(self) -> None:
            self.closed.set()

    started = time.monotonic()
    with pytest.raises(ExecRefused) as raised:
        exec_command(StuckChannel(), "true", started + 0.2)  # type: ignore[arg-type]
    assert raised.value.timed_out and time.monotonic() - started < 2
