"""WA3's own reader loads every run we write and sees what our reader sees.

Real agendas run through the plugin; the output directory is then loaded by
``pytest_wa.RunOutput`` (always checked) and by WA3 3.3.1's ``wa.RunOutput``
(``$WA3_PYTHON tests/wa3_read.py DIR``, a subtest), and the two must agree on
the run status and on every job's status, retries, metrics, artifacts and
events. NONCRITICAL is written ``NONCRITICAL(7)`` on purpose: WA3 reads it as OK.

The WA3 subtest is skipped unless WA3_PYTHON is a python that can import
``wa`` (.ci/run makes one); with CI=true it fails instead of skipping.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import pytest_wa

WA3_READ = Path(__file__).with_name("wa3_read.py")
HOW_TO_ENABLE = "set WA3_PYTHON to a venv with wlauto==3.3.1; .ci/run does"

# Workloads for the statuses pytest-wa reaches through a workload's own code,
# one that leaves a file and a directory artifact, and run-level results.
CONFTEST = """
    import pytest_wa
    from pytest_wa import Parameter, Workload


    class Staged(Workload):
        name = "staged"
        parameters = (Parameter("fail_in", str, default=""),
                      Parameter("interrupt", bool, default=False))

        def _stage(self, stage):
            if stage == self.fail_in:
                raise pytest_wa.WorkloadError(f"{stage} broke on purpose")

        def setup(self, context): self._stage("setup")
        def run(self, context):
            if self.interrupt:
                raise KeyboardInterrupt
        def extract_results(self, context): context.add_metric("answer", 42)
        def teardown(self, context): self._stage("teardown")


    class Files(Workload):
        name = "files"

        def run(self, context):
            (context.output_directory / "trace.txt").write_text("trace\\n")
            (context.output_directory / "logs").mkdir()
            (context.output_directory / "logs" / "a.log").write_text("a\\n")

        def extract_results(self, context):
            context.add_metric("score", 12.5, "points", lower_is_better=True,
                               classifiers={"sub": "a"})
            context.add_metric("count", 3)
            context.add_artifact("trace", "trace.txt", "raw", "A file artifact",
                                 classifiers={"origin": "files"})
            context.add_artifact("logs", "logs", "log", "A directory artifact",
                                 classifiers={"origin": "files", "n": 1})


    def pytest_wa_register_workloads(registry):
        registry.add(Staged)
        registry.add(Files)


    def pytest_wa_run_end(run):
        (run.output.directory / "summary.txt").write_text("summary\\n")
        run.add_metric("total", 99.5, "points", classifiers={"scope": "run"})
        run.add_artifact("summary", "summary.txt", "export", "A run-level file",
                         classifiers={"scope": "run"})
        run.add_event("run-level note")
"""


# --- what each reader sees ------------------------------------------------------

def our_view(output: Path) -> dict[str, Any]:
    """Our reader's view of a run, in tests/wa3_read.py's shape (statuses by NAME)."""
    run = pytest_wa.RunOutput(output)

    def results(part: Any) -> dict[str, Any]:
        return {"metrics": [dataclasses.asdict(m) for m in part.metrics],
                "artifacts": [dataclasses.asdict(a) for a in part.artifacts],
                "events": [e.message for e in part.events]}

    jobs = [{"id": j.id, "label": j.label, "iteration": j.iteration, "status": j.status.name,
             "retries": j.retries, **results(j)} for j in run.jobs]
    return {"status": run.status.name, **results(run), "jobs": jobs}


def statuses(view: dict[str, Any]) -> dict[tuple[str, int], str]:
    return {(job["id"], job["iteration"]): job["status"] for job in view["jobs"]}


def job(view: dict[str, Any], job_id: str, iteration: int = 1) -> dict[str, Any]:
    return next(j for j in view["jobs"] if (j["id"], j["iteration"]) == (job_id, iteration))


@functools.cache
def wa3_python() -> tuple[str | None, str]:
    """($WA3_PYTHON, "") if it can import wa, else (None, why not)."""
    python = os.environ.get("WA3_PYTHON")
    if not python:
        return None, f"WA3_PYTHON is not set: {HOW_TO_ENABLE}"
    with tempfile.TemporaryDirectory() as user_directory:
        try:
            check = subprocess.run([python, "-c", "import wa"], capture_output=True, text=True,
                                   env={**os.environ, "WA_USER_DIRECTORY": user_directory},
                                   timeout=120)
        except OSError as error:
            return None, f"WA3_PYTHON={python}: {error}; {HOW_TO_ENABLE}"
    if check.returncode:
        last = (check.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"WA3_PYTHON={python} cannot import wa ({last}); {HOW_TO_ENABLE}"
    return python, ""


def wa3_view(output: Path) -> dict[str, Any]:
    """What WA3's RunOutput sees; skips without WA3 (fails with CI=true)."""
    python, why_not = wa3_python()
    if python is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true, but WA3's reader is not available: {why_not}")
        pytest.skip(why_not)
    read = subprocess.run([python, str(WA3_READ), str(output)], capture_output=True,
                          text=True, timeout=300)
    failed = read.returncode != 0
    assert not failed, f"WA3 could not read {output} cleanly:\n{read.stdout}{read.stderr}"
    seen = json.loads(read.stdout)
    del seen["warnings"], seen["problems"]  # empty, or the exit status was 1
    return seen


