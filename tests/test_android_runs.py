"""Agendas run on the simulated Android device, through the real adb server, as users run them."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa import RunOutput

EXAMPLES = Path(__file__).resolve().parent.parent / "example_agendas"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_example_agendas_run_green_on_the_device(pytester, device, subtests) -> None:
    shutil.copytree(EXAMPLES, pytester.path / "example_agendas")
    result = run(pytester, "example_agendas", "-v", f"--wa-device=adb:{device.serial}")
    result.assert_outcomes(passed=10)
    result.stdout.fnmatch_lines(["*Ran a total of 10 iterations: 10 OK*"])
    output = RunOutput(pytester.path / "wa_output")
    assert output.target_info["os"] == "android"
    uptime = output.job("wk2", 1)
    assert uptime.metric("load_1min").value >= 0
    assert (uptime.path / "logcat.log").exists()
    assert "logcat" in {artifact.name for artifact in uptime.artifacts}
    info = output.target_info
    assert info["screen_resolution"] and info["prop"]["ro.product.model"] == "SimPhone"
    check_wa3_reads_the_same(subtests, pytester.path / "wa_output")


def test_a_failed_job_leaves_a_screenshot_and_ui_dump(pytester, device) -> None:
    pytester.makefile(".yaml", agenda="""\
        workloads:
          - id: good
            name: command
            params: {command: "log -t bench about to pass; echo fine"}
          - id: bad
            name: command
            params: {command: "log -t bench about to fail; exit 4"}
        """)
    pytester.makefile(".yaml", lab=f"""\
        devices:
          phone: {{kind: adb, device: "{device.serial}", adb_port: {device.adb_port}}}
        """)
    result = run(pytester, "agenda.yaml", "--wa-config=lab.yaml", "--wa-device=phone")
    result.assert_outcomes(passed=1, failed=1)
    output = RunOutput(pytester.path / "wa_output")
    good, bad = output.job("good", 1), output.job("bad", 1)
    assert (bad.path / "error.png").read_bytes().startswith(b"\x89PNG")
    assert b"<hierarchy" in (bad.path / "error.uix").read_bytes()
    assert {"error_png", "error_uix", "logcat"} <= {a.name for a in bad.artifacts}
    assert "about to fail" in (bad.path / "logcat.log").read_text()
    assert "about to pass" not in (bad.path / "logcat.log").read_text()  # cleared per job
    assert not (good.path / "error.png").exists()
    config = json.loads((pytester.path / "wa_output" / "__meta" / "config.json").read_text())
    assert config["run_config"]["device_config"]["kind"] == "adb"
    assert config["run_config"]["device"] == "phone"


def test_a_device_that_dies_mid_run(pytester, device) -> None:
    pytester.makefile(".yaml", agenda="""\
        workloads:
          - id: before
            name: command
            params: {command: "echo measured=1", metrics: {m: {regex: 'measured=(\\d+)'}}}
          - {id: during, name: command, params: {command: "sleep 30"}}
          - {id: after, name: command, params: {command: "true"}}
        """)
    killer = threading.Timer(3.0, device.kill)
    killer.start()
    started = time.monotonic()
    try:
        result = run(pytester, "agenda.yaml", "-v", f"--wa-device=adb:{device.serial}")
    finally:
        killer.cancel()
    assert time.monotonic() - started < 60
    result.stdout.fnmatch_lines(["*before-command*OK*", "*during-command*FAILED*",
                                 "execute: TargetNotRespondingError: adb * is not responding: *"])
    assert "is not responding" in result.stdout.str()
    output = RunOutput(pytester.path / "wa_output")
    before = output.job("before", 1)
    assert before.status.name == "OK" and before.metric("m").value == 1
    assert output.job("during", 1).status.name == "FAILED"
    after = output.job("after", 1)
    assert after.status.name == "SKIPPED" and after.retries == 0
    result.stdout.fnmatch_lines(["*after-command*SKIPPED*", "*remaining jobs skipped: device "
                                 "'*' stopped responding*"])
    assert output.job("during", 1).retries == 0  # a lost device is not retried


def test_a_device_that_reboots_mid_job_is_recovered(pytester, device) -> None:
    """The job in flight fails; the device is reattached and the next job runs."""
    pytester.makefile(".yaml", agenda="""\
        config: {max_retries: 0}
        workloads:
          - {id: during, name: command, params: {command: "sleep 30"}}
          - {id: after, name: command, params: {command: "getprop sys.boot_completed"}}
        """)
    rebooter = threading.Timer(3.0, device.adb, ("reboot",))
    rebooter.start()
    try:
        result = run(pytester, "agenda.yaml", "-v", f"--wa-device=adb:{device.serial}")
    finally:
        rebooter.join()
    result.stdout.fnmatch_lines(["*during-command*FAILED*", "*after-command*OK*"])
    output = RunOutput(pytester.path / "wa_output")
    assert "responding again after a reconnect" in " ".join(e.message for e in output.events)
