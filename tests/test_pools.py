"""Device pools with pytest-xdist, as users run them: three simulated phones, three SSH boards."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_output_layout import ATTEMPTS_AGENDA, ATTEMPTS_CONFTEST, csv_job_rows, csv_run_rows
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa import RunOutput
from pytest_wa.output.pods import decode_time
from pytest_wa.testing.sshd import SshServer

pytest.importorskip("xdist")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", *args)


def agenda(pytester: pytest.Pytester, jobs: int, command: str = "sleep 0.2") -> None:
    pytester.makefile(".yaml", agenda=f"""\
        config: {{iterations: {jobs}, max_retries: 0}}
        workloads:
          - {{id: wk, name: command, label: nap, params: {{command: "{command}"}}}}
        """)


def job_results(directory: Path) -> list[dict[str, Any]]:
    """Each job directory's result.json (not __failed), with its directory name."""
    found = []
    for path in sorted(directory.glob("*/result.json")):
        if not path.parent.name.startswith("__"):
            found.append({"name": path.parent.name, **json.loads(path.read_text())})
    return found


LAB = "devices:\n  a: {kind: local}\n  b: {kind: local}\n  c: {kind: local}\n"


def job_spans(results: list[dict[str, Any]]) -> dict[str, list[tuple[Any, Any]]]:
    """Each device's (start, end) job times, in order, from the jobs' result.json."""
    spans: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    for result in results:
        metadata = result["metadata"]
        spans[metadata["device"]].append((decode_time(metadata["start_time"]),
                                          decode_time(metadata["end_time"])))
    for intervals in spans.values():
        intervals.sort()
    return spans


def check_one_job_at_a_time(results: list[dict[str, Any]]) -> dict[str, int]:
    """No device ran two jobs at once; returns how many jobs each device ran."""
    spans = job_spans(results)
    for device, intervals in spans.items():
        for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
            assert end <= start, f"device {device} ran two jobs at once"
    return {device: len(intervals) for device, intervals in spans.items()}


def check_state_lists_every_job_once(directory: Path, count: int) -> list[dict[str, Any]]:
    jobs = json.loads((directory / ".run_state.json").read_text())["jobs"]
    keys = Counter((job["id"], job["iteration"]) for job in jobs)
    assert len(keys) == count and set(keys.values()) == {1}
    return jobs


@pytest.fixture
def phones(wa_simulated_devices, monkeypatch) -> list[Any]:
    devices = [wa_simulated_devices() for _ in range(3)]
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(devices[0].adb_port))
    return devices


def test_a_pool_of_phones_shares_the_jobs_out(pytester, phones, subtests) -> None:
    agenda(pytester, 12)
    pool = ",".join(f"adb:{phone.serial}" for phone in phones)
    result = run(pytester, "agenda.yaml", "-n", "auto", f"--wa-device={pool}")
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*Ran a total of 12 iterations: 12 OK*"])
    output = pytester.path / "wa_output"
    assert not list(output.glob("gw*"))  # one run, not one per worker
    run_output = RunOutput(output)
    assert run_output.status.name == "OK"
    assert sorted(job.iteration for job in run_output.jobs) == list(range(1, 13))
    per_device = check_one_job_at_a_time(job_results(output))
    assert set(per_device) == {f"adb:{phone.serial}" for phone in phones}
    assert sum(per_device.values()) == 12
    assert len((output / "results.csv").read_text().splitlines()) == 1  # no metrics
    assert len(list((output / "__meta" / "targets").glob("*.json"))) == 3
    check_state_lists_every_job_once(output, 12)
    check_wa3_reads_the_same(subtests, output)  # the merged Android run, with WA3's reader


