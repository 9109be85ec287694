"""Reading run directories (pytest_wa.output.reader) and WA3's encodings (pods).

The run directories are built in tmp_path from JSON copied (trimmed) from real
WA3 3.3.1 runs, so these tests need nothing but the standard library. The last
test is a local cross-check against the real reference runs, skipped where
they are absent.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
from pathlib import Path
from typing import Any

import pytest

from pytest_wa.model.errors import WAError
from pytest_wa.model.results import Artifact, Event, Metric
from pytest_wa.model.status import JobStatus
from pytest_wa.output.pods import (
    artifact_from_pod,
    artifact_pod,
    decode_status,
    decode_time,
    encode_status,
    encode_time,
    event_from_pod,
    event_pod,
    metric_from_pod,
    metric_pod,
    result_from_pod,
    result_pod,
)
from pytest_wa.output.reader import JobOutput, RunInfo, RunOutput, RunOutputError, discover

UTC = datetime.timezone.utc

# --- data copied from real WA3 3.3.1 runs (trimmed) ---------------------------

RUN_INFO = {  # run_mixed/__meta/run_info.json
    "_pod_version": 1,
    "_pod_serialization_version": 1,
    "uuid": "c68bc56f-8987-4e5c-8da4-92478e67c4a8",
    "run_name": "ref-mixed",
    "project": "pytestwa-ref",
    "project_stage": {"phase": "stage1"},
    "start_time": "DATET:2026-11-26T15:45:00.054142",
    "end_time": "DATET:2026-11-26T15:45:04.802518",
    "duration": 4.748376,
}

RUN_INFO_AT_CREATION = {
    "_pod_version": 1,
    "_pod_serialization_version": 1,
    "uuid": "94a752c2-d70a-4d7a-896a-b7b33843a7a9",
    "run_name": None,
    "project": None,
    "project_stage": None,
    "start_time": None,
    "end_time": None,
    "duration": None,
}

TARGET_INFO = {  # the minimal Linux TargetInfo WA3 accepts
    "_pod_version": 5,
    "_pod_serialization_version": 5,
    "target": "LocalLinuxTarget",
    "modules": [],
    "abi": "x86_64",
    "cpus": [],
    "os": "linux",
    "os_version": {},
    "system_id": None,
    "hostid": None,
    "hostname": "host",
    "is_rooted": False,
    "kernel_release": "6.1.0-18-amd64",
    "kernel_version": "1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
    "kernel_config": {},
    "sched_features": None,
    "page_size_kb": 4,
}

CONFIG = {  # run_mixed/__meta/config.json, trimmed
    "_pod_version": 1,
    "_pod_serialization_version": 1,
    "settings": {"_pod_version": 1, "_pod_serialization_version": 1,
                 "default_output_directory": "wa_output"},
    "run_config": {"_pod_version": 1, "_pod_serialization_version": 1,
                   "execution_order": "by_iteration", "device": "generic_local",
                   "retry_on_status": ["LEVEL:FAILED:9", "LEVEL:PARTIAL:8"],
                   "max_retries": 1},
}


def spec(job_id: str, label: str, workload: str, iterations: int = 1,
         classifiers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JobSpec shaped like run_mixed/__meta/jobs.json's entries."""
    return {"_pod_version": 1, "_pod_serialization_version": 1, "iterations": iterations,
            "workload_name": workload, "workload_parameters": {"cleanup_assets": True},
            "runtime_parameters": {}, "boot_parameters": {}, "label": label,
            "augmentations": ["execution_time", "csv"], "flash": None,
            "classifiers": classifiers or {}, "id": job_id}


def state_job(job_id: str, label: str, iteration: Any, status: str, retries: int = 0,
              timestamp: str = "DATET:2026-11-26T15:45:01.078773") -> dict[str, Any]:
    """A JobState entry shaped like run_mixed/.run_state.json's."""
    return {"_pod_version": 1, "_pod_serialization_version": 1, "id": job_id,
            "label": label, "iteration": iteration, "status": status, "retries": retries,
            "timestamp": timestamp}


def state(status: str, jobs: Any) -> dict[str, Any]:
    return {"_pod_version": 1, "_pod_serialization_version": 1, "status": status,
            "timestamp": "DATET:2026-11-26T15:44:59.311871", "jobs": jobs}


RESULT_NEW = {  # what WA3 writes at creation / job start
    "_pod_version": 1,
    "_pod_serialization_version": 1,
    "status": "NEW(1)",
    "metrics": [],
    "artifacts": [],
    "events": [],
    "classifiers": {},
    "metadata": {},
}

