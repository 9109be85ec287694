"""Running an agenda where the instrument tests run it: on the simulated phone over adb,
over SSH (the device is this host) and on the local target, each in a pytest process of
its own. The ``device`` and ``home`` fixtures they use are in tests/conftest.py."""

from __future__ import annotations

import textwrap

import pytest

from pytest_wa import RunOutput


def _run(pytester: pytest.Pytester, agenda: str, *args: str) -> pytest.RunResult:
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml", "-v", *args)


def on_phone(pytester: pytest.Pytester, device, agenda: str, *, root: bool = True
             ) -> pytest.RunResult:
    """Run ``agenda`` on the simulated phone (``adb_as_root`` unless ``root`` is False)."""
    pytester.makefile(".yaml", lab=f"""\
        devices:
          phone: {{kind: adb, device: "{device.serial}", adb_port: {device.adb_port},
                   adb_as_root: {str(root).lower()}}}
        """)
    return _run(pytester, agenda, "--wa-config=lab.yaml", "--wa-device=phone")


def on_ssh(pytester: pytest.Pytester, server, agenda: str) -> pytest.RunResult:
    """Run ``agenda`` over SSH on this host (the device is this host)."""
    pytester.makefile(".yaml", lab=f"""\
        devices:
          board: {{kind: ssh, host: {server.host}, port: {server.port},
                   username: {server.username}, keyfile: {server.client_key},
                   known_hosts: {server.known_hosts}}}
        """)
    return _run(pytester, agenda, "--wa-config=lab.yaml", "--wa-device=board")


def on_host(pytester: pytest.Pytester, agenda: str) -> pytest.RunResult:
    """Run ``agenda`` on the local target."""
    return _run(pytester, agenda)


def check_refusal(pytester: pytest.Pytester, result: pytest.RunResult, *, instrument: str,
                  device: str, error: str, reason: str, optional: bool) -> None:
    """Without ``optional``: the run is refused before anything is written, with the
    ``error`` line; with it: the job runs OK without the instrument's metrics, and the
    run log says why (``reason``) and that the run went on."""
    if not optional:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([error])
        assert not (pytester.path / "wa_output").exists()
        return
    result.assert_outcomes(passed=1)
    job = RunOutput(pytester.path / "wa_output").jobs[0]
    assert job.status.name == "OK" and job.metrics == []
    log = (pytester.path / "wa_output" / "run.log").read_text()
    assert f"instrument '{instrument}' cannot work on device '{device}': {reason}" in log
    assert "the run goes on without it (optional: true)" in log