@pytest.mark.parametrize("dying", [1, 2], ids=["one-phone-dies", "two-phones-die"])
def test_phones_that_die_mid_run_lose_no_job(pytester, phones, dying) -> None:
    agenda(pytester, 15, "sleep 1")
    pool = ",".join(f"adb:{phone.serial}" for phone in phones)
    dead_phones = phones[1:1 + dying]
    output = pytester.path / "wa_output"
    with killing(dead_phones, output):
        result = run(pytester, "agenda.yaml", "-n", "3", f"--wa-device={pool}",
                     "--wa-reboot-policy=never")
    jobs = check_state_lists_every_job_once(output, 15)
    statuses = Counter(job["status"] for job in jobs)
    assert statuses == {"OK(7)": 15 - dying, "FAILED(9)": dying}, result.stdout.str()
    result.assert_outcomes(passed=15 - dying, failed=dying)
    dead = sorted(f"adb:{phone.serial}" for phone in dead_phones)
    failed = [r for r in job_results(output) if r["status"] == "FAILED(9)"]
    assert sorted(r["metadata"]["device"] for r in failed) == dead  # the job each was running
    per_device = check_one_job_at_a_time(job_results(output))
    for device in dead:
        assert per_device[device] < 5  # the others took over its share
        result.stdout.fnmatch_lines([f"*device {device} lost*went to the other devices*"])
    assert RunOutput(output).status.name == "PARTIAL"


@pytest.fixture
def boards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    servers = []
    try:
        for _ in range(3):
            servers.append(SshServer().start())
        yield servers
    finally:
        for server in servers:
            server.close()


def ssh_config(pytester: pytest.Pytester, servers: list[SshServer]) -> None:
    lines = ["devices:"]
    for number, server in enumerate(servers, 1):
        lines.append(f"  board{number}: {{kind: ssh, host: {server.host}, port: {server.port}, "
                     f"username: {server.username}, keyfile: {server.client_key}, "
                     f"known_hosts: {server.known_hosts}}}")
    lines += ["pools:", "  lab: [board1, board2, board3]"]
    pytester.makefile(".yaml", lab="\n".join(lines) + "\n")


def test_a_pool_of_ssh_boards_named_in_the_config_file(pytester, boards, subtests) -> None:
    ssh_config(pytester, boards)
    pytester.makefile(".yaml", agenda="""\
        config: {iterations: 3}
        workloads:
          - id: m
            name: command
            params: {command: "echo speed=7", metrics: {speed: 'speed=(\\d+)'}}
        """)
    result = run(pytester, "agenda.yaml", "-n", "auto", "--wa-config=lab.yaml",
                 "--wa-device=lab")
    result.assert_outcomes(passed=3)
    output = pytester.path / "wa_output"
    per_device = check_one_job_at_a_time(job_results(output))
    assert sum(per_device.values()) == 3 and set(per_device) <= {"board1", "board2", "board3"}
    rows = (output / "results.csv").read_text().splitlines()
    assert sorted(rows[1:]) == [f"m,command,{n},speed,7," for n in (1, 2, 3)]
    assert RunOutput(output).job("m", 2).metric("speed").value == 7
    check_wa3_reads_the_same(subtests, output)


def test_pool_usage_errors(pytester) -> None:
    agenda(pytester, 2)
    pytester.makefile(".yaml", lab="""\
        devices:
          a: {kind: local}
          b: {kind: local}
        pools:
          good: [a, b]
          bad: [a,
                nope]
        """)
    result = run(pytester, "agenda.yaml", "--wa-config=lab.yaml", "--wa-device=a,b")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--wa-device a,b is a pool of 2 devices: add -n 2 or -n auto*"])
    result = run(pytester, "agenda.yaml", "--wa-config=lab.yaml", "--wa-device=a,b", "-n", "3")
    result.stderr.fnmatch_lines(["*-n 3 starts more workers than the 2 devices*"])
    result = run(pytester, "agenda.yaml", "--wa-config=lab.yaml", "--wa-device=bad", "-n", "2")
    result.stderr.fnmatch_lines(["*lab.yaml:7: pools.bad: unknown device 'nope'*"])
    assert not (pytester.path / "wa_output").exists()


def test_a_pool_of_local_devices_and_a_plain_suite_beside_it(pytester) -> None:
    agenda(pytester, 4, "true")
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    pytester.makefile(".yaml", lab=LAB)
    result = run(pytester, "test_plain.py", "-n", "auto", "--wa-config=lab.yaml",
                 "--wa-device=a,b")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "wa_output").exists()
    result = run(pytester, "-n", "auto", "--wa-config=lab.yaml", "--wa-device=a,b")
    result.assert_outcomes(passed=5)
    assert {r["metadata"]["device"] for r in job_results(pytester.path / "wa_output")} <= {"a",
                                                                                         "b"}