def differences(ours: Any, wa3: Any, where: str = "") -> list[str]:
    """Every place where the two views differ, as 'where: ours X, WA3 Y'."""
    if isinstance(ours, dict) and isinstance(wa3, dict):
        return [line for key in {**ours, **wa3}
                for line in differences(ours.get(key, "<absent>"), wa3.get(key, "<absent>"),
                                        f"{where}.{key}")]
    if isinstance(ours, list) and isinstance(wa3, list) and len(ours) == len(wa3):
        return [line for index, (a, b) in enumerate(zip(ours, wa3, strict=True))
                for line in differences(a, b, f"{where}[{index}]")]
    return [] if ours == wa3 else [f"{where or '.'}: ours {ours!r}, WA3 {wa3!r}"]


def as_wa3_reads(view: dict[str, Any]) -> dict[str, Any]:
    """Our view as WA3 must see it: NONCRITICAL(7) is OK to WA3; JSON types."""
    expected = json.loads(json.dumps(view))
    for part in (expected, *expected["jobs"]):
        if part["status"] == "NONCRITICAL":
            part["status"] = "OK"
    return expected


def check_wa3_reads_the_same(subtests: pytest.Subtests, output: Path) -> None:
    """The WA3 half of a test, as a subtest: our reader's checks never depend on it."""
    expected = as_wa3_reads(our_view(output))
    with subtests.test("WA3's RunOutput sees the same run"):
        found = differences(expected, wa3_view(output))
        assert not found, "our reader and WA3's differ:\n" + "\n".join(found)


def agenda(pytester: pytest.Pytester, text: str) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", agenda=textwrap.dedent(text))


# --- runs --------------------------------------------------------------------

def test_every_final_status(pytester: pytest.Pytester, subtests: pytest.Subtests) -> None:
    agenda(pytester, """
        config: {max_retries: 0}
        workloads:
          - id: ok
            name: command
            iterations: 2
            params: {command: "echo speed=12", metrics: {speed: 'speed=(\\d+)'}}
          - id: fail
            name: command
            params: {command: "exit 1"}
          - id: part
            name: command
            params:
              command: "echo speed=3"
              metrics: {speed: 'speed=(\\d+)', latency: 'latency=(\\d+)'}
          - id: nosetup
            name: staged
            iterations: 2
            params: {fail_in: setup}
          - id: noteardown
            name: staged
            params: {fail_in: teardown}
    """)
    pytester.runpytest().assert_outcomes(passed=3, failed=2, errors=1, skipped=1, warnings=1)
    output = pytester.path / "wa_output"

    view = our_view(output)
    assert statuses(view) == {
        ("ok", 1): "OK", ("fail", 1): "FAILED", ("part", 1): "PARTIAL",
        ("nosetup", 1): "FAILED", ("noteardown", 1): "NONCRITICAL", ("ok", 2): "OK",
        ("nosetup", 2): "SKIPPED"}
    assert view["status"] == "PARTIAL"
    assert all(j["retries"] == 0 for j in view["jobs"])
    assert job(view, "part")["metrics"][0]["value"] == 3  # what was found is kept
    assert job(view, "fail")["events"] == [
        "execute failed: WorkloadError: command exited with code 1: exit 1"]
    assert job(view, "nosetup", 2)["events"][0].startswith("skipped: an earlier iteration")
    assert '"status": "NONCRITICAL(7)"' in \
        (output / "noteardown-staged-1" / "result.json").read_text()

    check_wa3_reads_the_same(subtests, output)


