"""The sysbench workload as users meet it: real runs of every test, its report read from
each sysbench version, WA3's names, and no sysbench left behind on a timeout or Ctrl-C.

The recorded reports under tests/data/outputs/ came from Debian 12's sysbench 1.0.20 on
an x86_64 host, unedited (``sysbench TEST --threads=2 --events=0 --time=1 run``; fileio
with ``--file-test-mode=rndrw --file-total-size=16M --file-num=4`` after ``prepare``;
cpu also with ``--percentile=99`` and ``--percentile=0``).
The 0.4 and 0.5 reports were written by hand from those versions' report format (each
file says so in its header), and the expected metrics below by hand from their text.

The helpers at the top (registering the workloads, watching the tool's processes) are
shared with tests/test_workload_stress_ng.py and tests/test_workload_hackbench.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_wa import RunOutput
from pytest_wa.workloads.sysbench_parse import REQUIRED, parse_report

OUTPUTS = Path(__file__).resolve().parent / "data" / "outputs"
#: What the three workloads create in a target's working directory.
OURS = ("sysbench", "stress_ng", "stress-ng", "hackbench")

REGISTER = """
from pytest_wa.workloads.hackbench import Hackbench
from pytest_wa.workloads.stress_ng import StressNg
from pytest_wa.workloads.sysbench import Sysbench


def pytest_wa_register_workloads(registry):
    for cls in (Sysbench, StressNg, Hackbench):
        registry.add(cls)
"""

#: After every job: what is left in the target's working directory (should be nothing).
LEFTOVERS = """

def pytest_wa_job_end(job):
    listing = job.target.execute("ls -A", timeout=30).stdout.split()
    with open("leftovers.txt", "a") as handle:
        handle.write(f"{job.spec.id}: {' '.join(listing)}\\n")
"""


# --- helpers shared by the three workloads' test modules -------------------------------

def register(pytester: pytest.Pytester, extra: str = "") -> None:
    """Until they are built in, a conftest registers the three workloads."""
    pytester.makeconftest(REGISTER + extra)


def write_agenda(pytester: pytest.Pytester, text: str, name: str = "agenda") -> None:
    pytester.makefile(".yaml", **{name: textwrap.dedent(text)})


def leftovers(pytester: pytest.Pytester) -> dict[str, list[str]]:
    """Job id -> what our workloads left in the target's working directory after it
    (the target's own files, such as an SSH board's bin/, are not ours)."""
    lines = (pytester.path / "leftovers.txt").read_text().splitlines()
    return {job: [name for name in names.split() if name.startswith(OURS)]
            for job, names in (line.split(":", 1) for line in lines)}


def tool_processes(tool: str, under: Path) -> list[int]:
    """Live processes called ``tool...`` whose working directory is under ``under``
    (pgrep by name, narrowed to one test's runs)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except (OSError, IndexError):
            continue
        if comm.startswith(tool[:15]) and cwd.startswith(str(under)) and state != "Z":
            found.append(int(entry))
    return found


def start_run(pytester: pytest.Pytester, tool: str, *args: str) -> subprocess.Popen:
    """pytest on agenda.yaml in a process of its own, returned once ``tool`` runs. The
    local target's working directory is put under the test's directory (TMPDIR), so the
    tool's processes are told from any other by where they run."""
    (pytester.path / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(pytester.path / "tmp")}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "agenda.yaml", *args],
        cwd=pytester.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    seen: set[int] = set()
    while True:  # a process seen twice, 0.2 s apart: the run itself, not `tool --version`
        now = set(tool_processes(tool, pytester.path))
        if now & seen:
            return process
        seen = now
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline, f"{tool} never started"
        time.sleep(0.2)