def test_matrix_runs_every_job_on_each_phone(pytester, phones) -> None:
    agenda(pytester, 2)
    pool = ",".join(f"adb:{phone.serial}" for phone in phones)
    result = run(pytester, "agenda.yaml", "-n", "auto", f"--wa-device={pool}", "--wa-matrix",
                 "-v")
    result.assert_outcomes(passed=6)
    output = pytester.path / "wa_output"
    for phone in phones:
        slug = f"adb_{phone.serial.replace(':', '_')}"
        for iteration in (1, 2):
            # the id names the device; the job ran on that device, on one worker
            item = f"agenda.yaml::wk-nap[[]{slug}-{iteration}[]]"
            result.stdout.fnmatch_lines([f"[[]gw*[]] *OK {item}*"])
            job = json.loads((output / f"{slug}.wk-nap-{iteration}" / "result.json").read_text())
            assert job["metadata"]["device"] == f"adb:{phone.serial}"
        workers = {line.split("]")[0] for line in result.stdout.lines
                   if line.startswith("[gw") and f"[{slug}-" in line}
        assert len(workers) == 1
    check_one_job_at_a_time(job_results(output))
    check_state_lists_every_job_once(output, 6)


def kill_once_it_ran_a_job(phone: Any, output: Path, done: threading.Event) -> None:
    """Kill ``phone`` a moment into its second job: once one of its jobs has ended OK
    (a timer would miss on a loaded machine, where starting the pool takes longer)."""
    device = f"adb:{phone.serial}"
    while not done.wait(0.1):
        for path in output.glob("*/result.json"):
            with contextlib.suppress(OSError, ValueError, KeyError):
                job = json.loads(path.read_text())
                if job["status"].startswith("OK") and job["metadata"]["device"] == device:
                    time.sleep(0.3)
                    phone.kill()
                    return


@contextlib.contextmanager
def killing(phones: list[Any], output: Path) -> Iterator[None]:
    """Each of ``phones`` dies once it ran a job, while the block runs."""
    done = threading.Event()
    killers = [threading.Thread(target=kill_once_it_ran_a_job, args=(phone, output, done))
               for phone in phones]
    for killer in killers:
        killer.start()
    try:
        yield
    finally:
        done.set()
        for killer in killers:
            killer.join()


def test_a_phone_that_dies_in_a_matrix_skips_only_its_own_jobs(pytester, phones) -> None:
    agenda(pytester, 5, "sleep 1")
    pool = ",".join(f"adb:{phone.serial}" for phone in phones)
    output = pytester.path / "wa_output"
    slugs = [f"adb_{phone.serial.replace(':', '_')}" for phone in phones]
    with killing(phones[:1], output):
        result = run(pytester, "agenda.yaml", "-n", "auto", f"--wa-device={pool}",
                     "--wa-matrix", "--wa-reboot-policy=never")
    jobs = check_state_lists_every_job_once(output, 15)
    by_device: dict[str, Counter[str]] = defaultdict(Counter)
    for job in jobs:  # output ids are <device>.<job id>
        device = next(slug for slug in slugs if job["id"].startswith(f"{slug}."))
        by_device[device][job["status"]] += 1
    dead = slugs[0]
    for slug in slugs[1:]:  # the other phones ran all of their own jobs
        assert by_device[slug] == {"OK(7)": 5}
    lost = by_device[dead]
    assert lost["FAILED(9)"] == 1 and lost["OK(7)"] >= 1, lost
    assert lost["OK(7)"] + lost["FAILED(9)"] + lost["SKIPPED(11)"] == 5, lost
    assert RunOutput(output).status.name == "PARTIAL", result.stdout.str()


def test_matrix_needs_a_pool(pytester) -> None:
    agenda(pytester, 1)
    result = run(pytester, "agenda.yaml", "--wa-matrix", "-n", "1")
    result.stderr.fnmatch_lines(["*--wa-matrix needs a pool*"])