RESULT_RUN = {  # run_mixed/result.json, events trimmed
    "_pod_version": 1,
    "_pod_serialization_version": 1,
    "status": "PARTIAL(8)",
    "metrics": [
        {"_pod_version": 1, "_pod_serialization_version": 1, "name": "ref_run_metric",
         "value": 7, "units": "widgets", "lower_is_better": False,
         "classifiers": {"scope": "run", "run_cls": "rc1"}},
    ],
    "artifacts": [
        {"_pod_version": 2, "_pod_serialization_version": 2, "name": "runlog",
         "path": "run.log", "kind": "log", "description": "Run log.",
         "classifiers": {"run_cls": "rc1"}, "is_dir": False},
        {"_pod_version": 2, "_pod_serialization_version": 2, "name": "run_result_csv",
         "path": "results.csv", "kind": "export", "description": None, "classifiers": {},
         "is_dir": False},
    ],
    "events": [
        {"_pod_version": 1, "_pod_serialization_version": 1,
         "timestamp": "DATET:2026-11-26T15:45:00.056331",
         "message": "deliberate initialize failure"},
        {"_pod_version": 1, "_pod_serialization_version": 1,
         "timestamp": "DATET:2026-11-26T15:45:01.311520",
         "message": "Job fail1 iteration 1 completed with status FAILED. retrying..."},
    ],
    "classifiers": {"run_cls": "rc1"},
    "metadata": {"versions": {"wa": "3.3.1", "devlib": "1.3.4"}},
}

RESULT_OK = {  # run_mixed/sh1-okscript-1/result.json
    "_pod_version": 1,
    "_pod_serialization_version": 1,
    "status": "OK(7)",
    "metrics": [
        {"_pod_version": 1, "_pod_serialization_version": 1, "name": "ref_score",
         "value": 12.5, "units": "points", "lower_is_better": True,
         "classifiers": {"kind": "shell", "sub": "a"}},
        {"_pod_version": 1, "_pod_serialization_version": 1, "name": "ref_count",
         "value": 3, "units": None, "lower_is_better": False,
         "classifiers": {"kind": "shell"}},
        {"_pod_version": 1, "_pod_serialization_version": 1, "name": "execution_time",
         "value": 0.009104013442993164, "units": "seconds", "lower_is_better": False,
         "classifiers": {"kind": "shell"}},
    ],
    "artifacts": [
        {"_pod_version": 2, "_pod_serialization_version": 2, "name": "ref_file",
         "path": "ref_artifact.txt", "kind": "data",
         "description": "An example file artifact", "classifiers": {"origin": "refinst"},
         "is_dir": False},
        {"_pod_version": 2, "_pod_serialization_version": 2, "name": "ref_dir",
         "path": "ref_dir", "kind": "log", "description": None, "classifiers": {},
         "is_dir": True},
    ],
    "events": [],
    "classifiers": {"kind": "shell"},
    "metadata": {},
}

RESULT_FAILED = {  # run_mixed/fail1-failscript-1/result.json
    "_pod_version": 1,
    "_pod_serialization_version": 1,
    "status": "FAILED(9)",
    "metrics": [],
    "artifacts": [],
    "events": [
        {"_pod_version": 1, "_pod_serialization_version": 1,
         "timestamp": "DATET:2026-11-26T15:45:01.341468",
         "message": "Command 'sh /tmp/devlib-target/fail.sh ' returned non-zero exit "
                    "status 3.\nSTDOUT: \nSTDERR: about to fail"},
    ],
    "classifiers": {},
    "metadata": {},
}

RESULT_PARTIAL = {  # run_mixed/part1-partial-1/result.json, trimmed
    "_pod_version": 1,
    "_pod_serialization_version": 1,
    "status": "PARTIAL(8)",
    "metrics": [
        {"_pod_version": 1, "_pod_serialization_version": 1, "name": "execution_time",
         "value": 1.0128459930419922, "units": "seconds", "lower_is_better": False,
         "classifiers": {}},
    ],
    "artifacts": [],
    "events": [
        {"_pod_version": 1, "_pod_serialization_version": 1,
         "timestamp": "DATET:2026-11-26T15:45:03.738097",
         "message": "Error in instrument partialinst"},
        {"_pod_version": 1, "_pod_serialization_version": 1,
         "timestamp": "DATET:2026-11-26T15:45:03.738883",
         "message": "RuntimeError(deliberate instrument failure)"},
    ],
    "classifiers": {},
    "metadata": {},
}

RESULT_ABORTED = {  # run_aborted/idle1-idle-1/result.json
    "_pod_version": 1,
    "_pod_serialization_version": 1,
    "status": "ABORTED(10)",
    "metrics": [
        {"_pod_version": 1, "_pod_serialization_version": 1, "name": "execution_time",
         "value": 1.354579210281372, "units": "seconds", "lower_is_better": False,
         "classifiers": {}},
    ],
    "artifacts": [],
    "events": [],
    "classifiers": {},
    "metadata": {},
}


def with_status(result: dict[str, Any], status: str) -> dict[str, Any]:
    changed = copy.deepcopy(result)
    changed["status"] = status
    return changed


# --- building run directories -------------------------------------------------

def dump(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value if isinstance(value, str) else json.dumps(value, indent=4))


