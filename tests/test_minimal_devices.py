"""Devices that lack a tool or a file still run their jobs (issue 12, point 1).

Facts are information, not preconditions: an adb device without ``settings``,
``wm`` or ``dumpsys`` (older Android, Android-based boards, minimal builds),
whose ``getprop`` reads one property and lists none, and an SSH board or a host
without ``/sys/devices/system/cpu``, run agendas green. What they cannot tell
is recorded as absent in target_info and named in a run.log warning; what a
job truly needs (runtime parameters on CPUs) is still one clear error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_wa import RunOutput
from pytest_wa.targets.fact_command import FactPart, fact_command, split_parts
from pytest_wa.targets.local_facts import local_properties
from pytest_wa.targets.ssh.properties import PARTS as SSH_PARTS
from pytest_wa.targets.ssh.properties import parse_properties
from pytest_wa.testing.hidden_paths import hiding, why_paths_cannot_be_hidden

MINIMAL_ANDROID = {"missing_tools": ("settings", "wm", "dumpsys"), "getprop_lists": False}
CPU_TREE = "/sys/devices/system/cpu"
FOUNDATION = """\
workloads:
  - {id: rest, name: idle, params: {duration: 0.1}}
  - id: answer
    name: command
    params: {command: "echo answer=42", metrics: {answer: '^answer=(\\d+)'}}
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def check_foundation_run_is_green(pytester: pytest.Pytester, result: pytest.RunResult,
                                  jobs: int = 2) -> RunOutput:
    result.assert_outcomes(passed=jobs)
    result.stdout.fnmatch_lines([f"*Ran a total of {jobs} iterations: {jobs} OK*"])
    output = RunOutput(pytester.path / "wa_output")
    assert output.status.name == "OK"
    assert output.job("answer", 1).metric("answer").value == 42
    return output


def run_log(pytester: pytest.Pytester) -> str:
    """Every run log of the run directory (a pool's workers write one each)."""
    return "".join(path.read_text() for path in sorted((pytester.path / "wa_output")
                                                         .glob("run*.log")))


@pytest.fixture
def minimal_phones(wa_simulated_devices, monkeypatch):
    """A factory of adb devices without settings, wm, dumpsys and getprop's listing."""
    def make():
        phone = wa_simulated_devices(**MINIMAL_ANDROID)
        monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(phone.adb_port))
        return phone

    return make


# --- Android ------------------------------------------------------------------------


def test_an_adb_device_without_settings_wm_dumpsys_nor_a_getprop_listing(
        pytester, minimal_phones) -> None:
    phone = minimal_phones()
    assert phone.shell("settings get secure android_id").returncode == 127
    assert phone.shell("getprop").returncode != 0
    pytester.makefile(".yaml", agenda=FOUNDATION)
    result = run(pytester, "agenda.yaml", "-v", f"--wa-device=adb:{phone.serial}")
    output = check_foundation_run_is_green(pytester, result)
    info = output.target_info
    # what could be read: the properties by name, uname, the CPUs
    assert info["os"] == "android" and info["prop"]["ro.product.model"] == "SimPhone"
    assert info["abi"] == "arm64-v8a" and info["os_version"]["sdk"] == "33"
    assert info["kernel_release"] and len(info["cpus"]) == 8
    # what could not: absent, and said once in run.log
    assert info["screen_resolution"] is None and info["android_id"] is None
    [warning] = [line for line in run_log(pytester).splitlines() if "facts not" in line]
    assert "WARNING" in warning and phone.serial in warning
    assert "android_id (" in warning and "settings: not found" in warning
    assert "screen_resolution (" in warning and "wm: not found" in warning
    assert (output.job("rest", 1).path / "logcat.log").exists()  # logcat is there


def test_a_pool_of_two_minimal_adb_devices(pytester, minimal_phones) -> None:
    pytest.importorskip("xdist")
    phones = [minimal_phones(), minimal_phones()]
    pytester.makefile(".yaml", agenda="config: {iterations: 2}\n" + FOUNDATION)
    pool = ",".join(f"adb:{phone.serial}" for phone in phones)
    result = run(pytester, "agenda.yaml", "-p", "no:randomly", "-n", "2",
                 f"--wa-device={pool}")
    output = check_foundation_run_is_green(pytester, result, jobs=4)
    assert {job.metadata["device"] for job in output.jobs} == {f"adb:{p.serial}" for p in phones}
    for phone in phones:
        info = json.loads((output.path / "__meta" / "targets" / f"adb:{phone.serial}.json")
                          .read_text())
        assert info["prop"]["ro.product.model"] == "SimPhone"
        assert info["screen_resolution"] is None and info["android_id"] is None
        assert f"{phone.serial} (server" in run_log(pytester)