@pytest.mark.parametrize("slow_worker", [False, True], ids=["together", "other-still-starting"])
def test_a_crashed_worker_fails_its_job_and_the_rest_run(pytester, slow_worker) -> None:
    """Also when the crash comes before the other worker is even ready (it reports
    ready at session start): the jobs left wait for it and the crashed one's replacement."""
    agenda(pytester, 6, "true")
    pytester.makeconftest(f"""
        import os, time

        def pytest_wa_job_start(job):
            if job.iteration == 3:
                os._exit(3)

        def pytest_configure(config):
            if {slow_worker} and os.environ.get("PYTEST_XDIST_WORKER") == "gw1":
                time.sleep(1.5)
    """)
    pytester.makefile(".yaml", lab=LAB)
    result = run(pytester, "agenda.yaml", "-n", "2", "--wa-config=lab.yaml", "--wa-device=a,b")
    result.assert_outcomes(passed=5, failed=1)
    output = pytester.path / "wa_output"
    jobs = check_state_lists_every_job_once(output, 6)
    assert {job["iteration"]: job["status"] for job in jobs}[3] == "FAILED(9)"
    crashed = RunOutput(output).job("wk", 3)
    assert crashed.status.name == "FAILED"
    assert "worker crashed: worker 'gw" in crashed.events[-1].message


def test_fewer_jobs_than_devices_run_side_by_side(pytester) -> None:
    """Two jobs on three devices: dealt one each, not both to the first worker ready."""
    agenda(pytester, 2, "sleep 1")
    pytester.makefile(".yaml", lab=LAB)
    result = run(pytester, "agenda.yaml", "-n", "3", "--wa-config=lab.yaml", "--wa-device=a,b,c")
    result.assert_outcomes(passed=2)
    spans = job_spans(job_results(pytester.path / "wa_output"))
    assert len(spans) == 2, spans  # two devices, one job each
    (first,), (second,) = spans.values()
    assert first[0] < second[1] and second[0] < first[1]  # at the same time


def test_a_worker_starts_jobs_before_the_others_have_collected(pytester) -> None:
    """With jobs enough for everyone, a worker does not wait for a slow one's collection;
    the slow one still gets a share when it is ready."""
    agenda(pytester, 30, "sleep 0.2")
    pytester.makefile(".yaml", lab=LAB)
    pytester.makeconftest("""
        import os, time
        from pathlib import Path

        import pytest

        @pytest.hookimpl(tryfirst=True)  # before xdist sends the collection to the controller
        def pytest_collection_finish(session):
            if os.environ.get("PYTEST_XDIST_WORKER") == "gw2":
                time.sleep(1.5)
                Path("gw2-collected").write_text(repr(time.time()))
    """)
    result = run(pytester, "agenda.yaml", "-n", "3", "--wa-config=lab.yaml", "--wa-device=a,b,c")
    result.assert_outcomes(passed=30)
    results = job_results(pytester.path / "wa_output")
    spans = job_spans(results)
    slow_collected = float((pytester.path / "gw2-collected").read_text())
    first_start = min(start for intervals in spans.values() for start, _ in intervals)
    assert first_start.timestamp() < slow_collected
    assert len(check_one_job_at_a_time(results)) == 3  # the slow worker got a share too


def test_workers_that_collect_different_jobs_stop_the_run(pytester) -> None:
    """gw1 drops a job; the others wait until it has collected, so whichever comes first,
    the difference is seen while most jobs are still to be handed out."""
    agenda(pytester, 12, "sleep 0.3")
    pytester.makefile(".yaml", lab=LAB)
    pytester.makeconftest("""
        import os, time
        from pathlib import Path

        import pytest

        def pytest_collection_modifyitems(items):
            if os.environ.get("PYTEST_XDIST_WORKER") == "gw1":
                del items[-1]

        @pytest.hookimpl(tryfirst=True)  # before xdist sends the collection to the controller
        def pytest_collection_finish(session):
            marker = Path("gw1-collected")
            if os.environ.get("PYTEST_XDIST_WORKER") == "gw1":
                marker.touch()
            deadline = time.monotonic() + 30
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
    """)
    result = run(pytester, "agenda.yaml", "-n", "3", "--wa-config=lab.yaml", "--wa-device=a,b,c")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*Different tests were collected between gw*"])
    jobs = json.loads((pytester.path / "wa_output" / ".run_state.json").read_text())["jobs"]
    keys = Counter((job["id"], job["iteration"]) for job in jobs)
    assert len(keys) in (11, 12) and set(keys.values()) == {1}  # the first collection's plan
    ran = [job for job in jobs if job["status"] == "OK(7)"]
    assert len(ran) <= 3 * 3  # what the workers held then (HOLD each), nothing more
    assert {job["status"] for job in jobs if job not in ran} == {"SKIPPED(11)"}