def make_run(root: Path, *, run_state: Any, result: Any = RESULT_RUN,
             run_info: Any = RUN_INFO, specs: list[dict[str, Any]] | None = None,
             jobs: dict[str, Any] | None = None, failed: dict[str, Any] | None = None,
             config: Any = CONFIG, target_info: Any = TARGET_INFO) -> Path:
    """A run directory; ``jobs``/``failed`` map a directory name to its result.json."""
    dump(root / ".run_state.json", run_state)
    dump(root / "__meta" / "run_info.json", run_info)
    if result is not None:
        dump(root / "result.json", result)
    if config is not None:
        dump(root / "__meta" / "config.json", config)
    if target_info is not None:
        dump(root / "__meta" / "target_info.json", target_info)
    if specs is not None:
        dump(root / "__meta" / "jobs.json", {"jobs": specs})
    (root / "run.log").write_text("")
    for name, job_result in (jobs or {}).items():
        dump(root / name / "result.json", job_result)
    for name, job_result in (failed or {}).items():
        dump(root / "__failed" / name / "result.json", job_result)
    return root


def ok_run(root: Path) -> Path:
    """Two specs x two iterations, all OK (like run_basic, with run_mixed's results)."""
    return make_run(
        root,
        run_state=state("OK(7)", [state_job("idle1", "idle", 1, "OK(7)"),
                                  state_job("sh1", "okscript", 1, "OK(7)"),
                                  state_job("idle1", "idle", 2, "OK(7)"),
                                  state_job("sh1", "okscript", 2, "OK(7)")]),
        result=with_status(RESULT_RUN, "OK(7)"),
        specs=[spec("idle1", "idle", "idle", 2), spec("sh1", "okscript", "shellscript", 2,
                                                      {"kind": "shell"})] * 2,
        jobs={name: RESULT_OK for name in ("idle1-idle-1", "sh1-okscript-1", "idle1-idle-2",
                                           "sh1-okscript-2")})


def mixed_run(root: Path) -> Path:
    """FAILED, PARTIAL, ABORTED and SKIPPED jobs; the SKIPPED one has no directory."""
    return make_run(
        root,
        run_state=state("PARTIAL(8)", [state_job("sh1", "okscript", 1, "OK(7)"),
                                       state_job("fail1", "failscript", 1, "FAILED(9)"),
                                       state_job("part1", "partial", 1, "PARTIAL(8)"),
                                       state_job("idle1", "idle", 1, "ABORTED(10)"),
                                       state_job("sh1", "okscript", 2, "SKIPPED(11)")]),
        specs=[spec("sh1", "okscript", "shellscript", 2), spec("fail1", "failscript", "sh"),
               spec("part1", "partial", "idle"), spec("idle1", "idle", "idle")],
        jobs={"sh1-okscript-1": RESULT_OK, "fail1-failscript-1": RESULT_FAILED,
              "part1-partial-1": RESULT_PARTIAL, "idle1-idle-1": RESULT_ABORTED})


# --- reading runs -------------------------------------------------------------

def test_complete_ok_run(tmp_path: Path) -> None:
    run = RunOutput(ok_run(tmp_path / "run"))

    assert run.path == (tmp_path / "run").absolute()
    assert run.status is JobStatus.OK
    assert run.run_info == RunInfo(
        uuid="c68bc56f-8987-4e5c-8da4-92478e67c4a8", run_name="ref-mixed",
        project="pytestwa-ref", project_stage={"phase": "stage1"},
        start_time=datetime.datetime(2026, 11, 26, 15, 45, 0, 54142, tzinfo=UTC),
        end_time=datetime.datetime(2026, 11, 26, 15, 45, 4, 802518, tzinfo=UTC),
        duration=4.748376)
    assert run.target_info == TARGET_INFO
    assert run.config == CONFIG
    assert len(run.job_specs) == 4
    assert [(j.id, j.label, j.iteration) for j in run.jobs] == [
        ("idle1", "idle", 1), ("sh1", "okscript", 1), ("idle1", "idle", 2), ("sh1", "okscript", 2)]
    assert all(j.status is JobStatus.OK and j.retries == 0 for j in run.jobs)

    assert run.metrics == [Metric("ref_run_metric", 7, "widgets", False,
                                  {"scope": "run", "run_cls": "rc1"})]
    assert [a.name for a in run.artifacts] == ["runlog", "run_result_csv"]
    assert run.artifact_path("runlog") == run.path / "run.log"
    assert run.events[0] == Event("deliberate initialize failure",
                                  datetime.datetime(2026, 11, 26, 15, 45, 0, 56331, tzinfo=UTC))
    assert run.classifiers == {"run_cls": "rc1"}
    assert run.metadata == {"versions": {"wa": "3.3.1", "devlib": "1.3.4"}}

    job = run.job("sh1", 2)
    assert isinstance(job, JobOutput)
    assert job.path == run.path / "sh1-okscript-2"
    assert job.timestamp == datetime.datetime(2026, 11, 26, 15, 45, 1, 78773, tzinfo=UTC)
    assert job.spec is not None and job.spec["workload_name"] == "shellscript"
    assert job.metric("ref_score") == Metric("ref_score", 12.5, "points", True,
                                             {"kind": "shell", "sub": "a"})
    assert job.metric("ref_count").units is None
    assert [a.name for a in job.artifacts] == ["ref_file", "ref_dir"]
    assert job.artifacts[1].is_dir and job.artifacts[1].kind == "log"
    assert job.artifact_path("ref_file") == run.path / "sh1-okscript-2" / "ref_artifact.txt"
    assert job.artifact_path("ref_file").is_absolute()
    assert job.classifiers == {"kind": "shell"}
    assert job.metadata == {} and job.events == []
    assert run.failed_attempts(job) == []
    assert repr(run) == f"<RunOutput {str(run.path)!r} status=OK jobs=4>"
    assert repr(job) == "<JobOutput sh1-okscript-2 status=OK retries=0 metrics=3>"


