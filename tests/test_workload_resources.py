"""Where a workload's program comes from, as users meet it: --wa-resources, WA3's
dependencies directory, pytest-wa's own build (cached), a program nobody has, and
the program pushed to an Android device (once per run, and not again while it is
the same) or an SSH board.

The helpers at the top also serve the tests of dhrystone, memcpy and cyclictest.
"""

from __future__ import annotations

import platform
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from pytest_wa import RunOutput
from pytest_wa.targets.linux_facts import abi_of

HOST_ABI = abi_of(platform.machine())
DATA = Path(__file__).resolve().parent / "data" / "outputs"
REGISTER = """
from pytest_wa.workloads.cyclictest import Cyclictest
from pytest_wa.workloads.dhrystone import Dhrystone
from pytest_wa.workloads.memcpy import Memcpy

LAB_WORKLOADS = []  # a test's own, appended below


def pytest_wa_register_workloads(registry):
    for workload in (Cyclictest, Dhrystone, Memcpy, *LAB_WORKLOADS):
        registry.add(workload)
"""
TINY = """
from pytest_wa.workloads.resources import Tool
from pytest_wa.workloads.tool import Reading, ToolWorkload


class Tiny(ToolWorkload):
    name = "tiny"
    description = "A benchmark of the lab's own."
    tool = Tool("tinybench", debian="tinybench-tools")

    def command_line(self, context):
        return f"{self.program} 7"

    def parse(self, output):
        for line in output.splitlines():
            if line.startswith("score="):
                yield Reading("score", int(line[6:]), "points")


LAB_WORKLOADS.append(Tiny)
"""
#: A "dhrystone" that prints one thread's result at once, in the program's format.
STUB_DHRYSTONE = """#!/bin/sh
echo "stub called with: $*"
echo "This machine benchmarks at 1757000 dhrystones/second"
echo "                           1000 DMIPS"
echo "Total dhrystone run time: 0.500000 seconds."
"""


# --- helpers for every workload's tests ---------------------------------------------

def use_workloads(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                  cache: Path, extra: str = "") -> None:
    """The three workloads registered (until builtin_workloads lists them), programs
    built into ``cache`` (shared by a test session: gcc runs once), no WA3 user files."""
    pytester.makeconftest(REGISTER + extra)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("WA_USER_DIRECTORY", str(pytester.path / "wa_user"))


def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "program-cache"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def processes(pattern: str) -> list[str]:
    """Live processes whose command line matches ``pattern`` (pgrep -f)."""
    found = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True)
    return found.stdout.splitlines()


def renamed_program(pytester: pytest.Pytester, program: str) -> Path:
    """``program`` under a name no other process has (a symlink in the test's directory),
    so that ``processes`` finds only this test's."""
    link = pytester.path / f"{program}-{uuid.uuid4().hex[:12]}"
    link.symlink_to(shutil.which(program) or f"/usr/bin/{program}")
    return link


def assert_none_left(pattern: str) -> None:
    deadline = time.monotonic() + 5
    while processes(pattern) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes(pattern) == []


def assert_job_timeout_kills(pytester: pytest.Pytester, pattern: str) -> None:
    """agenda.yaml's one job runs past a 1 s job_timeout: FAILED, nothing left running."""
    started = time.monotonic()
    result = run(pytester, "agenda.yaml", "--wa-job-timeout=1", "--wa-max-retries=0")
    assert time.monotonic() - started < 30
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*JobTimeoutError: the job ran past its job_timeout of 1 s*"])
    assert_none_left(pattern)


def assert_ctrl_c_kills(pytester: pytest.Pytester, pattern: str) -> None:
    """agenda.yaml's job is interrupted once its program runs: ABORTED, nothing left."""
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                "agenda.yaml"], cwd=pytester.path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not processes(pattern):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert RunOutput(pytester.path / "wa_output").jobs[0].status.name == "ABORTED"
    assert_none_left(pattern)


def metrics(job) -> dict[str, tuple[object, str | None, bool]]:
    return {m.name: (m.value, m.units, m.lower_is_better) for m in job.metrics}


# --- the resource base ---------------------------------------------------------------

@pytest.fixture
def lab(pytester, monkeypatch, tmp_path_factory) -> pytest.Pytester:
    use_workloads(pytester, monkeypatch, session_cache(tmp_path_factory), TINY)
    return pytester


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_a_program_in_a_resource_directory_is_used(lab) -> None:
    executable(lab.path / "res" / "tinybench", '#!/bin/sh\necho "score=$(( $1 * 6 ))"\n')
    executable(lab.path / "abi_res" / HOST_ABI / "dhrystone", STUB_DHRYSTONE)
    lab.makefile(".yaml", agenda="workloads:\n  - tiny\n  - {name: dhrystone, "
                                 "params: {mloops: 1, threads: 1}}\n")
    result = run(lab, "agenda.yaml", "--wa-resources=res", "--wa-resources=abi_res")
    result.assert_outcomes(passed=2)
    output = RunOutput(lab.path / "wa_output")
    assert metrics(output.job("wk1", 1)) == {"score": (42, "points", False)}
    dhrystone = output.job("wk2", 1)
    assert dhrystone.metric("total DMIPS").value == 1000
    assert "stub called with: -l 1 -t 1 -d 0" in (dhrystone.path / "dhrystone.out").read_text()