def test_metrics_artifacts_and_run_level_results(pytester: pytest.Pytester,
                                                 subtests: pytest.Subtests) -> None:
    agenda(pytester, """
        workloads:
          - id: cmd
            name: command
            classifiers: {board: juno}
            params:
              command: "echo speed=12 latency=0.25"
              metrics:
                speed: {regex: 'speed=(\\d+)', units: MB/s}
                latency: {regex: 'latency=([0-9.]+)', units: µs, lower_is_better: true}
          - id: files
            name: files
            classifiers: {board: juno, cpu: big}
    """)
    pytester.runpytest().assert_outcomes(passed=2)
    output = pytester.path / "wa_output"

    view = our_view(output)
    assert job(view, "cmd")["metrics"] == [
        {"name": "speed", "value": 12, "units": "MB/s", "lower_is_better": False,
         "classifiers": {"board": "juno"}},
        {"name": "latency", "value": 0.25, "units": "µs", "lower_is_better": True,
         "classifiers": {"board": "juno"}}]
    files = job(view, "files")
    assert files["metrics"] == [
        {"name": "score", "value": 12.5, "units": "points", "lower_is_better": True,
         "classifiers": {"board": "juno", "cpu": "big", "sub": "a"}},
        {"name": "count", "value": 3, "units": None, "lower_is_better": False,
         "classifiers": {"board": "juno", "cpu": "big"}}]
    assert files["artifacts"] == [
        {"name": "trace", "path": "trace.txt", "kind": "raw", "description": "A file artifact",
         "classifiers": {"origin": "files"}, "is_dir": False},
        {"name": "logs", "path": "logs", "kind": "log", "description": "A directory artifact",
         "classifiers": {"origin": "files", "n": 1}, "is_dir": True}]
    assert view["metrics"] == [{"name": "total", "value": 99.5, "units": "points",
                                "lower_is_better": False, "classifiers": {"scope": "run"}}]
    assert [a["name"] for a in view["artifacts"]] == ["runlog", "run_result_csv", "summary",
                                                      "statistics"]
    assert view["artifacts"][2]["description"] == "A run-level file"
    assert view["events"] == ["run-level note"]

    check_wa3_reads_the_same(subtests, output)


def test_ctrl_c_aborts_the_job_and_skips_the_rest(pytester: pytest.Pytester,
                                                  subtests: pytest.Subtests) -> None:
    agenda(pytester, """
        workloads:
          - id: before
            name: command
            params: {command: "echo speed=7", metrics: {speed: 'speed=(\\d+)'}}
          - id: stop
            name: staged
            params: {interrupt: true}
          - id: after
            name: command
            iterations: 2
            params: {command: "true"}
    """)
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    output = pytester.path / "wa_output"

    view = our_view(output)
    assert statuses(view) == {("before", 1): "OK", ("stop", 1): "ABORTED",
                              ("after", 1): "SKIPPED", ("after", 2): "SKIPPED"}
    assert view["status"] == "PARTIAL"
    assert job(view, "before")["metrics"][0]["value"] == 7
    assert view["events"] == ["run-level note"]  # run_end hooks run after Ctrl-C too

    check_wa3_reads_the_same(subtests, output)


def test_sigkill_mid_run_keeps_the_finished_jobs(pytester: pytest.Pytester,
                                                 subtests: pytest.Subtests) -> None:
    started = pytester.path / "slow-started"
    agenda(pytester, f"""
        workloads:
          - id: quick
            name: command
            params: {{command: "echo speed=5", metrics: {{speed: 'speed=(\\d+)'}}}}
          - id: quick2
            name: command
            params: {{command: "echo speed=6", metrics: {{speed: 'speed=(\\d+)'}}}}
          - id: slow
            name: command
            params: {{command: "echo $$ > {started}; exec sleep 60"}}
          - id: never
            name: command
            params: {{command: "true"}}
    """)
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                               cwd=pytester.path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = pytester.path / "wa_output"
    try:
        deadline = time.monotonic() + 60
        while not (started.exists() and started.read_text().strip()):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the slow job never started"
            time.sleep(0.05)
        assert (output / "quick-command-1" / "result.json").is_file()
    finally:
        process.kill()
        process.communicate(timeout=60)
        with contextlib.suppress(ValueError, OSError):  # the command is in its own session
            os.kill(int(started.read_text()), signal.SIGKILL)

    view = our_view(output)
    assert statuses(view) == {("quick", 1): "OK", ("quick2", 1): "OK",
                              ("slow", 1): "RUNNING", ("never", 1): "NEW"}
    assert [job(view, name)["metrics"][0]["value"] for name in ("quick", "quick2")] == [5, 6]
    assert view["status"] == "RUNNING"

    check_wa3_reads_the_same(subtests, output)


def test_resumed_run_has_a_retried_job(pytester: pytest.Pytester,
                                       subtests: pytest.Subtests) -> None:
    text = """
        workloads:
          - id: ok
            name: command
            params: {command: "echo speed=1", metrics: {speed: 'speed=(\\d+)'}}
          - id: flaky
            name: command
            params: {command: "echo speed=2; COMMAND"}
    """
    agenda(pytester, text.replace("COMMAND", "exit 1"))
    pytester.runpytest("--wa-max-retries=1").assert_outcomes(passed=1, failed=1)
    agenda(pytester, text.replace("COMMAND", "true"))
    pytester.runpytest("--wa-resume", "wa_output").assert_outcomes(passed=1, deselected=1)
    output = pytester.path / "wa_output"

    view = our_view(output)
    assert statuses(view) == {("ok", 1): "OK", ("flaky", 1): "OK"}
    assert [j["retries"] for j in view["jobs"]] == [0, 2]  # one retry in the run, one resume
    for attempt in ("01", "02"):
        assert (output / "__failed" / f"flaky-command-1-attempt{attempt}" / "result.json"
                ).is_file()
    assert view["status"] == "OK"

    check_wa3_reads_the_same(subtests, output)