def test_lookups_fail_with_clear_key_errors(tmp_path: Path) -> None:
    run = RunOutput(ok_run(tmp_path / "run"))
    job = run.jobs[0]
    with pytest.raises(KeyError, match=r"no metric 'nope' .*execution_time, ref_count"):
        job.metric("nope")
    with pytest.raises(KeyError, match=r"no artifact 'nope' .*'ref_file', 'ref_dir'"):
        job.artifact_path("nope")
    with pytest.raises(KeyError, match=r"no job 'sh1' iteration 3 .*sh1#2"):
        run.job("sh1", 3)


def test_failed_partial_aborted_and_skipped_jobs(tmp_path: Path) -> None:
    run = RunOutput(mixed_run(tmp_path / "run"))

    assert run.status is JobStatus.PARTIAL
    assert [j.status for j in run.jobs] == [JobStatus.OK, JobStatus.FAILED, JobStatus.PARTIAL,
                                           JobStatus.ABORTED, JobStatus.SKIPPED]
    failed = run.job("fail1", 1)
    assert failed.metrics == [] and "about to fail" in failed.events[0].message
    assert failed.events[0].timestamp == datetime.datetime(2026, 11, 26, 15, 45, 1, 341468,
                                                           tzinfo=UTC)
    partial = run.job("part1", 1)
    assert [e.message for e in partial.events][0] == "Error in instrument partialinst"
    assert partial.metric("execution_time").value == pytest.approx(1.0128459930419922)
    aborted = run.job("idle1", 1)
    assert [m.name for m in aborted.metrics] == ["execution_time"]  # partial metric kept

    skipped = run.job("sh1", 2)  # never started: WA3 writes no directory for it
    assert not skipped.path.exists()
    assert skipped.path == run.path / "sh1-okscript-2"
    assert (skipped.metrics, skipped.artifacts, skipped.events) == ([], [], [])
    assert skipped.spec is not None and skipped.spec["id"] == "sh1"


def test_retried_job_and_its_failed_attempts(tmp_path: Path) -> None:
    root = make_run(
        tmp_path / "run",
        run_state=state("FAILED(9)", [state_job("fail1", "failscript", 1, "FAILED(9)", 2),
                                      state_job("fail1", "failscript", 11, "OK(7)")]),
        specs=[spec("fail1", "failscript", "shellscript", 11)],
        jobs={"fail1-failscript-1": RESULT_FAILED, "fail1-failscript-11": RESULT_OK},
        failed={"fail1-failscript-1-attempt02": with_status(RESULT_PARTIAL, "PARTIAL(8)"),
                "fail1-failscript-1-attempt01": RESULT_FAILED,
                "fail1-failscript-11-attempt01": RESULT_FAILED})
    run = RunOutput(root)

    job = run.job("fail1", 1)
    assert (job.status, job.retries, job.attempt) == (JobStatus.FAILED, 2, None)
    attempts = run.failed_attempts(job)
    assert [(a.attempt, a.retries, a.status) for a in attempts] == [
        (1, 0, JobStatus.FAILED), (2, 1, JobStatus.PARTIAL)]
    assert attempts[0].path == root / "__failed" / "fail1-failscript-1-attempt01"
    assert attempts[1].metric("execution_time").units == "seconds"
    assert all((a.id, a.label, a.iteration, a.spec) == ("fail1", "failscript", 1, job.spec)
               for a in attempts)
    assert "attempt=2" in repr(attempts[1])
    assert [a.attempt for a in run.failed_attempts(run.job("fail1", 11))] == [1]


@pytest.mark.parametrize("content, reason", [
    ("{\n    \"status\": \"OK(7)\",\n    \"metr", "invalid JSON"),
    ({"status": "OK(7)"}, "missing 'metrics'"),
    (with_status(RESULT_OK, "BOGUS(99)"), "unknown status"),
    ({**RESULT_OK, "metrics": [{"name": "m", "value": "abc"}]}, "not a number"),
    ({**RESULT_OK, "artifacts": [{"name": "a", "path": "p", "kind": "weird"}]}, "kind"),
    ([], "must be an object"),
])
def test_corrupt_job_result_costs_only_that_result(tmp_path: Path, content: Any,
                                                   reason: str) -> None:
    root = mixed_run(tmp_path / "run")
    dump(root / "sh1-okscript-1" / "result.json", content)
    run = RunOutput(root)

    job = run.job("sh1", 1)
    assert job.status is JobStatus.OK  # from .run_state.json, as in WA3
    assert (job.metrics, job.artifacts) == ([], [])
    [event] = job.events
    assert "sh1-okscript-1/result.json" in event.message and reason in event.message
    assert event.timestamp.tzinfo is not None
    assert run.job("fail1", 1).events and run.job("idle1", 1).metrics  # others unaffected