def test_a_device_without_logcat_is_told_once_and_not_asked_again(
        pytester, wa_simulated_devices, monkeypatch) -> None:
    phone = wa_simulated_devices(missing_tools=("logcat",))
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(phone.adb_port))
    pytester.makefile(".yaml", agenda="config: {iterations: 3}\n" + FOUNDATION)
    result = run(pytester, "agenda.yaml", f"--wa-device=adb:{phone.serial}")
    output = check_foundation_run_is_green(pytester, result, jobs=6)
    assert not list(output.path.glob("*/logcat.log"))
    told = [line for line in run_log(pytester).splitlines() if " WARNING " in line]
    assert len(told) == 1 and "the device has no logcat" in told[0], told


# --- SSH ------------------------------------------------------------------------------


def ssh_device_config(pytester: pytest.Pytester, server) -> None:
    pytester.makefile(".yaml", lab=f"""\
        devices:
          board: {{kind: ssh, host: {server.host}, port: {server.port},
                   username: {server.username}, keyfile: {server.client_key},
                   known_hosts: {server.known_hosts}}}
        """)


@pytest.fixture
def cpuless_board(wa_sshd_servers, pytester, tmp_path, monkeypatch):
    """An SSH board whose sessions find /sys/devices/system/cpu empty, configured as 'board'."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    server = wa_sshd_servers(hidden_paths=[CPU_TREE])
    ssh_device_config(pytester, server)
    return server


def test_an_ssh_board_without_the_cpu_tree(pytester, cpuless_board) -> None:
    pytester.makefile(".yaml", agenda=FOUNDATION)
    result = run(pytester, "agenda.yaml", "-v", "--wa-config=lab.yaml", "--wa-device=board")
    output = check_foundation_run_is_green(pytester, result)
    info = output.target_info
    assert info["os"] == "linux" and info["kernel_release"] and info["hostname"]
    assert info["cpus"] == []  # absent, not a made-up count
    [warning] = [line for line in run_log(pytester).splitlines() if "facts not" in line]
    assert "cpus (" in warning and f"{CPU_TREE}/possible" in warning


def test_runtime_parameters_on_cpus_of_a_board_without_the_cpu_tree(
        pytester, cpuless_board) -> None:
    """What a job truly needs may fail the run: one clear error, before any job."""
    pytester.makefile(".yaml", agenda="""\
        workloads:
          - name: command
            params: {command: "true"}
            runtime_parameters: {num_cores: 1}
        """)
    result = run(pytester, "agenda.yaml", "--wa-config=lab.yaml", "--wa-device=board")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: pytest-wa: *agenda.yaml:4: runtime_parameters.num_cores: the device's CPUs "
        f"could not be read ({CPU_TREE} has no 'present' file and no cpuN directory)"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_the_ssh_facts_command_loses_only_the_part_that_failed() -> None:
    """Parsed as the board's shell prints it: a missing tool costs its own fact."""
    parts = [FactPart("os", "uname -s"), FactPart("id", "no-such-tool --id"),
             FactPart("text", "printf 'a b'")]
    shell = subprocess.run(["sh", "-c", fact_command(parts)], capture_output=True, text=True,
                           check=True)
    results = split_parts(parts, shell.stdout, shell.stderr)
    assert results["os"].ok and results["os"].output.strip() == "Linux"
    assert results["id"].status == 127 and "no-such-tool" in results["id"].reason()
    assert (results["text"].output, results["text"].status) == ("a b", 0)
    missing_cpus = fact_command(SSH_PARTS).replace(CPU_TREE, "/nonexistent")
    shell = subprocess.run(["sh", "-c", missing_cpus], capture_output=True, text=True)
    props = parse_properties(shell.stdout, shell.stderr)
    assert props.cpus == 0 and list(props.absent) == ["cpus"]
    assert props.os == "linux" and props.kernel and props.hostname


# --- the local target ----------------------------------------------------------------


def test_local_facts_without_the_cpu_tree(tmp_path: Path) -> None:
    props = local_properties(possible_cpus=str(tmp_path / "possible"))
    assert props.cpus == 0 and list(props.absent) == ["cpus"]
    assert "No such file" in props.absent["cpus"]
    assert props.os and props.kernel and props.hostname  # the rest is read


def test_a_host_without_the_cpu_tree_runs_on_the_local_target(pytester) -> None:
    if reason := why_paths_cannot_be_hidden():
        pytest.skip(reason)
    pytester.makefile(".yaml", agenda=FOUNDATION)
    argv = hiding([CPU_TREE], [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                               "agenda.yaml", "-p", "no:randomly"])
    result = pytester.run(*argv, timeout=120)
    output = check_foundation_run_is_green(pytester, result)
    assert output.target_info["cpus"] == []
    [warning] = [line for line in run_log(pytester).splitlines() if "facts not" in line]
    assert "pytest_wa: local: facts not available" in warning and "cpus (" in warning