def assert_none_left(tool: str, pytester: pytest.Pytester) -> None:
    deadline = time.monotonic() + 10
    while tool_processes(tool, pytester.path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tool_processes(tool, pytester.path) == []


def check_job_timeout_kills(pytester: pytest.Pytester, tool: str) -> None:
    """agenda.yaml runs far longer than a 1 s job_timeout: FAILED, and no ``tool`` left."""
    process = start_run(pytester, tool, "--wa-job-timeout=1")
    text = process.communicate(timeout=120)[0]
    assert process.returncode == pytest.ExitCode.TESTS_FAILED, text
    assert "job_timeout of 1 s" in text
    assert_none_left(tool, pytester)


def check_ctrl_c_kills(pytester: pytest.Pytester, tool: str) -> None:
    """Ctrl-C while ``tool`` runs: the run is interrupted and no ``tool`` is left."""
    process = start_run(pytester, tool)
    process.send_signal(signal.SIGINT)
    text = process.communicate(timeout=120)[0]
    assert process.returncode == pytest.ExitCode.INTERRUPTED, text
    assert_none_left(tool, pytester)
    assert RunOutput(pytester.path / "wa_output").jobs[0].status.name == "ABORTED"


def check_numbers(job, names) -> None:
    for name in names:
        assert isinstance(job.metric(name).value, int | float), name


# --- the report, from every version ----------------------------------------------------

def metrics_of(name: str) -> dict[str, tuple[float, str | None, bool]]:
    readings = parse_report((OUTPUTS / name).read_text())
    return {r.name: (r.value, r.units, r.lower_is_better) for r in readings}


WA3_0_4_CPU = {
    "total time": (12.5123, "s", True), "total number of events": (10000, None, False),
    "response time min": (4.8, "ms", True), "response time avg": (5, "ms", True),
    "response time max": (31.25, "ms", True), "approx.  95 percentile": (5.42, "ms", True),
    "thread fairness events avg": (2500, None, False),
    "thread fairness events stddev": (12.25, None, True),
    "thread fairness execution time avg": (12.5043, "s", False),
    "thread fairness execution time stddev": (0.01, "s", True),
}


def test_sysbench_0_4_cpu_report() -> None:
    assert metrics_of("sysbench-0.4-cpu.txt") == WA3_0_4_CPU


def test_sysbench_0_4_fileio_report_with_its_rates() -> None:
    metrics = metrics_of("sysbench-0.4-fileio-rndrw.txt")
    assert metrics["total time"] == (10, "s", True)
    assert metrics["response time max"] == (80.5, "ms", True)
    assert metrics["approx.  95 percentile"] == (7.25, "ms", True)
    assert metrics["thread fairness events avg"] == (5000, None, False)
    assert metrics["thread fairness execution time stddev"] == (0.02, "s", True)
    assert metrics["transfer rate"] == (15.625, "Mb/s", False)
    assert metrics["requests per second"] == (1000, "requests/s", False)
    assert set(metrics) == set(REQUIRED) | {"approx.  95 percentile", "transfer rate",
                                            "requests per second"}


def test_sysbench_0_5_cpu_report() -> None:
    assert metrics_of("sysbench-0.5-cpu.txt") == {
        "total time": (1.25, "s", True), "total number of events": (10000, None, False),
        "response time min": (0.95, "ms", True), "response time avg": (1, "ms", True),
        "response time max": (12.4, "ms", True), "approx.  95 percentile": (1.1, "ms", True),
        "thread fairness events avg": (1250, None, False),
        "thread fairness events stddev": (3.75, None, True),
        "thread fairness execution time avg": (1.245, "s", False),
        "thread fairness execution time stddev": (0, "s", True),
    }


def test_sysbench_0_5_memory_report_with_its_rates() -> None:
    metrics = metrics_of("sysbench-0.5-memory.txt")
    assert metrics["total number of events"] == (1048576, None, False)
    assert metrics["response time min"] == (0, "ms", True)
    assert metrics["approx.  95 percentile"] == (0.01, "ms", True)
    assert metrics["operations per second"] == (524288, "ops/s", False)
    assert metrics["transfer rate"] == (512, "MB/s", False)


def test_sysbench_1_0_cpu_report_recorded_here() -> None:
    """WA3 3.3.1 stops at this report ("response time:" is not in it); every name is read."""
    assert metrics_of("sysbench-1.0.20-cpu.txt") == {
        "total time": (1.0004, "s", True), "total number of events": (4303, None, False),
        "response time min": (0.22, "ms", True), "response time avg": (0.46, "ms", True),
        "response time max": (13.98, "ms", True), "approx.  95 percentile": (0.42, "ms", True),
        "thread fairness events avg": (2151.5, None, False),
        "thread fairness events stddev": (200.5, None, True),
        "thread fairness execution time avg": (0.9992, "s", False),
        "thread fairness execution time stddev": (0, "s", True),
        "events per second": (4298.75, "events/s", False),
    }


@pytest.mark.parametrize(("test", "rates"), [
    ("memory", {"operations per second": (5750712.88, "ops/s", False),
                "transfer rate": (5615.93, "MiB/s", False)}),
    ("fileio-rndrw", {"reads per second": (46159.84, "ops/s", False),
                      "writes per second": (30774.89, "ops/s", False),
                      "fsyncs per second": (3083.38, "ops/s", False),
                      "read throughput": (721.25, "MiB/s", False),
                      "write throughput": (480.86, "MiB/s", False)}),
    ("threads", {}),
    ("mutex", {}),
])
def test_sysbench_1_0_reports_recorded_here(test: str, rates: dict) -> None:
    metrics = metrics_of(f"sysbench-1.0.20-{test}.txt")
    assert set(metrics) == set(REQUIRED) | {"approx.  95 percentile"} | set(rates)
    assert {name: metrics[name] for name in rates} == rates


def test_other_percentiles_and_none() -> None:
    """--percentile=99 is named as WA3 would have; --percentile=0 leaves only the rest."""
    assert metrics_of("sysbench-1.0.20-cpu-percentile-99.txt")["approx.  99 percentile"] == (
        8.28, "ms", True)
    metrics = metrics_of("sysbench-1.0.20-cpu-percentile-0.txt")
    assert not [name for name in metrics if "percentile" in name]
    assert metrics["response time max"] == (18.78, "ms", True)
    assert set(REQUIRED) <= set(metrics)


def test_mutex_report_exact_latencies() -> None:
    metrics = metrics_of("sysbench-1.0.20-mutex.txt")
    assert metrics["total number of events"] == (2, None, False)
    assert metrics["response time avg"] == (475.58, "ms", True)
    assert metrics["approx.  95 percentile"] == (475.79, "ms", True)
    assert metrics["thread fairness events avg"] == (1, None, False)


# --- real runs on this host -------------------------------------------------------------

ALL_TESTS = """
    workloads:
      - {id: cpu, name: sysbench, params: {max_time: 1}}
      - {id: memory, name: sysbench, params: {test: memory, max_time: 1, threads: 2}}
      - {id: threads, name: sysbench, params: {test: threads, max_time: 1, threads: 2}}
      - {id: mutex, name: sysbench, params: {test: mutex, max_time: 1, threads: 2,
                                             cmd_params: "--mutex-loops=1000"}}
      - id: fileio
        name: sysbench
        params: {test: fileio, file_test_mode: rndrd, max_time: 1, threads: 2,
                 cmd_params: "--file-total-size=8M --file-num=2"}
      - {id: pinned, name: sysbench, params: {events: 200, num_threads: 1,
                                              taskset_mask: "0"}}
"""
RATE_OF_TEST = {"cpu": "events per second", "memory": "transfer rate",
                "fileio": "reads per second", "pinned": "events per second"}


def check_wa3_metrics(job) -> None:
    """WA3's metrics, numbers that make sense, in WA3's units and directions."""
    check_numbers(job, REQUIRED)
    assert job.metric("total time").value > 0 and job.metric("total time").units == "s"
    assert job.metric("total number of events").value > 0
    for name in ("response time min", "response time avg", "response time max",
                 "approx.  95 percentile"):
        metric = job.metric(name)
        assert metric.value >= 0 and metric.units == "ms" and metric.lower_is_better
    assert job.metric("response time max").value >= job.metric("response time min").value
    assert job.metric("thread fairness events avg").value > 0
    assert job.metric("thread fairness execution time avg").units == "s"
    assert "General statistics:" in job.artifact_path("sysbench_output").read_text()


def test_every_test_runs_for_real_and_leaves_nothing(pytester: pytest.Pytester) -> None:
    register(pytester, LEFTOVERS)
    write_agenda(pytester, ALL_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    output = RunOutput(pytester.path / "wa_output")
    for job in output.jobs:
        check_wa3_metrics(job)
        if job.id in RATE_OF_TEST:
            assert job.metric(RATE_OF_TEST[job.id]).value > 0
    assert leftovers(pytester) == {job.id: [] for job in output.jobs}  # fileio's files too
    fileio = (output.job("fileio", 1).path / "output.txt").read_text()
    assert [line.rsplit(" ", 1)[1] for line in fileio.splitlines()
            if line.startswith("$ ")] == ["prepare", "run", "cleanup"]
    pinned = output.job("pinned", 1)
    assert pinned.metric("total number of events").value == 200
    assert "taskset 0x1 " in (pinned.path / "output.txt").read_text()
    assert "--threads=1 --events=200 --time=0 run" in (pinned.path / "output.txt").read_text()


FAKE_SYSBENCH = """\
#!/bin/sh
# A sysbench of another version: records its arguments, prints a report.
echo "$*" >> {log}
case "$*" in
  --version) echo "{banner}"; exit 0 ;;
  *--file-num=0*prepare) echo "FATAL: no files to make" >&2; exit 3 ;;
  *" run") cat {report} ;;
esac
"""


def fake_sysbench(pytester: pytest.Pytester, banner: str, report: str) -> Path:
    path = pytester.path / "fake-sysbench"
    path.write_text(FAKE_SYSBENCH.format(log=pytester.path / "calls.txt", banner=banner,
                                         report=report))
    path.chmod(0o755)
    return path


def test_sysbench_0_4_gets_its_own_option_names_end_to_end(pytester: pytest.Pytester) -> None:
    binary = fake_sysbench(pytester, "sysbench 0.4.12:  multi-threaded system evaluation "
                           "benchmark", str(OUTPUTS / "sysbench-0.4-cpu.txt"))
    register(pytester)
    write_agenda(pytester, f"""
        workloads:
          - {{id: old, name: sysbench, params: {{max_requests: 100, threads: 4,
                                                  binary: "{binary}"}}}}
          - {{id: io, name: sysbench, params: {{test: fileio, max_time: 5, threads: 2,
                cmd_params: "--file-total-size=16M", binary: "{binary}"}}}}
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    calls = (pytester.path / "calls.txt").read_text().splitlines()
    assert calls == [
        "--version",
        "--test=cpu --num-threads=4 --max-requests=100 --max-time=0 run",
        "--version",  # each spec asks, in its initialize
        "--test=fileio --num-threads=2 --max-requests=0 --max-time=5 --file-test-mode=seqwr "
        "--file-total-size=16M prepare",
        "--test=fileio --num-threads=2 --max-requests=0 --max-time=5 --file-test-mode=seqwr "
        "--file-total-size=16M run",
        "--test=fileio --num-threads=2 --max-requests=0 --max-time=5 --file-test-mode=seqwr "
        "--file-total-size=16M cleanup"]
    old = RunOutput(pytester.path / "wa_output").job("old", 1)
    assert {m.name: (m.value, m.units, m.lower_is_better)
            for m in old.metrics} == WA3_0_4_CPU


def test_an_incomplete_report_is_partial_and_keeps_what_it_has(
        pytester: pytest.Pytester) -> None:
    cut = pytester.path / "cut.txt"
    full = (OUTPUTS / "sysbench-1.0.20-cpu.txt").read_text()
    cut.write_text(full.split("Threads fairness:")[0])
    binary = fake_sysbench(pytester, "sysbench 1.0.20", str(cut))
    register(pytester)
    write_agenda(pytester, f'workloads:\n  - {{id: cut, name: sysbench, params: '
                           f'{{binary: "{binary}"}}}}\n')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*sysbench's report lacks thread fairness events avg, *"])
    job = RunOutput(pytester.path / "wa_output").job("cut", 1)
    assert job.status.name == "PARTIAL"
    assert job.metric("total number of events").value == 4303


def test_a_failed_prepare_fails_setup_and_leaves_nothing(pytester: pytest.Pytester) -> None:
    binary = fake_sysbench(pytester, "sysbench 1.0.20", "/dev/null")
    register(pytester, LEFTOVERS)
    write_agenda(pytester, f"""
        workloads:
          - {{id: io, name: sysbench, params: {{test: fileio, cmd_params: "--file-num=0",
                                                 binary: "{binary}"}}}}
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*sysbench fileio prepare exited with code 3*",
                                 "*FATAL: no files to make*"])
    assert leftovers(pytester) == {"io": []}


def test_mistakes_are_located_at_collection(pytester: pytest.Pytester) -> None:
    register(pytester)
    write_agenda(pytester, """
        workloads:
          - {name: sysbench, params: {file_test_mode: rndrd}}
          - {name: sysbench, params: {max_time: 0, max_requests: 0}}
          - {name: sysbench, params: {cpus: "0-x"}}
          - {name: sysbench, params: {test: oltp}}
    """)
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([
        "*agenda.yaml:2: workloads[[]0[]]: workload 'sysbench': file_test_mode is for test "
        "'fileio' only; this test is 'cpu'",
        "*agenda.yaml:3: workloads[[]1[]]: workload 'sysbench': sysbench would never stop: *",
        "*agenda.yaml:4: workloads[[]2[]].params.cpus: *expected a hexadecimal mask*",
        "*agenda.yaml:5: workloads[[]3[]].params.test: workload 'sysbench': 'oltp' is not "
        "allowed; *",
    ])


def test_listed_and_shown(pytester: pytest.Pytester) -> None:
    register(pytester)
    listed = pytester.runpytest("--wa-list", "workloads")
    listed.stdout.fnmatch_lines([
        "hackbench *Run hackbench (rt-tests)*",
        "stress-ng *Run stress-ng stressors*(alias: stress_ng)",
        "sysbench *Run one sysbench test*"])
    shown = pytester.runpytest("--wa-show", "sysbench")
    shown.stdout.fnmatch_lines([
        "sysbench (workload)", "*sysbench 0.4, 0.5*", "parameters:",
        "  test (string, default: 'cpu'; one of 'fileio', 'cpu', 'memory', 'threads', "
        "'mutex')", "*(alias: num_threads)*", "  cpus (cpu mask, default: 0)"])


# --- no sysbench left behind ------------------------------------------------------------

LONG_RUN = "workloads:\n  - {id: long, name: sysbench, params: {max_time: 60, threads: 2}}\n"


def test_job_timeout_kills_sysbench(pytester: pytest.Pytester) -> None:
    register(pytester)
    write_agenda(pytester, LONG_RUN)
    check_job_timeout_kills(pytester, "sysbench")


def test_ctrl_c_kills_sysbench(pytester: pytest.Pytester) -> None:
    register(pytester)
    write_agenda(pytester, LONG_RUN)
    check_ctrl_c_kills(pytester, "sysbench")


# --- on other targets -------------------------------------------------------------------

SHORT_RUN = "workloads:\n  - {id: cpu, name: sysbench, params: {max_time: 1, threads: 2}}\n"


def test_runs_on_the_simulated_android_device(pytester, wa_simulated_device,
                                              monkeypatch) -> None:
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(wa_simulated_device.adb_port))
    register(pytester, LEFTOVERS)
    write_agenda(pytester, SHORT_RUN)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           f"--wa-device=adb:{wa_simulated_device.serial}")
    result.assert_outcomes(passed=1)
    check_wa3_metrics(RunOutput(pytester.path / "wa_output").job("cpu", 1))
    assert leftovers(pytester) == {"cpu": []}


def ssh_device(pytester: pytest.Pytester, server) -> str:
    """lab.yaml with the test SSH server as device 'board'; the option that selects it."""
    pytester.makefile(".yaml", lab=f"""\
        devices:
          board: {{kind: ssh, host: {server.host}, port: {server.port},
                   username: {server.username}, keyfile: {server.client_key},
                   known_hosts: {server.known_hosts}}}
        """)
    return "--wa-config=lab.yaml"


def test_runs_over_ssh(pytester, wa_sshd, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    register(pytester, LEFTOVERS)
    write_agenda(pytester, SHORT_RUN)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           ssh_device(pytester, wa_sshd), "--wa-device=board")
    result.assert_outcomes(passed=1)
    check_wa3_metrics(RunOutput(pytester.path / "wa_output").job("cpu", 1))
    assert leftovers(pytester) == {"cpu": []}
