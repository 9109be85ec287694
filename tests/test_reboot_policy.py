"""Reboot policies and flashing, as users meet them: reboots counted on a simulated phone.

How a reboot is seen from the device: every job appends "<job> fresh" or
"<job> kept" to a log in /data (kept across reboots) depending on whether
/tmp/marker exists, then creates it. /tmp is emptied by a reboot, and the test
creates the marker before the run, so "fresh" means exactly "the device
rebooted since the previous job".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_wa import RunOutput

LOG = "/data/local/tmp/reboots.log"
RECORD = ('m=kept; [ -e /tmp/marker ] || m=fresh; echo "{id} $m" >> ' + LOG
          + "; touch /tmp/marker")
FAST = pytest.mark.wa_simulated_device(boot_time=0.2)


def agenda(policy: str | None, order: str = "by_iteration", *, a: str = "", b: str = "",
           iterations: int = 2) -> str:
    """Two specs, ``a`` and ``b``, that record whether the device rebooted before them;
    ``a``/``b`` add keys (flow-mapping text) to their entries."""
    config = f"execution_order: {order}, iterations: {iterations}"
    if policy:
        config += f", reboot_policy: {policy}"
    entries = "\n".join(
        f"  - {{id: {name}, name: command, params: {{command: "
        f"{json.dumps(RECORD.format(id=name))}}}{', ' + extra if extra else ''}}}"
        for name, extra in (("a", a), ("b", b)))
    return f"config: {{{config}}}\nworkloads:\n{entries}\n"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


@pytest.fixture
def phone(wa_simulated_device, monkeypatch):
    """The device with an empty log and the marker in place; pytest is pointed at its
    adb server."""
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(wa_simulated_device.adb_port))
    wa_simulated_device.shell(f"rm -f {LOG}; touch /tmp/marker")
    return wa_simulated_device


def device_log(phone) -> list[str]:
    return phone.shell(f"cat {LOG}").stdout.splitlines()


def reboot_events(output: RunOutput) -> list[str]:
    return [f"{job.id}{job.iteration}" for job in output.jobs for event in job.events
            if event.message.startswith("rebooted the device")]


F, K = "fresh", "kept"
ITERATION_ORDER = ("a", "b", "a", "b")
WORKLOAD_ORDER = ("a", "a", "b", "b")


@FAST
@pytest.mark.parametrize("policy, option, order, expected", [
    ("never", None, "by_iteration", (K, K, K, K)),
    ("as_needed", None, "by_iteration", (K, K, K, K)),
    ("initial", None, "by_iteration", (F, K, K, K)),
    ("each_job", None, "by_iteration", (F, F, F, F)),
    ("each_job", None, "by_workload", (F, K, F, K)),
    ("never", "each_spec", "by_workload", (F, K, F, K)),  # the option wins, WA2's alias
    ("each_iteration", None, "by_workload", (F, F, F, F)),
    ("run_completion", None, "by_iteration", (K, K, K, K)),
])
def test_reboots_the_policy_asks_for(pytester, phone, policy, option, order,
                                     expected) -> None:
    pytester.makefile(".yaml", agenda=agenda(policy, order))
    args = [f"--wa-reboot-policy={option}"] if option else []
    result = run(pytester, "agenda.yaml", f"--wa-device=adb:{phone.serial}", *args)
    result.assert_outcomes(passed=4)
    jobs = ITERATION_ORDER if order == "by_iteration" else WORKLOAD_ORDER
    assert device_log(phone) == [f"{job} {seen}" for job, seen in zip(jobs, expected,
                                                                       strict=True)]
    output = RunOutput(pytester.path / "wa_output")
    assert len(reboot_events(output)) == expected.count(F)
    run_log = (output.path / "run.log").read_text()
    assert run_log.count("Device rebooted in") == expected.count(F)
    # run_completion reboots once more, after the last job: the marker is gone.
    marker = phone.shell("test -e /tmp/marker").returncode == 0
    assert marker is (policy != "run_completion")
    if policy == "run_completion":
        assert any(e.message.startswith("rebooted the device on run completion")
                   for e in output.events)
    notice = "*reboot_policy each_job reboots before each new spec; in the by_iteration order*"
    if (policy, order) == ("each_job", "by_iteration"):
        result.stdout.fnmatch_lines([notice])
    else:
        result.stdout.no_fnmatch_line(notice)


FLASH_CONFTEST = """
import json

def pytest_wa_flash(target, flash, job):
    with open("flashes.jsonl", "a") as handle:
        handle.write(json.dumps({"job": job.name, "flash": flash, "kind": target.kind}) + "\\n")
    if "fail" in flash:
        raise OSError("fastboot: no device in bootloader mode")
    if target.kind == "adb":  # what the device saw: flashing comes before the reboot
        target.execute("echo flash >> LOG; touch /tmp/marker", check=True)
    return True