def test_job_directory_without_result_json(tmp_path: Path) -> None:
    root = mixed_run(tmp_path / "run")
    (root / "sh1-okscript-1" / "result.json").unlink()
    job = RunOutput(root).job("sh1", 1)
    assert job.metrics == [] and "result.json: could not be read: missing" in job.events[0].message


@pytest.mark.parametrize("content, reason", [
    ("{\"status\": \"OK(7)\", \"jo", "invalid JSON"),
    ({"status": "OK(7)"}, "expected an object with 'status' and 'jobs'"),
    (state("OK(7)", [{"id": "a", "label": "b", "iteration": 1, "status": "OK(7)"}]),
     "jobs[0] is missing 'retries'"),
    (state("OK(7)", [state_job("a", "b", 1, "BOGUS(99)")]), "jobs[0]: unknown status"),
    (state("OK(7)", [state_job("a", "b", "1", "OK(7)")]), "iteration is not an integer"),
    (state("OK(7)", [state_job("a", "b", 1, "OK(7)", timestamp="yesterday")]),
     "not an ISO-8601 time"),
    (state("OK", {}), "'jobs' is not a list"),
])
def test_corrupt_run_state_is_a_clear_error(tmp_path: Path, content: Any, reason: str) -> None:
    root = ok_run(tmp_path / "run")
    dump(root / ".run_state.json", content)
    with pytest.raises(RunOutputError) as caught:
        RunOutput(root)
    message = str(caught.value)
    assert message.startswith(str(root.absolute() / ".run_state.json") + ": ")
    assert reason in message and "\n" not in message
    assert isinstance(caught.value, WAError)


@pytest.mark.parametrize("name, content, reason", [
    ("__meta/run_info.json", "{", "invalid JSON"),
    ("__meta/run_info.json", {**RUN_INFO, "start_time": "DATET:soon"}, "not an ISO-8601"),
    ("__meta/run_info.json", {**RUN_INFO, "duration": "4s"}, "duration is not a number"),
    ("__meta/run_info.json", [RUN_INFO], "expected an object"),
    ("__meta/jobs.json", {"jobs": [{"label": "x"}]}, "each job with an 'id'"),
    ("__meta/config.json", "[1, 2", "invalid JSON"),
    ("__meta/target_info.json", [], "expected an object"),
])
def test_corrupt_meta_file_is_a_clear_error(tmp_path: Path, name: str, content: Any,
                                            reason: str) -> None:
    root = ok_run(tmp_path / "run")
    dump(root / name, content)
    with pytest.raises(RunOutputError, match=r"^\S+" + name.replace("/", r"/") + ": .*"
                       + reason.replace("(", r"\(").replace(")", r"\)")):
        RunOutput(root)


def test_not_a_run_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunOutputError, match=r"empty: not a run directory \(no "
                       r"\.run_state\.json and no __meta/run_info\.json\)$"):
        RunOutput(tmp_path / "empty")
    dump(tmp_path / "half" / ".run_state.json", state("NEW(1)", []))
    with pytest.raises(RunOutputError, match=r"half: not a run directory \(no __meta/run_info"):
        RunOutput(tmp_path / "half")
    with pytest.raises(RunOutputError, match=r"nowhere: no such directory"):
        RunOutput(tmp_path / "nowhere")


def test_optional_meta_files_may_be_absent(tmp_path: Path) -> None:
    root = make_run(tmp_path / "run", run_state=state("OK(7)", [state_job("a", "b", 1, "OK(7)")]),
                    run_info=RUN_INFO_AT_CREATION, config=None, target_info=None,
                    jobs={"a-b-1": RESULT_NEW})
    run = RunOutput(root)
    assert (run.config, run.target_info, run.job_specs, run.jobs[0].spec) == (None, None, [],
                                                                              None)
    assert run.run_info == RunInfo(uuid="94a752c2-d70a-4d7a-896a-b7b33843a7a9")


def test_mid_run_status_comes_from_the_state(tmp_path: Path) -> None:
    """WA3 leaves result.json at NEW(1) until the end of the run."""
    root = make_run(tmp_path / "run",
                    run_state=state("STARTED(3)", [state_job("idle1", "idle", 1, "RUNNING(6)"),
                                                   state_job("sh1", "okscript", 1, "PENDING(2)")]),
                    result=RESULT_NEW, jobs={"idle1-idle-1": RESULT_NEW})
    run = RunOutput(root)
    assert run.status is JobStatus.STARTED
    assert [j.status for j in run.jobs] == [JobStatus.RUNNING, JobStatus.PENDING]
    assert run.metrics == [] and run.events == []

    # at creation both say NEW: stays NEW
    dump(root / ".run_state.json", state("NEW(1)", []))
    assert RunOutput(root).status is JobStatus.NEW
    # a final result.json wins over the state
    dump(root / "result.json", with_status(RESULT_NEW, "OK(7)"))
    assert RunOutput(root).status is JobStatus.OK


