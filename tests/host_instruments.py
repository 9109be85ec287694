"""Shared by the tests of the interrupts, proc_stat, dmesg, sysfs_extractor and file_poller
instruments (not a test module): enabling them from a conftest until they are built in,
and running an agenda on this host, over SSH (``wa_sshd``) and on the simulated phone.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from pytest_wa import RunOutput

CLASSES = {"interrupts": "Interrupts", "proc_stat": "ProcStat", "dmesg": "Dmesg",
           "sysfs_extractor": "SysfsExtractor", "file_poller": "FilePoller"}


def register(pytester: pytest.Pytester, *names: str) -> None:
    """A conftest that adds the named instruments (re-adding a built-in one is harmless)."""
    imports = "".join(f"from pytest_wa.instruments.{name} import {CLASSES[name]}\n"
                      for name in names)
    adds = "".join(f"    registry.add({CLASSES[name]})\n" for name in names)
    pytester.makeconftest(f"{imports}\n\ndef pytest_wa_register_instruments(registry):\n"
                          f"{adds}")


def agenda(pytester: pytest.Pytester, text: str) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent(text))


def output(pytester: pytest.Pytester) -> RunOutput:
    return RunOutput(pytester.path / "wa_output")


def ssh_device(pytester: pytest.Pytester, server, monkeypatch: pytest.MonkeyPatch) -> None:
    """lab.yaml with the SSH server as device ``board``; an empty HOME and no agent."""
    monkeypatch.setenv("HOME", str(pytester.path))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    pytester.makefile(".yaml", lab=textwrap.dedent(f"""\
        devices:
          board: {{kind: ssh, host: {server.host}, port: {server.port},
                   username: {server.username}, keyfile: {server.client_key},
                   known_hosts: {server.known_hosts}}}
        """))


def phone_device(pytester: pytest.Pytester, device, monkeypatch: pytest.MonkeyPatch, *,
                 root: bool) -> None:
    """lab.yaml with the simulated phone as device ``board`` (as root or not)."""
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(device.adb_port))
    pytester.makefile(".yaml", lab=textwrap.dedent(f"""\
        devices:
          board: {{kind: adb, device: "{device.serial}", adb_port: {device.adb_port},
                   adb_as_root: {str(root).lower()}}}
        """))


def run_on_board(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml",
                                         "--wa-config=lab.yaml", "--wa-device=board", *args)


def processes_running(text: str) -> list[str]:
    """Command lines of this host's processes that contain ``text`` (the simulated phone
    and the SSH server run their commands here too)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline}")
    return found


def artifact_names(job) -> dict[str, str]:
    """Artifact name -> kind."""
    return {artifact.name: artifact.kind for artifact in job.artifacts}