""".replace("LOG", LOG)


def flashes(pytester: pytest.Pytester) -> list[dict]:
    path = pytester.path / "flashes.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@FAST
def test_flashing_comes_before_the_reboot(pytester, phone) -> None:
    pytester.makeconftest(FLASH_CONFTEST)
    pytester.makefile(".yaml", agenda=agenda("each_job", "by_workload",
                                             a="flash: {images: {kernel: Image}}"))
    result = run(pytester, "agenda.yaml", f"--wa-device=adb:{phone.serial}")
    result.assert_outcomes(passed=4)
    # Flashed once for both iterations of a (the images stay), then rebooted onto them.
    assert device_log(phone) == ["flash", "a fresh", "a kept", "b fresh", "b kept"]
    assert flashes(pytester) == [{"job": "a-command[1]", "flash": {"images": {"kernel": "Image"}},
                                  "kind": "adb"}]
    events = [e.message for e in RunOutput(pytester.path / "wa_output").job("a", 1).events]
    assert events[0].startswith("flashed the device in ")
    assert events[1].startswith("rebooted the device (reboot_policy each_job: before the first")


def test_the_flash_hook_gets_each_new_flash_entry(pytester) -> None:
    """On this host (as_needed: nothing reboots): a different entry flashes again."""
    pytester.makeconftest(FLASH_CONFTEST)
    pytester.makefile(".yaml", agenda="""\
        config: {execution_order: by_iteration, iterations: 2}
        workloads:
          - {id: a, name: command, params: {command: "true"},
             flash: {image_bundle: release.tar.gz, images: {kernel: Image}}}
          - {id: b, name: command, params: {command: "true"}, flash: {images: {boot: b.img}}}
          - {id: c, name: command, params: {command: "true"}}
        """)
    run(pytester, "agenda.yaml").assert_outcomes(passed=6)
    assert [(f["job"], f["kind"]) for f in flashes(pytester)] == [
        ("a-command[1]", "local"), ("b-command[1]", "local"),
        ("a-command[2]", "local"), ("b-command[2]", "local")]
    assert flashes(pytester)[0]["flash"] == {"image_bundle": "release.tar.gz",
                                             "images": {"kernel": "Image"}}


def test_a_failed_flash_fails_the_job_in_setup(pytester) -> None:
    pytester.makeconftest(FLASH_CONFTEST)
    pytester.makefile(".yaml", agenda="""\
        config: {iterations: 2, execution_order: by_workload}
        workloads:
          - {id: a, name: command, params: {command: "true"}, flash: {fail: yes}}
          - {id: b, name: command, params: {command: "true"}}
        """)
    result = run(pytester, "agenda.yaml", "-v")
    result.assert_outcomes(passed=2, errors=1, skipped=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of a-command[[]1[]]*",
                                 "FAILED: a-command[[]1[]] (command, *agenda.yaml:3)",
                                 "flash: OSError: fastboot: no device in bootloader mode"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize("policy, message", [
    ("as_needed", "*agenda.yaml:3: flash: no flashing plugin is installed for this device*"),
    ("never", "*agenda.yaml:3: flash: cannot flash: reboot_policy never does not permit "
              "rebooting*"),
])
def test_flash_entries_that_cannot_be_honoured(pytester, policy, message) -> None:
    if policy == "never":
        pytester.makeconftest(FLASH_CONFTEST)
    pytester.makefile(".yaml", agenda=f"""\
        config: {{reboot_policy: {policy}}}
        workloads:
          - {{id: a, name: command, params: {{command: "true"}}, flash: {{images: {{k: I}}}}}}
        """)
    result = run(pytester, "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-wa: {message}"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not flashes(pytester)


def test_the_local_target_refuses_a_policy_that_reboots(pytester) -> None:
    pytester.makefile(".yaml", agenda="""\
        config:
          reboot_policy: each_job
        workloads:
          - {id: a, name: command, params: {command: "touch ran"}}
        """)
    result = run(pytester, "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: pytest-wa: */agenda.yaml:2: reboot_policy: each_job reboots the device, but "
        "the local target (the host pytest runs on) cannot be rebooted: use never or "
        "as_needed, or a device that can reboot (--wa-device)"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (pytester.path / "ran").exists()
    result = run(pytester, "agenda.yaml", "--wa-reboot-policy=run_completion")
    result.stderr.fnmatch_lines(["ERROR: pytest-wa: --wa-reboot-policy: run_completion "
                                 "reboots the device, but the local target *"])
    run(pytester, "agenda.yaml", "--wa-reboot-policy=as_needed").assert_outcomes(passed=1)


# A board whose reboot takes boot_parameters: it records each reboot in reboots.jsonl.
# While a file "broken" exists its reboots fail: all of them if it is empty, else as
# many as the number it holds.
BOARD_CONFTEST = """
import json
import os
from pytest_wa import TargetError
from pytest_wa.targets.local import LocalTarget