def test_a_pool_run_resumes_what_did_not_finish(pytester, subtests) -> None:
    """--wa-resume with -n: only the jobs that did not finish OK run again, into the
    same run; earlier attempts are kept and numbered on, nothing is merged twice."""
    pytester.makefile(".yaml", agenda="""\
        config: {iterations: 6, max_retries: 0}
        workloads:
          - id: m
            name: command
            params: {command: "echo speed=7", metrics: {speed: 'speed=(\\d+)'}}
        """)
    pytester.makefile(".yaml", lab=LAB)
    pytester.makeconftest("""
        from pathlib import Path

        def pytest_wa_job_execute(job):
            if job.iteration in (2, 5) and not Path("fixed").exists():
                raise RuntimeError("the rig was not ready")
    """)
    pool = ("-n", "2", "--wa-config=lab.yaml", "--wa-device=a,b")
    first = run(pytester, "agenda.yaml", *pool)
    first.assert_outcomes(passed=4, failed=2)
    output = pytester.path / "wa_output"
    uuid = RunOutput(output).run_info.uuid
    (pytester.path / "fixed").touch()

    result = run(pytester, "agenda.yaml", *pool, "--wa-resume=wa_output")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*resuming the run in*wa_output*"])
    jobs = check_state_lists_every_job_once(output, 6)
    assert {job["iteration"]: (job["status"], job["retries"]) for job in jobs} == {
        1: ("OK(7)", 0), 2: ("OK(7)", 1), 3: ("OK(7)", 0), 4: ("OK(7)", 0), 5: ("OK(7)", 1),
        6: ("OK(7)", 0)}
    run_output = RunOutput(output)
    assert run_output.status.name == "OK" and run_output.run_info.uuid == uuid
    assert sorted(path.name for path in (output / "__failed").iterdir()) == [
        "m-command-2-attempt01", "m-command-5-attempt01"]
    rows = (output / "results.csv").read_text().splitlines()
    assert set(rows[1:]) == {f"m,command,{n},speed,7," for n in range(1, 7)}
    artifacts = [artifact.name for artifact in run_output.artifacts]
    assert len(artifacts) == len(set(artifacts)), artifacts  # worker logs listed once
    assert [e.message for e in run_output.events].count("run resumed") == 1
    check_wa3_reads_the_same(subtests, output)

    again = run(pytester, "agenda.yaml", *pool, "--wa-resume=wa_output")
    assert again.ret == pytest.ExitCode.NO_TESTS_COLLECTED  # nothing left to run
    assert RunOutput(output).status.name == "OK"


def test_ctrl_c_on_a_pool_run_keeps_every_finished_job_and_resume_runs_the_rest(
        pytester) -> None:
    """Ctrl-C reaches the controller and every worker (one process group, as from a
    terminal): finished jobs stay OK on disk, the ones running are ABORTED, the rest
    SKIPPED, the run is closed; --wa-resume then runs what is left."""
    agenda(pytester, 12, "sleep 0.3")
    pytester.makefile(".yaml", lab=LAB)
    pytester.makeconftest("""
        from pathlib import Path

        import pytest

        @pytest.hookimpl(wrapper=True)
        def pytest_wa_job_output(job):
            yield  # the job's results are on disk: it has finished
            Path(f"ended-{job.iteration}").touch()
    """)
    pool = ["-n", "2", "--wa-config=lab.yaml", "--wa-device=a,b"]
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly",
         "agenda.yaml", *pool], cwd=pytester.path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list(pytester.path.glob("ended-*"))) < 4:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    text, _ = process.communicate(timeout=60)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, text
    output = pytester.path / "wa_output"
    jobs = check_state_lists_every_job_once(output, 12)
    statuses = Counter(job["status"] for job in jobs)
    assert statuses["OK(7)"] >= 4 and "NEW(1)" not in statuses, statuses
    assert set(statuses) <= {"OK(7)", "ABORTED(10)", "SKIPPED(11)"}, statuses
    for result in job_results(output):
        if result["status"] == "OK(7)":
            assert result["metadata"]["device"] in {"a", "b"}
    assert (output / "status.txt").is_file()
    assert "run interrupted" in [e.message for e in RunOutput(output).events]

    result = run(pytester, "agenda.yaml", *pool, "--wa-resume=wa_output")
    result.assert_outcomes(passed=12 - statuses["OK(7)"])
    assert Counter(job["status"] for job in
                   check_state_lists_every_job_once(output, 12)) == {"OK(7)": 12}
    assert RunOutput(output).status.name == "OK"