def test_run_result_missing_or_corrupt_falls_back_to_state(tmp_path: Path) -> None:
    root = ok_run(tmp_path / "run")
    dump(root / ".run_state.json", {**json.loads((root / ".run_state.json").read_text()),
                                    "status": "PARTIAL(8)"})
    dump(root / "result.json", "{ broken")
    run = RunOutput(root)
    assert run.status is JobStatus.PARTIAL and run.metrics == []
    assert "result.json: could not be read: invalid JSON" in run.events[0].message
    assert len(run.jobs) == 4

    (root / "result.json").unlink()
    run = RunOutput(root)
    assert run.status is JobStatus.PARTIAL
    assert run.events[0].message.endswith("result.json: could not be read: missing")


def test_noncritical_round_trip(tmp_path: Path) -> None:
    assert encode_status(JobStatus.NONCRITICAL) == "NONCRITICAL(7)"
    assert decode_status("NONCRITICAL(7)") is JobStatus.NONCRITICAL
    noncritical = with_status(RESULT_OK, encode_status(JobStatus.NONCRITICAL))
    root = make_run(
        tmp_path / "run",
        run_state=state("OK(7)", [state_job("a", "x", 1, "NONCRITICAL(7)"),
                                  state_job("b", "x", 1, "OK(7)"),
                                  state_job("c", "x", 1, "FAILED(9)")]),
        jobs={"a-x-1": noncritical, "b-x-1": noncritical, "c-x-1": noncritical})
    run = RunOutput(root)
    # by name in the state; from result.json when the state has WA3's OK(7) for it
    assert run.job("a", 1).status is JobStatus.NONCRITICAL
    assert run.job("b", 1).status is JobStatus.NONCRITICAL
    # a different number in the state wins, as in WA3
    assert run.job("c", 1).status is JobStatus.FAILED
    assert run.job("a", 1).metric("ref_count").value == 3


def test_duplicate_state_entry_replaces_the_first_as_in_wa3(tmp_path: Path) -> None:
    root = make_run(tmp_path / "run",
                    run_state=state("OK(7)", [state_job("a", "x", 1, "FAILED(9)"),
                                              state_job("b", "x", 1, "OK(7)"),
                                              state_job("a", "x", 1, "OK(7)", 1)]))
    run = RunOutput(root)
    assert [(j.id, j.status, j.retries) for j in run.jobs] == [("a", JobStatus.OK, 1),
                                                              ("b", JobStatus.OK, 0)]


def test_discover(tmp_path: Path) -> None:
    ok_run(tmp_path / "runs" / "b_second")
    nested = mixed_run(tmp_path / "runs" / "a" / "first")
    # a run inside a run (say, an artifact) and __failed are not searched
    ok_run(nested / "sh1-okscript-1" / "captured_run")
    make_run(tmp_path / "runs" / "c" / "__failed" / "x", run_state=state("OK(7)", []))
    (tmp_path / "runs" / "not_a_run" / "__meta").mkdir(parents=True)
    (tmp_path / "runs" / "not_a_run" / "notes.txt").write_text("hello")

    runs = discover(tmp_path / "runs")
    assert [r.path for r in runs] == [nested.absolute(),
                                      (tmp_path / "runs" / "b_second").absolute()]
    assert [r.status for r in runs] == [JobStatus.PARTIAL, JobStatus.OK]
    assert all(isinstance(r, RunOutput) for r in runs)
    assert [r.path for r in discover(nested)] == [nested.absolute()]
    assert discover(tmp_path / "runs" / "not_a_run") == []
    with pytest.raises(RunOutputError, match="no such directory"):
        discover(tmp_path / "missing")


# --- pods ---------------------------------------------------------------------

WA3_VALUES = {"UNKNOWN": 0, "NEW": 1, "PENDING": 2, "STARTED": 3, "CONNECTED": 4,
              "INITIALIZED": 5, "RUNNING": 6, "OK": 7, "PARTIAL": 8, "FAILED": 9,
              "ABORTED": 10, "SKIPPED": 11, "NONCRITICAL": 7}


@pytest.mark.parametrize("status", list(JobStatus))
def test_status_round_trip(status: JobStatus) -> None:
    text = encode_status(status)
    assert text == f"{status.name}({WA3_VALUES[status.name]})"
    assert decode_status(text) is status


@pytest.mark.parametrize("text, status", [
    ("ok(7)", JobStatus.OK),            # WA3 ignores the name's case...
    ("WHATEVER(7)", JobStatus.OK),      # ...and unknown names: the value counts
    ("(9)", JobStatus.FAILED),
    ("OK", JobStatus.OK),               # a bare known name
    ("NONCRITICAL(12)", JobStatus.NONCRITICAL),
    ("NONCRITICAL(8)", JobStatus.NONCRITICAL),
])
def test_decode_status_variants(text: str, status: JobStatus) -> None:
    assert decode_status(text) is status


@pytest.mark.parametrize("text", ["", "BOGUS", "BOGUS(12)", "(12)", "OK(seven)", "OK(7", 7, None])
def test_decode_status_refuses(text: Any) -> None:
    with pytest.raises(ValueError):
        decode_status(text)


