"""Agendas run over SSH against a real OpenSSH server on 127.0.0.1, as users run them."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from pytest_wa import RunOutput

EXAMPLES = Path(__file__).resolve().parent.parent / "example_agendas"


def device_config(pytester: pytest.Pytester, server, **settings: object) -> None:
    values = {"kind": "ssh", "host": server.host, "port": server.port,
              "username": server.username, "keyfile": server.client_key,
              "known_hosts": server.known_hosts, **settings}
    body = "".join(f"    {key}: {value if value is not None else 'null'}\n"
                   for key, value in values.items())
    pytester.makefile(".yaml", lab=f"devices:\n  board:\n{body}")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--wa-config=lab.yaml",
                                         "--wa-device=board", *args)


def test_example_agendas_run_green_over_ssh(pytester, wa_sshd, home) -> None:
    shutil.copytree(EXAMPLES, pytester.path / "example_agendas")
    device_config(pytester, wa_sshd)
    result = run(pytester, "example_agendas", "-v")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["*Ran a total of 10 iterations: 10 OK*"])
    output = RunOutput(pytester.path / "wa_output")
    assert output.target_info["os"] == "linux"
    assert output.job("wk2", 1).metric("load_1min").value >= 0


def test_inline_ssh_device_with_the_agent(pytester, wa_sshd, wa_ssh_agent, home,
                                          monkeypatch) -> None:
    """``--wa-device ssh://user@host:port`` with the key in ssh-agent and a known host."""
    (home / ".ssh").mkdir()
    shutil.copy(wa_sshd.known_hosts, home / ".ssh" / "known_hosts")
    monkeypatch.setenv("SSH_AUTH_SOCK", wa_ssh_agent)
    pytester.makefile(".yaml", agenda="workloads:\n  - {name: command, params: "
                                      "{command: 'id -un'}}\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "agenda.yaml",
        f"--wa-device=ssh://{wa_sshd.username}@{wa_sshd.host}:{wa_sshd.port}")
    result.assert_outcomes(passed=1)
    output = RunOutput(pytester.path / "wa_output")
    assert f"$ id -un\n{wa_sshd.username}\n" in (output.jobs[0].path / "output.txt").read_text()


def test_password_login_and_sudo_never_leak_the_password(
        pytester, wa_sshd, wa_ssh_password_user, home) -> None:
    user = wa_ssh_password_user
    device_config(pytester, wa_sshd, username=user.name, password=f"'{user.password}'",
                  keyfile=None)
    pytester.makefile(".yaml", agenda="""\
        workloads:
          - id: root
            name: command
            params: {command: "id -u", as_root: true, metrics: {uid: {regex: '^(\\d+)'}}}
          - id: plain
            name: command
            params: {command: "id -un"}
        """)
    result = run(pytester, "agenda.yaml", "-v", "--junit-xml=junit.xml")
    result.assert_outcomes(passed=2)
    output = RunOutput(pytester.path / "wa_output")
    assert output.job("root", 1).metric("uid").value == 0
    assert f"$ id -un\n{user.name}\n" in (output.job("plain", 1).path / "output.txt").read_text()
    assert user.password not in result.stdout.str() + result.stderr.str()
    checked = 0
    for path in pytester.path.rglob("*"):
        if path.is_file() and path.name != "lab.yaml":
            assert user.password.encode() not in path.read_bytes(), path
            checked += 1
    assert checked >= 10  # run.log, result.json files, config.json, junit.xml...
    config = (pytester.path / "wa_output" / "__meta" / "config.json").read_text()
    assert '"password": "********"' in config


def test_wrong_key_is_one_line_before_any_job(pytester, wa_sshd, home) -> None:
    device_config(pytester, wa_sshd, keyfile=wa_sshd.new_key("stranger-runs"))
    pytester.makefile(".yaml", agenda="workloads:\n  - {name: command, params: "
                                      "{command: 'true'}}\n")
    result = run(pytester, "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-wa: cannot use device 'board': cannot connect to "
                                 f"ssh {wa_sshd.username}@127.0.0.1:{wa_sshd.port}: "
                                 "authentication failed (*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_unknown_host_key_is_refused_unless_allowed(pytester, wa_sshd, home) -> None:
    device_config(pytester, wa_sshd, known_hosts=home / "empty_known_hosts")
    pytester.makefile(".yaml", agenda="workloads:\n  - {name: command, params: "
                                      "{command: 'true'}}\n")
    result = run(pytester, "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-wa: cannot use device 'board': *host key for "
                                 f"[[]127.0.0.1[]]:{wa_sshd.port} is not in *empty_known_hosts "
                                 "(set strict_host_check: false to accept it)"])
    device_config(pytester, wa_sshd, known_hosts=home / "empty_known_hosts",
                  strict_host_check="false")
    run(pytester, "agenda.yaml").assert_outcomes(passed=1)


def test_the_board_dies_mid_job(pytester, wa_sshd_fresh, home) -> None:
    server = wa_sshd_fresh
    device_config(pytester, server)
    pytester.makefile(".yaml", agenda="""\
        workloads:
          - id: before
            name: command
            params: {command: "echo measured=1", metrics: {m: {regex: 'measured=(\\d+)'}}}
          - {id: during, name: command, params: {command: "sleep 30"}}
          - {id: after, name: command, params: {command: "true"}}
        """)
    killer = threading.Timer(3.0, server.kill)
    killer.start()
    started = time.monotonic()
    try:
        result = run(pytester, "agenda.yaml", "-v")
    finally:
        killer.cancel()
    assert time.monotonic() - started < 60
    result.stdout.fnmatch_lines(["*before-command*OK*", "*during-command*FAILED*",
                                 "execute: TargetNotRespondingError: ssh * is not responding*"])
    output = RunOutput(pytester.path / "wa_output")
    assert output.job("before", 1).status.name == "OK"
    assert output.job("before", 1).metric("m").value == 1
    assert output.job("during", 1).status.name == "FAILED"
    after = output.job("after", 1)
    assert after.status.name == "SKIPPED" and after.retries == 0
    result.stdout.fnmatch_lines(["*after-command*SKIPPED*", "*remaining jobs skipped: device "
                                 "'*' stopped responding*"])
    assert output.job("during", 1).retries == 0  # a lost device is not retried


def test_a_board_whose_sshd_comes_back_is_recovered(pytester, wa_sshd_fresh, home) -> None:
    server = wa_sshd_fresh
    device_config(pytester, server)
    pytester.makefile(".yaml", agenda="""\
        config: {max_retries: 0}
        workloads:
          - {id: during, name: command, params: {command: "sleep 30"}}
          - {id: after, name: command, params: {command: "echo back"}}
        """)

    def blip() -> None:
        server.kill()
        time.sleep(1.0)
        server.start()

    blipper = threading.Timer(3.0, blip)
    blipper.start()
    try:
        result = run(pytester, "agenda.yaml", "-v")
    finally:
        blipper.join()
    result.stdout.fnmatch_lines(["*during-command*FAILED*", "*after-command*OK*"])
    output = RunOutput(pytester.path / "wa_output")
    assert "responding again after a reconnect" in " ".join(e.message for e in output.events)