@pytest.fixture
def unreachable() -> Iterator[list[str]]:
    """Two SSH boards that refuse every connection: ports bound here, never listening."""
    with socket.socket() as first, socket.socket() as second:
        for sock in (first, second):
            sock.bind(("127.0.0.1", 0))
        yield [f"ssh://nobody@127.0.0.1:{sock.getsockname()[1]}" for sock in (first, second)]


@pytest.mark.parametrize("slow", ["dead", "alive"],
                         ids=["others-collect-first", "dead-one-leaves-first"])
def test_a_device_that_cannot_be_had_gets_no_job(pytester, unreachable, slow) -> None:
    """Fewer jobs than three per device (dealt once, all workers awaited): the worker
    whose device cannot be had leaves at collection and is counted out, whether its
    leaving or the others' collections come last, so every job runs on the others."""
    agenda(pytester, 3, "sleep 0.5")
    pytester.makefile(".yaml", lab=LAB)
    dead = unreachable[0]
    pytester.makeconftest(f"""
        import time

        def pytest_wa_make_target(config, device):
            if (device == {dead!r}) == ({slow!r} == "dead"):
                time.sleep(1.5)
    """)
    result = run(pytester, "agenda.yaml", "-n", "3", "--wa-config=lab.yaml",
                 f"--wa-device=a,{dead},b")
    result.assert_outcomes(passed=3)
    output = pytester.path / "wa_output"
    jobs = check_state_lists_every_job_once(output, 3)
    assert {job["status"] for job in jobs} == {"OK(7)"}
    assert set(check_one_job_at_a_time(job_results(output))) == {"a", "b"}
    result.stdout.fnmatch_lines([f"*device {dead} lost (cannot use device*"])
    assert (output / "__workers" / "gw1.lost").read_text().startswith("cannot use device")
    assert RunOutput(output).status.name == "OK"


def test_a_pool_whose_devices_cannot_be_had_skips_every_job_and_fails(pytester,
                                                                      unreachable) -> None:
    """No worker reaches the run directory: the controller prepares it, records the
    losses and the plan, and --wa-resume later runs the jobs on devices that work."""
    agenda(pytester, 3, "true")
    result = run(pytester, "agenda.yaml", "-n", "2", f"--wa-device={','.join(unreachable)}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stdout.fnmatch_lines(["*no device of the pool is left: 3 job(s) did not run*"])
    output = pytester.path / "wa_output"
    jobs = check_state_lists_every_job_once(output, 3)
    assert {job["status"] for job in jobs} == {"SKIPPED(11)"}
    assert not job_results(output)
    assert sorted(path.name for path in (output / "__workers").glob("*.lost")) == [
        "gw0.lost", "gw1.lost"]
    assert RunOutput(output).status.name == "FAILED"

    pytester.makefile(".yaml", lab=LAB)
    again = run(pytester, "agenda.yaml", "-n", "2", "--wa-config=lab.yaml", "--wa-device=a,b",
                "--wa-resume=wa_output")
    again.assert_outcomes(passed=3)
    assert RunOutput(output).status.name == "OK"


def test_results_csv_of_a_pool_run_lists_each_jobs_final_attempt_once(pytester) -> None:
    """A retry in the pool, then --wa-resume: every job's rows once, its last attempt's."""
    pytester.makefile(".yaml", agenda=ATTEMPTS_AGENDA, lab=LAB)
    pytester.makeconftest(ATTEMPTS_CONFTEST.format(tries=str(pytester.path)))
    pool = ("-n", "2", "--wa-config=lab.yaml", "--wa-device=a,b")
    run(pytester, "agenda.yaml", *pool).assert_outcomes(passed=2, failed=1)
    output = pytester.path / "wa_output"
    assert sorted(csv_job_rows(output)) == [("m", 1, 1), ("m", 2, 2), ("m", 3, 2)]
    (pytester.path / "fixed").touch()
    run(pytester, "agenda.yaml", *pool, "--wa-resume=wa_output").assert_outcomes(passed=1)
    assert sorted(csv_job_rows(output)) == [("m", 1, 1), ("m", 2, 2), ("m", 3, 3)]
    run_output = RunOutput(output)
    assert [job.metric("attempt").value for job in run_output.jobs] == [1, 2, 3]
    assert len(csv_run_rows(output)) == len(run_output.metrics)