def test_time_encoding() -> None:
    naive = datetime.datetime(2026, 11, 26, 15, 40, 58, 447547)
    assert encode_time(naive) == "DATET:2026-11-26T15:40:58.447547"
    aware = datetime.datetime(2026, 11, 26, 17, 40, 58, tzinfo=datetime.timezone(
        datetime.timedelta(hours=2)))
    assert encode_time(aware) == "DATET:2026-11-26T15:40:58"  # converted, no offset
    assert encode_time(None) is None
    assert decode_time(encode_time(aware)) == aware
    assert decode_time(encode_time(naive)) == naive.replace(tzinfo=UTC)


@pytest.mark.parametrize("text", [
    "DATET:2026-01-01T00:00:00.5", "2026-01-01T00:00:00.500", "DATET:2026-01-01T00:00:00.5Z",
    "DATET:2026-01-01T00:00:00.500000+00:00", "2026-01-01T01:00:00.5+01:00",
    "2025-12-31T19:00:00.5-05:00",
])
def test_decode_time_variants(text: str) -> None:
    decoded = decode_time(text)
    assert decoded == datetime.datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
    assert decoded is not None and decoded.tzinfo is UTC


@pytest.mark.parametrize("text", ["DATET:", "yesterday", "2026-13-01T00:00:00", 12])
def test_decode_time_refuses(text: Any) -> None:
    with pytest.raises(ValueError):
        decode_time(text)
    assert decode_time(None) is None


def test_result_pod_reproduces_wa3_json_exactly() -> None:
    """Decoding WA3's files and encoding them again gives the same JSON, key order included."""
    for original in (RESULT_OK, RESULT_RUN, RESULT_FAILED, RESULT_PARTIAL, RESULT_NEW):
        data = result_from_pod(copy.deepcopy(original))
        pod = result_pod(data.status, data.metrics, data.artifacts, data.events,
                         data.classifiers, data.metadata)
        assert json.dumps(pod, indent=4) == json.dumps(original, indent=4)


def test_metric_pod() -> None:
    metric = Metric("score", 12.5, "points", True, {"kind": "shell"})
    pod = metric_pod(metric)
    assert list(pod.items()) == [("_pod_version", 1), ("_pod_serialization_version", 1),
                                 ("name", "score"), ("value", 12.5), ("units", "points"),
                                 ("lower_is_better", True), ("classifiers", {"kind": "shell"})]
    assert metric_from_pod(pod) == metric
    assert metric_from_pod({"name": "m", "value": 2}) == Metric("m", 2)  # WA3's minimum
    assert metric_pod(Metric("flag", True))["value"] == 1


@pytest.mark.parametrize("value", [math.nan, math.inf, -3, 0.0])
def test_metric_special_numbers_round_trip(value: float) -> None:
    text = json.dumps(metric_pod(Metric("m", value)))
    back = metric_from_pod(json.loads(text)).value
    assert (math.isnan(back) and math.isnan(value)) or back == value


@pytest.mark.parametrize("value", ["12", "abc", None, [1], {"a": 1}, 1j])
def test_metric_pod_refuses_values_that_are_not_numbers(value: Any) -> None:
    with pytest.raises(ValueError, match="value must be a number"):
        metric_pod(Metric("m", value))


@pytest.mark.parametrize("value, expected", [("12.5", 12.5), ("3", 3), (" 4.0 ", 4)])
def test_metric_from_pod_converts_numeric_strings_like_wa3(value: str, expected: float) -> None:
    assert metric_from_pod({"name": "m", "value": value}).value == expected


@pytest.mark.parametrize("pod", [{"name": "m", "value": None}, {"name": "m", "value": "x"},
                                 {"name": "m"}, {"value": 1}, "m=1"])
def test_metric_from_pod_refuses(pod: Any) -> None:
    with pytest.raises(ValueError):
        metric_from_pod(pod)


def test_artifact_pod() -> None:
    artifact = Artifact("ref_dir", "sub/ref_dir", "log", None, {"origin": "x"}, True)
    pod = artifact_pod(artifact)
    assert list(pod) == ["_pod_version", "_pod_serialization_version", "name", "path", "kind",
                         "description", "classifiers", "is_dir"]
    assert (pod["_pod_version"], pod["_pod_serialization_version"]) == (2, 2)
    assert artifact_from_pod(pod) == artifact
    # serialization version 1 had no is_dir
    assert artifact_from_pod({"_pod_version": 1, "_pod_serialization_version": 1, "name": "a",
                              "path": "p", "kind": "data", "description": None,
                              "classifiers": {}}) == Artifact("a", "p", "data")
    with pytest.raises(ValueError, match="kind 'weird'"):
        artifact_pod(Artifact("a", "p", "weird"))
    with pytest.raises(ValueError, match="unknown kind 'weird'"):
        artifact_from_pod({**pod, "kind": "weird"})