class Board(LocalTarget):
    kind = "board"

    def reboot(self, *, hard=False, timeout=None, boot_parameters=None):
        with open("reboots.jsonl", "a") as handle:
            handle.write(json.dumps({"hard": hard, "boot_parameters": boot_parameters}) + "\\n")
        if os.path.exists("broken"):
            with open("broken") as handle:
                left = handle.read().strip()
            if left != "0":
                if left:
                    with open("broken", "w") as handle:
                        handle.write(str(int(left) - 1))
                raise TargetError("board did not come back after 120 s")

def pytest_wa_make_target(config, device):
    if device == "board":
        return Board(name=device)
"""


def board_reboots(pytester: pytest.Pytester) -> list[dict]:
    path = pytester.path / "reboots.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_boot_parameters_reach_the_reboot(pytester) -> None:
    pytester.makeconftest(BOARD_CONFTEST)
    pytester.makefile(".yaml", agenda=agenda("each_job", "by_workload",
                                             a="boot_parameters: {os_mode: 1, cpus: big}"))
    run(pytester, "agenda.yaml", "--wa-device=board").assert_outcomes(passed=4)
    assert board_reboots(pytester) == [
        {"hard": False, "boot_parameters": {"os_mode": 1, "cpus": "big"}},
        {"hard": False, "boot_parameters": None}]  # none given: the keyword is not passed
    events = [e.message for e in RunOutput(pytester.path / "wa_output").job("a", 1).events]
    assert "boot_parameters {'os_mode': 1, 'cpus': 'big'}" in events[0]


@FAST
def test_a_target_that_cannot_apply_boot_parameters(pytester, phone) -> None:
    pytester.makefile(".yaml", agenda=agenda("initial", a="boot_parameters: {os_mode: 1}"))
    result = run(pytester, "agenda.yaml", f"--wa-device=adb:{phone.serial}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: pytest-wa: */agenda.yaml:3: boot_parameters: the adb target cannot apply "
        "boot_parameters (its reboot() takes none)*"])
    assert device_log(phone) == []
    # Without a reboot before a's jobs they are never used: the run goes on, and says so.
    pytester.makefile(".yaml", agenda=agenda("initial", b="boot_parameters: {os_mode: 1}"))
    result = run(pytester, "agenda.yaml", f"--wa-device=adb:{phone.serial}")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*boot_parameters of b are not used: reboot_policy initial "
                                 "does not reboot before those jobs*"])


def test_a_failed_reboot_fails_the_job_in_setup(pytester) -> None:
    pytester.makeconftest(BOARD_CONFTEST)
    (pytester.path / "broken").touch()
    pytester.makefile(".yaml", agenda=agenda("each_job", "by_workload"))
    result = run(pytester, "agenda.yaml", "--wa-device=board", "--wa-max-retries=0", "-v")
    result.assert_outcomes(errors=2, skipped=2)
    result.stdout.fnmatch_lines([
        "*ERROR at setup of a-command[[]1[]]*",
        "FAILED: a-command[[]1[]] (command, *agenda.yaml:3)",
        "reboot: TargetError: board did not come back after 120 s"])
    assert "Traceback" not in result.stdout.str()
    assert len(board_reboots(pytester)) == 2  # a[1] and b[1]; a[2] and b[2] are skipped


def test_a_retried_job_gets_the_reboot_that_failed(pytester) -> None:
    pytester.makeconftest(BOARD_CONFTEST)
    (pytester.path / "broken").write_text("1")
    pytester.makefile(".yaml", agenda=agenda("initial", iterations=1))
    result = run(pytester, "agenda.yaml", "--wa-device=board", "--wa-max-retries=1")
    assert result.parseoutcomes() == {"passed": 2, "rerun": 1}
    assert len(board_reboots(pytester)) == 2  # the initial reboot failed, then again: done
    events = [e.message for e in RunOutput(pytester.path / "wa_output").job("a", 1).events]
    assert any(e.startswith("rebooted the device (reboot_policy initial") for e in events)


def test_a_failed_reboot_on_run_completion_is_reported(pytester) -> None:
    pytester.makeconftest(BOARD_CONFTEST)
    (pytester.path / "broken").touch()
    pytester.makefile(".yaml", agenda=agenda("run_completion", iterations=1))
    result = run(pytester, "agenda.yaml", "--wa-device=board")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["pytest-wa: reboot_policy run_completion: the reboot after "
                                 "the last job failed: TargetError: board did not come back*"])
    output = RunOutput(Path(pytester.path) / "wa_output")
    assert any("run_completion" in event.message for event in output.events)
    assert len(board_reboots(pytester)) == 1