def test_wa3_dependencies_layout_is_found(lab) -> None:
    executable(lab.path / "wa_user" / "dependencies" / "dhrystone" / "bin" / HOST_ABI /
               "dhrystone", STUB_DHRYSTONE)
    lab.makefile(".yaml", agenda="workloads:\n  - {name: dhrystone, params: {mloops: 1}}\n")
    run(lab, "agenda.yaml").assert_outcomes(passed=1)
    assert RunOutput(lab.path / "wa_output").jobs[0].metric("thread 0 score").value == 1757000


def test_a_program_nobody_has_is_one_error_before_the_first_job(lab) -> None:
    lab.makefile(".yaml", agenda="""\
        workloads:
          - {name: command, params: {command: "touch ran"}}
          - tiny
        """)
    result = run(lab, "agenda.yaml", "--wa-resources=res")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "ERROR: pytest-wa: *agenda.yaml:3: wk2 (tiny): workload 'tiny' needs 'tinybench', "
        "which device 'local' does not have: looked in */res/*, */res, "
        "*/wa_user/dependencies/tiny/bin/*, the device's PATH; install it on the device "
        "(Debian: apt-get install tinybench-tools)"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (lab.path / "ran").exists()


def test_the_build_is_cached_between_runs(lab, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "fresh"))
    lab.makefile(".yaml", agenda="workloads:\n  - {name: dhrystone, params: "
                                 "{mloops: 1, threads: 1}}\n")
    run(lab, "agenda.yaml").assert_outcomes(passed=1)
    [built] = (tmp_path / "fresh" / "pytest-wa" / "bin").rglob("dhrystone-*")
    first = built.stat().st_mtime_ns
    run(lab, "agenda.yaml", "--wa-force").assert_outcomes(passed=1)
    assert [built] == list((tmp_path / "fresh" / "pytest-wa" / "bin").rglob("dhrystone-*"))
    assert built.stat().st_mtime_ns == first  # not compiled again


# --- onto other devices ----------------------------------------------------------------

ON_DEVICE = "/data/local/tmp/bin/dhrystone"
#: Two dhrystone specs, each followed by a job that records the program's mtime there.
PUSHED_ONCE = f"""\
workloads:
  - {{id: d1, name: dhrystone, params: {{mloops: 1, threads: 2}}}}
  - {{id: m1, name: command, params: {{command: "stat -c %.9Y {ON_DEVICE}",
      metrics: {{mtime: '([0-9.]+)'}}}}}}
  - {{id: d2, name: dhrystone, params: {{mloops: 1, threads: 1}}}}
  - {{id: m2, name: command, params: {{command: "stat -c %.9Y {ON_DEVICE}",
      metrics: {{mtime: '([0-9.]+)'}}}}}}
"""


@pytest.mark.wa_simulated_device(abi=HOST_ABI, boot_time=0.2)
def test_dhrystone_is_pushed_to_android_once_kept_while_the_same_and_uninstalled(
        lab, wa_simulated_device) -> None:
    device = wa_simulated_device
    lab.makefile(".yaml", agenda=PUSHED_ONCE, lab=f"""\
        devices:
          phone: {{kind: adb, device: "{device.serial}", adb_port: {device.adb_port},
                  executables_directory: /data/local/tmp/bin}}
        """)
    arguments = ("agenda.yaml", "--wa-config=lab.yaml", "--wa-device=phone")
    run(lab, *arguments).assert_outcomes(passed=4)
    first = RunOutput(lab.path / "wa_output")
    pushed = first.job("m1", 1).metric("mtime").value
    assert first.job("m2", 1).metric("mtime").value == pushed  # once per run
    assert first.job("d1", 1).metric("total DMIPS").value > 0
    run(lab, *arguments, "--wa-force").assert_outcomes(passed=4)
    second = RunOutput(lab.path / "wa_output")
    assert second.job("m1", 1).metric("mtime").value == pushed  # same hash: not pushed
    assert second.job("d2", 1).metric("thread 0 DMIPS").value > 0
    assert device.shell(f"ls {ON_DEVICE}").returncode == 0
    lab.makefile(".yaml", agenda="workloads:\n  - {name: dhrystone, params: "
                                 "{mloops: 1, threads: 1, uninstall: true}}\n")
    run(lab, *arguments, "--wa-force").assert_outcomes(passed=1)
    assert device.shell(f"ls {ON_DEVICE}").returncode != 0  # WA3's uninstall


def test_dhrystone_runs_over_ssh(lab, wa_sshd) -> None:
    lab.makefile(".yaml", agenda="workloads:\n  - {name: dhrystone, params: "
                                 "{mloops: 1, threads: 2}}\n", lab=f"""\
        devices:
          board: {{kind: ssh, host: {wa_sshd.host}, port: {wa_sshd.port},
                  username: {wa_sshd.username}, keyfile: {wa_sshd.client_key},
                  known_hosts: {wa_sshd.known_hosts}}}
        """)
    run(lab, "agenda.yaml", "--wa-config=lab.yaml", "--wa-device=board").assert_outcomes(
        passed=1)
    job = RunOutput(lab.path / "wa_output").jobs[0]
    assert job.metric("total DMIPS").value > 0
    command = (job.path / "output.txt").read_text().splitlines()[0]
    assert "/bin/dhrystone -l 1 -t 2" in command and "cache" not in command  # pushed