def test_event_pod() -> None:
    moment = datetime.datetime(2026, 11, 26, 15, 45, 1, 341468, tzinfo=UTC)
    event = Event("line one\nline two", moment)
    pod = event_pod(event)
    assert list(pod.items()) == [("_pod_version", 1), ("_pod_serialization_version", 1),
                                 ("timestamp", "DATET:2026-11-26T15:45:01.341468"),
                                 ("message", "line one\nline two")]
    assert event_from_pod(pod) == event
    # WA3 allows a null timestamp: kept as None, written back as null
    untimed = event_from_pod({"timestamp": None, "message": "hi"})
    assert untimed.timestamp is None and event_pod(untimed)["timestamp"] is None
    with pytest.raises(ValueError, match="missing 'message'"):
        event_from_pod({"timestamp": None})


def test_result_pod_refuses_a_metric_wa3_would_drop_the_result_for() -> None:
    with pytest.raises(ValueError):
        result_pod(JobStatus.OK, [Metric("good", 1), Metric("bad", "n/a")], [], [], {}, {})


# --- local cross-check against the real WA3 3.3.1 runs ------------------------

REFERENCE = Path("/tmp/wa3-reference")

# (id, iteration) -> (status, retries, metric names, failed attempts), per run
REFERENCE_JOBS: dict[str, tuple[JobStatus, dict[tuple[str, int], tuple[Any, ...]]]] = {
    "run_basic": (JobStatus.OK, {
        ("idle1", 1): (JobStatus.OK, 0, ["execution_time"], 0),
        ("sh1", 1): (JobStatus.OK, 0, ["execution_time"], 0),
        ("idle1", 2): (JobStatus.OK, 0, ["execution_time"], 0),
        ("sh1", 2): (JobStatus.OK, 0, ["execution_time"], 0)}),
    "run_mixed": (JobStatus.PARTIAL, {
        ("idle1", 1): (JobStatus.OK, 0, ["ref_score", "ref_count", "execution_time"], 0),
        ("sh1", 1): (JobStatus.OK, 0, ["ref_score", "ref_count", "execution_time"], 0),
        ("fail1", 1): (JobStatus.FAILED, 1, [], 1),
        ("flaky1", 1): (JobStatus.OK, 1, ["ref_score", "ref_count", "execution_time"], 1),
        ("part1", 1): (JobStatus.PARTIAL, 1, ["ref_score", "ref_count", "execution_time"], 1),
        ("initf", 1): (JobStatus.FAILED, 0, [], 0),
        ("idle1", 2): (JobStatus.OK, 0, ["ref_score", "ref_count", "execution_time"], 0),
        ("sh1", 2): (JobStatus.OK, 0, ["ref_score", "ref_count", "execution_time"], 0),
        ("initf", 2): (JobStatus.SKIPPED, 0, [], 0)}),
    "run_retry2": (JobStatus.FAILED, {("fail1", 1): (JobStatus.FAILED, 2, [], 2)}),
    "run_aborted": (JobStatus.PARTIAL, {
        ("sh1", 1): (JobStatus.OK, 0, ["execution_time"], 0),
        ("idle1", 1): (JobStatus.ABORTED, 0, ["execution_time"], 0),
        ("sh1", 2): (JobStatus.SKIPPED, 0, [], 0),
        ("idle1", 2): (JobStatus.SKIPPED, 0, [], 0)}),
}


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="local cross-check: no /tmp/wa3-reference")
@pytest.mark.parametrize("name", sorted(REFERENCE_JOBS))
def test_local_cross_check_real_wa3_runs(name: str) -> None:
    """LOCAL CROSS-CHECK: the real WA3 3.3.1 runs on this machine read as WA3 reads them."""
    run = RunOutput(REFERENCE / name)
    run_status, expected = REFERENCE_JOBS[name]
    assert run.status is run_status
    assert {(j.id, j.iteration): (j.status, j.retries, [m.name for m in j.metrics],
                                  len(run.failed_attempts(j))) for j in run.jobs} == expected
    assert all(j.spec is not None for j in run.jobs) and run.target_info is not None
    assert run.run_info.start_time is not None and run.run_info.duration is not None
    assert "runlog" in [a.name for a in run.artifacts]
    for job in run.jobs:
        for artifact in job.artifacts:
            assert job.artifact_path(artifact.name).exists()
    # what WA3's own reader printed for this run (read_with_wa3.py), where present
    wa3_file = REFERENCE / f"{name}.wa3read.json"
    if wa3_file.is_file():
        wa3 = json.loads(wa3_file.read_text())
        assert encode_status(run.status) == wa3["status"]
        assert [(j["id"], j["iteration"], j["status"], j["retries"]) for j in wa3["jobs"]] == [
            (j.id, j.iteration, encode_status(j.status), j.retries) for j in run.jobs]
        for ours, theirs in zip(run.jobs, wa3["jobs"], strict=True):
            assert [(m.name, m.value, m.units, m.lower_is_better, m.classifiers)
                    for m in ours.metrics] == [
                (m["name"], m["value"], m["units"], m["lower_is_better"], m["classifiers"])
                for m in theirs["metrics"]]
            assert [(a.name, a.path, a.kind, a.is_dir) for a in ours.artifacts] == [
                (a["name"], a["path"], a["kind"], a["is_dir"]) for a in theirs["artifacts"]]
            assert [e.message for e in ours.events] == [e["message"] for e in theirs["events"]]
