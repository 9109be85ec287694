"""Running agendas with the trace-cmd and perf instruments in their tests: the conftest
that registers them, a pytest of its own per run (the local target's files under the
test's directory), and what a run left on this host (tracefs instances, perf processes).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_wa import RunOutput

REGISTER = """
from pytest_wa.instruments.perf import Perf
from pytest_wa.instruments.trace_cmd import TraceCmd


def pytest_wa_register_instruments(registry):
    registry.add(TraceCmd)
    registry.add(Perf)


def pytest_wa_run_start(run):  # the trace's instance is named after the run's process
    import os

    with open("run.pid", "w") as handle:
        handle.write(str(os.getpid()))
"""
#: A workload that makes the scheduler work: processes started, run and switched.
BUSY = "sleep 0.1; ls / > /dev/null; sleep 0.1"


def can_be_root() -> bool:
    if os.geteuid() == 0:
        return True
    return shutil.which("sudo") is not None and subprocess.run(
        ["sudo", "-n", "true"], capture_output=True, check=False).returncode == 0


needs_root = pytest.mark.skipif(not can_be_root(), reason="tracing needs root or sudo -n")


def as_root(command: str) -> str:
    argv = ["sh", "-c", command] if os.geteuid() == 0 else ["sudo", "-n", "sh", "-c", command]
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout


def run(pytester: pytest.Pytester, agenda: str, *args: str) -> pytest.RunResult:
    """The agenda run in a pytest of its own, the local target's files under tmp/."""
    pytester.makeconftest(REGISTER)
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    (pytester.path / "tmp").mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(pytester.path / "tmp"))
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml", *args)


def job_of(pytester: pytest.Pytester, job_id: str):
    return RunOutput(pytester.path / "wa_output").job(job_id, 1)


def instance_of(job) -> str:
    """The tracefs instance the job was traced in (its artifacts' descriptions name it)."""
    for artifact in job.artifacts:
        words = (artifact.description or "").replace(")", " ").split()
        if "instance" in words:
            return words[words.index("instance") + 1]
    raise AssertionError(f"no tracefs instance named in {job.artifacts}")


def tracefs_instances() -> set[str]:
    mounts = Path("/proc/mounts").read_text().split("\n")
    paths = [line.split()[1] for line in mounts if len(line.split()) > 2
             and line.split()[2] == "tracefs"]
    if not paths:
        return set()
    return set(as_root(f"ls {paths[0]}/instances").split())


def between_markers(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "TRACE_MARKER_START" in line)
    stop = next(i for i, line in enumerate(lines) if "TRACE_MARKER_STOP" in line)
    return lines[start + 1:stop]


def path_without(pytester: pytest.Pytester, *programs: str) -> str:
    """A PATH like this one, without ``programs``: a device that lacks them."""
    bin_dir = pytester.path / "bin-without"
    bin_dir.mkdir(exist_ok=True)
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            link = bin_dir / name
            if name not in programs and not link.exists():
                link.symlink_to(os.path.join(directory, name))
    return str(bin_dir)


def run_instance(pytester: pytest.Pytester) -> str:
    return f"pytest-wa-{(pytester.path / 'run.pid').read_text()}"


def phone(pytester: pytest.Pytester, device, monkeypatch, *, root: bool) -> tuple[str, ...]:
    """The simulated phone's device config; the options that run on it."""
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(device.adb_port))
    pytester.makefile(".yaml", lab=f"""\
        devices:
          phone: {{kind: adb, device: "{device.serial}", adb_port: {device.adb_port},
                   adb_as_root: {str(root).lower()}}}
        """)
    return "--wa-config=lab.yaml", "--wa-device=phone"


def perf_processes(under: Path) -> list[int]:
    """Live perf processes running in a directory under ``under`` (this test's runs)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except (OSError, IndexError):
            continue
        if comm.startswith("perf") and state != "Z" and cwd.startswith(str(under)):
            found.append(int(entry))
    return found


class Bystanders:
    """Someone else's ``sleep`` and ``perf``, running through the whole run: WA3 3.3.1
    kills every perf and every sleep on the device around each job."""

    def __init__(self) -> None:
        self.processes = [subprocess.Popen(["sleep", "600"], cwd="/"),
                          subprocess.Popen(["perf", "stat", "-e", "task-clock", "--", "sleep",
                                            "600"], stderr=subprocess.DEVNULL, cwd="/")]

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


def interrupt_once(pytester: pytest.Pytester, ready: Callable[[], bool]) -> None:
    """pytest on agenda.yaml in a process of its own, Ctrl-C (SIGINT) once ``ready()``:
    it must end interrupted."""
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                "agenda.yaml"], cwd=pytester.path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not ready():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    text = process.communicate(timeout=60)[0]
    assert process.returncode == pytest.ExitCode.INTERRUPTED, text
