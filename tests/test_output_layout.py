"""The run output directory after real runs on this host: its files, their contents,
where it goes and what happens to a previous run there (docs/output.md).

Every test runs pytest on agendas written into pytester's directory and then reads
the files the run left, as an analyst or WA3's tools would.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import platform
import re
import socket
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

import pytest_wa

# --- agendas and helpers ----------------------------------------------------

# Two specs, two iterations; a config include and a workload include, so that
# raw_config has something to copy besides the agenda.
LAYOUT_AGENDA = """
    config:
      include#: settings.inc
      run_name: layout-check
      project: pytest-wa-tests
      iterations: 2
    workloads:
      - id: echo
        name: command
        label: say
        params:
          command: "echo value=42; echo to-stderr >&2"
          metrics: {value: {regex: 'value=(\\d+)', units: points}}
      - include#: nap.inc
"""
LAYOUT_INCLUDES = {
    "settings.inc": "augmentations: [execution_time]\n",
    "nap.inc": "id: nap\nname: idle\nparams: {duration: 0}\n",
}
LAYOUT_JOBS = ["echo-say-1", "nap-idle-1", "echo-say-2", "nap-idle-2"]

# One job per status a workload can reach here, two iterations each.
STATUS_CONFTEST = """
    from pytest_wa import Workload


    class LeakyCleanup(Workload):
        name = "leaky_cleanup"
        description = "Runs fine; its teardown fails."

        def teardown(self, context):
            context.target.execute("rm /nonexistent/file", timeout=10, check=True)


    def pytest_wa_register_workloads(registry):
        registry.add(LeakyCleanup)
"""
STATUS_AGENDA = """
    config:
      run_name: statuses-check
      iterations: 2
    workloads:
      - id: good
        name: command
        params: {command: "echo rate=42", metrics: {rate: {regex: 'rate=(\\d+)', units: MB/s}}}
      - id: partial
        name: command
        params: {command: "echo no numbers", metrics: {rate: 'rate=(\\d+)'}}
      - id: failing
        name: command
        params: {command: "echo rate=7; echo oops >&2; exit 3", metrics: {rate: 'rate=(\\d+)'}}
      - id: nosetup
        name: idle
        params: {screen_off: true}
      - id: leaky
        name: leaky_cleanup
"""

IDLE = "workloads:\n  - {name: idle, params: {duration: 0}}\n"


def write(pytester: pytest.Pytester, name: str, text: str) -> Path:
    path = pytester.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run_layout(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    write(pytester, "agenda.yaml", LAYOUT_AGENDA)
    for name, text in LAYOUT_INCLUDES.items():
        write(pytester, name, text)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    return result


def run_statuses(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makeconftest(STATUS_CONFTEST)
    write(pytester, "statuses.yaml", STATUS_AGENDA)
    result = pytester.runpytest("statuses.yaml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    return result


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def state_jobs(run: Path) -> list[tuple[str, str, int, str]]:
    """(id, label, iteration, status) of every job in .run_state.json, in order."""
    return [(job["id"], job["label"], job["iteration"], job["status"])
            for job in load(run / ".run_state.json")["jobs"]]


def job_dirs(run: Path) -> set[str]:
    return {p.name for p in run.iterdir() if p.is_dir() and not p.name.startswith("__")}


def parse_time(text: str) -> datetime.datetime:
    assert text.startswith("DATET:"), text
    moment = datetime.datetime.fromisoformat(text[len("DATET:"):])
    assert moment.tzinfo is None, f"WA3 writes naive UTC: {text}"
    return moment


def listing(path: Path) -> list[str]:
    """The names in ``path``, less dot-files (caches of pytest and its plugins)."""
    return sorted(p.name for p in path.iterdir() if not p.name.startswith("."))


def tree(path: Path) -> dict[str, bytes | None]:
    """Every file and directory below ``path`` with its content (None for directories)."""
    return {str(p.relative_to(path)): None if p.is_dir() else p.read_bytes()
            for p in sorted(path.rglob("*"))}


# --- the layout ---------------------------------------------------------------

RUN_FILES = ["run.log", "result.json", ".run_state.json", "status.txt", "results.csv",
             "__meta/run_info.json", "__meta/config.json", "__meta/jobs.json",
             "__meta/target_info.json"]


def test_every_file_of_the_layout_is_written(pytester: pytest.Pytester) -> None:
    run_layout(pytester)
    run = pytester.path / "wa_output"
    for name in RUN_FILES:
        assert (run / name).is_file(), name
    assert (run / "__meta" / "raw_config").is_dir()
    assert job_dirs(run) == set(LAYOUT_JOBS)  # <id>-<label>-<iteration>, nothing else
    assert [f"{i}-{label}-{it}" for i, label, it, _ in state_jobs(run)] == LAYOUT_JOBS
    for name in LAYOUT_JOBS:
        assert (run / name / "result.json").is_file(), name
    assert (run / "echo-say-1" / "output.txt").is_file()
    parsed = [load(path) for path in run.rglob("*.json")]
    assert len(parsed) == 4 + 2 + len(LAYOUT_JOBS)  # __meta, run result and state, jobs
    # Written atomically: no temporary file is left behind.
    assert not [p.name for p in run.rglob("*") if p.name.endswith(".tmp")]


def test_files_use_wa3_encodings(pytester: pytest.Pytester) -> None:
    run_layout(pytester)
    run = pytester.path / "wa_output"
    state = load(run / ".run_state.json")
    result = load(run / "echo-say-1" / "result.json")
    for pod in (state, *state["jobs"], result, *result["metrics"], load(run / "result.json"),
                load(run / "__meta" / "run_info.json"), load(run / "__meta" / "config.json")):
        assert list(pod)[:2] == ["_pod_version", "_pod_serialization_version"], pod
    assert [a["_pod_version"] for a in result["artifacts"]] == [2]
    assert load(run / "__meta" / "target_info.json")["_pod_version"] == 5
    assert state["status"] == "OK(7)"
    assert {job["status"] for job in state["jobs"]} == {"OK(7)"}
    assert result["status"] == "OK(7)"
    parse_time(state["timestamp"])
    for job in state["jobs"]:
        parse_time(job["timestamp"])


def test_jobs_json_has_one_resolved_spec_per_job_iteration(pytester: pytest.Pytester) -> None:
    run_layout(pytester)
    specs = load(pytester.path / "wa_output" / "__meta" / "jobs.json")["jobs"]
    assert [(s["id"], s["label"]) for s in specs] == [
        ("echo", "say"), ("nap", "idle"), ("echo", "say"), ("nap", "idle")]
    echo, nap = specs[0], specs[1]
    assert echo["workload_name"] == "command"
    assert echo["workload_parameters"]["command"] == "echo value=42; echo to-stderr >&2"
    # Defaults are resolved, as WA3 writes them.
    assert echo["workload_parameters"]["as_root"] is False
    assert echo["workload_parameters"]["timeout"] == 300
    assert nap["workload_parameters"] == {"duration": 0, "screen_off": False}
    assert echo["augmentations"] == ["execution_time"]  # from the included config
    assert echo["iterations"] == 2


def test_raw_config_has_the_agenda_and_its_includes(pytester: pytest.Pytester) -> None:
    run_layout(pytester)
    raw = pytester.path / "wa_output" / "__meta" / "raw_config"
    assert sorted(p.name for p in raw.iterdir()) == ["agenda.yaml", "nap.inc", "settings.inc"]
    for name in ("agenda.yaml", *LAYOUT_INCLUDES):
        assert (raw / name).read_bytes() == (pytester.path / name).read_bytes(), name


def test_run_info_has_identity_times_and_the_agenda_names(pytester: pytest.Pytester) -> None:
    before = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    run_layout(pytester)
    after = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    info = load(pytester.path / "wa_output" / "__meta" / "run_info.json")
    assert str(uuid.UUID(info["uuid"])) == info["uuid"]
    assert info["run_name"] == "layout-check"
    assert info["project"] == "pytest-wa-tests"
    start, end = parse_time(info["start_time"]), parse_time(info["end_time"])
    assert before <= start <= end <= after  # UTC
    assert info["duration"] == pytest.approx((end - start).total_seconds(), abs=0.01)


def test_target_info_describes_this_host(pytester: pytest.Pytester) -> None:
    run_layout(pytester)
    info = load(pytester.path / "wa_output" / "__meta" / "target_info.json")
    machine = platform.machine().lower()
    abis = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
    assert info["hostname"] == socket.gethostname()
    assert info["kernel_release"] == platform.release()
    assert info["kernel_version"] == platform.version()
    assert info["abi"] == abis.get(machine, machine)
    assert info["os"] == "linux"
    assert len(info["cpus"]) == os.cpu_count()
    assert [cpu["id"] for cpu in info["cpus"]] == list(range(len(info["cpus"])))


def test_results_csv_rows_match_the_metrics(pytester: pytest.Pytester) -> None:
    run_layout(pytester)
    run = pytester.path / "wa_output"
    raw = (run / "results.csv").read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n") > 1  # WA3's csv: CRLF line ends
    rows = list(csv.reader(io.StringIO(raw.decode())))
    assert rows[0] == ["id", "workload", "iteration", "metric", "value", "units"]
    expected = []
    for job_id, label, iteration, _ in state_jobs(run):
        result = load(run / f"{job_id}-{label}-{iteration}" / "result.json")
        expected += [[job_id, label, str(iteration), m["name"], str(m["value"]),
                      m["units"] or ""] for m in result["metrics"]]
    assert rows[1:] == expected
    assert ["echo", "say", "1", "value", "42", "points"] in rows
    assert sum(row[3] == "execution_time" for row in rows) == 4


def test_status_txt_lists_every_job_with_its_status(pytester: pytest.Pytester) -> None:
    run_statuses(pytester)
    run = pytester.path / "wa_output"
    lines = (run / "status.txt").read_text().splitlines()
    assert lines[0] == "Run name: statuses-check"
    assert lines[1] == "Run status: PARTIAL"
    assert lines[2].startswith("Date: ")
    assert lines[3] == "4/9 iterations completed without error"
    assert lines[4] == ""
    table = [line.split(None, 4) for line in lines[5:]]
    assert [row[:4] for row in table] == [
        ["good", "command", "1", "OK"],
        ["partial", "command", "1", "PARTIAL"],
        ["failing", "command", "1", "FAILED"],
        ["nosetup", "idle", "1", "FAILED"],
        ["leaky", "leaky_cleanup", "1", "NONCRITICAL"],
        ["good", "command", "2", "OK"],
        ["partial", "command", "2", "PARTIAL"],
        ["failing", "command", "2", "FAILED"],
        # nosetup 2 is SKIPPED: like WA3's status.txt, skipped jobs are not listed.
        ["leaky", "leaky_cleanup", "2", "NONCRITICAL"],
    ]
    assert table[2][4].startswith("(1 event(s)): execute failed: WorkloadError: command "
                                  "exited with code 3")
    # The state has every job; NONCRITICAL is written with OK's value, so WA3 reads OK.
    statuses = {(i, it): status for i, _, it, status in state_jobs(run)}
    assert statuses[("nosetup", 2)] == "SKIPPED(11)"
    assert statuses[("leaky", 1)] == "NONCRITICAL(7)"
    assert statuses[("partial", 1)] == "PARTIAL(8)"
    assert load(run / "result.json")["status"] == "PARTIAL(8)"


def test_run_log_mentions_every_job(pytester: pytest.Pytester) -> None:
    run_statuses(pytester)
    run = pytester.path / "wa_output"
    log = (run / "run.log").read_text()
    assert "Run started on device local" in log
    assert log.rstrip().endswith("Run finished: PARTIAL")
    for job_id, label, iteration, status in state_jobs(run):
        if status == "SKIPPED(11)":
            continue
        name = status.split("(")[0]
        assert f"Running job {job_id} ({label}) [{iteration}]" in log
        assert f"Job {job_id} ({label}) [{iteration}] completed with status {name}" in log
    assert "failing-command[1]: execute failed: WorkloadError" in log
    # Every line carries WA3's prefix: time, level, logger.
    line = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ +pytest_wa[.\w]*: ")
    assert all(line.match(text) for text in log.splitlines() if not text.startswith(" "))


def test_output_txt_holds_a_commands_output_and_exit_code(pytester: pytest.Pytester) -> None:
    run_statuses(pytester)
    run = pytester.path / "wa_output"
    good = (run / "good-command-1" / "output.txt").read_text()
    assert good.startswith("$ echo rate=42\nrate=42\n")
    assert re.search(r"^--- exit code 0, \d+\.\d{3} s ---$", good, re.MULTILINE)
    failing = (run / "failing-command-2" / "output.txt").read_text()
    assert "rate=7\n--- stderr ---\noops\n" in failing
    assert re.search(r"^--- exit code 3, ", failing, re.MULTILINE)
    artifacts = load(run / "good-command-1" / "result.json")["artifacts"]
    assert [(a["name"], a["path"], a["kind"]) for a in artifacts] == [
        ("output", "output.txt", "log")]


# --- where it goes and what happens to a previous run ---------------------------

def test_previous_run_is_moved_aside_and_the_terminal_says_where(
        pytester: pytest.Pytester) -> None:
    run_layout(pytester)
    out = pytester.path / "wa_output"
    first = load(out / "__meta" / "run_info.json")
    result = run_layout(pytester)
    stamp = parse_time(first["start_time"]).strftime("%Y%m%d-%H%M%S")
    aside = pytester.path / f"wa_output-{stamp}"
    result.stdout.fnmatch_lines([f"pytest-wa: previous run in {out} moved to {aside}"])
    assert load(aside / "__meta" / "run_info.json")["uuid"] == first["uuid"]
    assert load(out / "__meta" / "run_info.json")["uuid"] != first["uuid"]
    assert len(pytest_wa.RunOutput(aside).jobs) == len(LAYOUT_JOBS)
    # A third run never overwrites either of them.
    run_layout(pytester)
    runs = sorted(p for p in pytester.path.iterdir() if p.name.startswith("wa_output"))
    assert len(runs) == 3
    assert len({load(p / "__meta" / "run_info.json")["uuid"] for p in runs}) == 3


def test_wa_force_deletes_the_previous_run(pytester: pytest.Pytester) -> None:
    run_layout(pytester)
    out = pytester.path / "wa_output"
    first = load(out / "__meta" / "run_info.json")["uuid"]
    result = run_layout(pytester, "--wa-force")
    result.stdout.fnmatch_lines([f"pytest-wa: previous run in {out} deleted (--wa-force)"])
    assert [p.name for p in pytester.path.iterdir() if p.name.startswith("wa_output")] == [
        "wa_output"]
    assert load(out / "__meta" / "run_info.json")["uuid"] != first


def test_a_directory_that_holds_no_run_is_refused_and_left_untouched(
        pytester: pytest.Pytester) -> None:
    mine = pytester.path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("keep me\n")
    (mine / "sub" / "data.csv").write_text("a,b\n")
    before = tree(mine)
    write(pytester, "agenda.yaml", IDLE)
    for extra in ((), ("--wa-force",)):
        result = pytester.runpytest("agenda.yaml", "--wa-output", "mine", *extra)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        output = result.stdout.str() + result.stderr.str()
        lines = [line for line in output.splitlines() if "refusing to touch it" in line]
        assert len(lines) == 1, output
        assert f"--wa-output {mine} exists, is not empty and holds no run" in lines[0]
        assert "Traceback" not in output
        assert tree(mine) == before
    assert listing(pytester.path) == ["agenda.yaml", "mine"]


def test_a_file_given_as_wa_output_is_refused(pytester: pytest.Pytester) -> None:
    write(pytester, "agenda.yaml", IDLE)
    write(pytester, "results", "not a directory\n")
    result = pytester.runpytest("agenda.yaml", "--wa-output", "results")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"--wa-output {pytester.path / 'results'} exists and is not a directory" in (
        result.stdout.str() + result.stderr.str())
    assert (pytester.path / "results").read_text() == "not a directory\n"


def test_the_refusal_does_not_blame_the_device(pytester: pytest.Pytester) -> None:
    (pytester.path / "mine").mkdir()
    (pytester.path / "mine" / "notes.txt").write_text("keep me\n")
    write(pytester, "agenda.yaml", IDLE)
    result = pytester.runpytest("agenda.yaml", "--wa-output", "mine")
    output = result.stdout.str() + result.stderr.str()
    assert "refusing to touch it" in output
    assert "cannot use device" not in output


def test_a_second_run_does_not_collect_the_copies_in_previous_runs(
        pytester: pytest.Pytester) -> None:
    for _ in range(3):  # the third run sees the current and a moved-aside run
        result = run_layout(pytester)
        result.assert_outcomes(passed=len(LAYOUT_JOBS))
    copies = list(pytester.path.glob("wa_output*/__meta/raw_config/agenda.yaml"))
    assert len(copies) == 3
    collected = pytester.runpytest("--co", "-q")
    items = [line for line in collected.stdout.lines if "::" in line]
    assert items and all(line.startswith("agenda.yaml::") for line in items)
    assert len(items) == len(LAYOUT_JOBS)


def test_collect_only_creates_no_output_directory(pytester: pytest.Pytester) -> None:
    write(pytester, "agenda.yaml", IDLE)
    result = pytester.runpytest("--co", "-q", "--wa-output", "out")
    assert result.ret == pytest.ExitCode.OK
    result = pytester.runpytest("--co", "-q")
    assert result.ret == pytest.ExitCode.OK
    assert listing(pytester.path) == ["agenda.yaml"]


def test_a_plain_test_suite_creates_no_output_directory(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    write(pytester, "data.yaml", "items: [1, 2]\n")  # a YAML file that is no agenda
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert listing(pytester.path) == ["data.yaml", "test_plain.py"]
    assert "pytest-wa" not in result.stdout.str()


@pytest.mark.parametrize(("args", "ini", "expected"), [
    ((), None, "wa_output"),
    (("--wa-output", "out"), None, "out"),
    (("--wa-output", "nested/out"), "from_ini", "nested/out"),
    ((), "from_ini", "from_ini"),
], ids=["default", "option", "option-over-ini", "ini"])
def test_wa_output_is_relative_to_where_pytest_starts(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
        ini: str | None, expected: str) -> None:
    """Started in a subdirectory of the rootdir: the output goes below the subdirectory."""
    pytester.makeini("[pytest]\n" + (f"wa_output = {ini}\n" if ini else ""))
    write(pytester, "agenda.yaml", IDLE)
    start = pytester.path / "sub"
    start.mkdir()
    monkeypatch.chdir(start)
    result = pytester.runpytest("../agenda.yaml", *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert (start / expected / ".run_state.json").is_file()
    result.stdout.fnmatch_lines([f"pytest-wa: results in {start / expected} (run OK)"])
    assert not [p for p in pytester.path.iterdir() if p.name in ("wa_output", "out",
                                                                 "from_ini", "nested")]


# --- several agendas, one run ---------------------------------------------------

def test_ids_shared_between_agendas_are_qualified_in_the_output_only(
        pytester: pytest.Pytester) -> None:
    shared = """
        config: {augmentations: [execution_time]}
        workloads:
          - {name: idle, params: {duration: 0}}
          - {id: only_%s, name: idle, params: {duration: 0}}
    """
    write(pytester, "agendaA.yaml", shared % "a")
    write(pytester, "agendaB.yaml", shared % "b")
    result = pytester.runpytest("-v", "agendaA.yaml", "agendaB.yaml")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([  # pytest's names are the agendas' own
        "agendaA.yaml::wk1-idle[[]1[]] OK*", "agendaA.yaml::only_a-idle[[]1[]] OK*",
        "agendaB.yaml::wk1-idle[[]1[]] OK*", "agendaB.yaml::only_b-idle[[]1[]] OK*"])
    run = pytester.path / "wa_output"
    ids = ["agendaA.wk1", "only_a", "agendaB.wk1", "only_b"]
    assert [job[0] for job in state_jobs(run)] == ids
    assert job_dirs(run) == {f"{i}-idle-1" for i in ids}
    assert [s["id"] for s in load(run / "__meta" / "jobs.json")["jobs"]] == ids
    rows = list(csv.reader(io.StringIO((run / "results.csv").read_text())))
    assert [row[0] for row in rows[1:]] == ids
    assert sorted(p.name for p in (run / "__meta" / "raw_config").iterdir()) == [
        "agendaA.yaml", "agendaB.yaml"]
    assert "Running job agendaB.wk1 (idle) [1]" in (run / "run.log").read_text()
    assert [p.name for p in pytester.path.glob("wa_output*")] == ["wa_output"]  # one run


def test_agendas_with_the_same_name_in_different_directories_keep_apart(
        pytester: pytest.Pytester) -> None:
    for team in ("teamA", "teamB"):
        write(pytester, f"{team}/perf/agendas/cpu.yaml", IDLE)
    result = pytester.runpytest("teamA", "teamB")
    assert result.ret == pytest.ExitCode.OK
    run = pytester.path / "wa_output"
    ids = [job[0] for job in state_jobs(run)]
    assert len(ids) == len(set(ids)) == 2, ids
    assert not (run / "__failed").exists()


# --- metrics and artifacts from workloads, instruments and run hooks ------------

ARTIFACT_CONFTEST = """
    import json
    import os

    from pytest_wa import Parameter, Workload


    class Snapshot(Workload):
        name = "snapshot"
        description = "Leaves a report file and a directory of traces."

        def run(self, context):
            out = context.output_directory
            (out / "report.json").write_text(json.dumps({"score": 42.5}))
            (out / "traces").mkdir()
            for cpu in range(2):
                (out / "traces" / f"cpu{cpu}.txt").write_text(f"trace of cpu{cpu}\\n")
            (out / "extra.txt").write_text("extra\\n")

        def extract_results(self, context):
            score = json.loads((context.output_directory / "report.json").read_text())
            context.add_metric("score", score["score"], "points")
            context.add_artifact("report", "report.json", kind="data",
                                 description="The benchmark's report.")
            context.add_artifact("traces", "traces", kind="raw")
            # An absolute path inside the job's directory is fine, stored relative.
            context.add_artifact("extra", context.output_directory / "extra.txt",
                                 kind="export")


    class Escape(Workload):
        name = "escape"
        description = "Declares an artifact outside its job's directory."
        parameters = (Parameter("path", str, mandatory=True),)

        def run(self, context):
            out = context.output_directory
            (out.parent / "outside.txt").write_text("in the run, not in the job\\n")
            secret = out.parent.parent / "secret.txt"
            secret.write_text("not in the run at all\\n")
            os.symlink(secret, out / "link")

        def extract_results(self, context):
            context.add_metric("before", 1)
            context.add_artifact("bad", self.path)


    def pytest_wa_register_workloads(registry):
        registry.add(Snapshot)
        registry.add(Escape)


    def pytest_wa_job_extract_results(job):
        \"\"\"An always-on conftest instrument: a metric and a meta artifact per job.\"\"\"
        (job.output_directory / "host.txt").write_text(job.target.properties.hostname)
        job.add_artifact("host", "host.txt", kind="meta")
        job.add_metric("hook_metric", 3, "things", lower_is_better=True,
                       classifiers={"source": "conftest"})
"""


def test_file_and_directory_artifacts_are_recorded(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(ARTIFACT_CONFTEST)
    write(pytester, "agenda.yaml", "workloads:\n  - snapshot\n")
    result = pytester.runpytest("agenda.yaml")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    job_dir = pytester.path / "wa_output" / "wk1-snapshot-1"
    pod = load(job_dir / "result.json")
    artifacts = {a["name"]: a for a in pod["artifacts"]}
    assert list(artifacts) == ["host", "report", "traces", "extra"]
    assert {name: (a["path"], a["kind"], a["is_dir"]) for name, a in artifacts.items()} == {
        "host": ("host.txt", "meta", False), "report": ("report.json", "data", False),
        "traces": ("traces", "raw", True), "extra": ("extra.txt", "export", False)}
    assert artifacts["report"]["description"] == "The benchmark's report."
    for artifact in artifacts.values():
        assert (job_dir / artifact["path"]).exists()
    metrics = {m["name"]: m for m in pod["metrics"]}
    assert metrics["score"]["value"] == 42.5
    assert metrics["hook_metric"] == {
        "_pod_version": 1, "_pod_serialization_version": 1, "name": "hook_metric",
        "value": 3, "units": "things", "lower_is_better": True,
        "classifiers": {"source": "conftest"}}
    job = pytest_wa.RunOutput(pytester.path / "wa_output").job("wk1", 1)
    assert sorted(p.name for p in job.artifact_path("traces").iterdir()) == [
        "cpu0.txt", "cpu1.txt"]


def test_artifacts_outside_the_job_directory_are_refused(pytester: pytest.Pytester) -> None:
    """Refused in extract_results, so the job is PARTIAL (a failed result extraction)."""
    pytester.makeconftest(ARTIFACT_CONFTEST)
    write(pytester, "agenda.yaml", """
        workloads:
          - {id: dotdot, name: escape, params: {path: ../outside.txt}}
          - {id: absolute, name: escape, params: {path: /etc/passwd}}
          - {id: symlink, name: escape, params: {path: link}}
    """)
    result = pytester.runpytest("-v", "agenda.yaml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    run = pytester.path / "wa_output"
    for job_id, path in (("dotdot", "../outside.txt"), ("absolute", "/etc/passwd"),
                         ("symlink", "link")):
        job_dir = run / f"{job_id}-escape-1"
        message = (f"ArtifactError: artifact 'bad': {path} is outside {job_dir}; artifacts "
                   "must be inside the job's (or run's) output directory")
        result.stdout.fnmatch_lines([f"agenda.yaml::{job_id}-escape[[]1[]] PARTIAL*",
                                     f"extract_results: {message}"], consecutive=False)
        pod = load(job_dir / "result.json")
        assert pod["status"] == "PARTIAL(8)"
        assert [a["name"] for a in pod["artifacts"]] == ["host"]  # "bad" is not there
        assert [m["name"] for m in pod["metrics"]] == ["hook_metric", "before"]  # kept
        assert [e["message"] for e in pod["events"]] == [f"extract_results failed: {message}"]
    assert {status for *_, status in state_jobs(run)} == {"PARTIAL(8)"}


RUN_HOOKS = """
    def pytest_wa_run_start(run):
        run.add_event("started on " + run.target.properties.hostname)


    def pytest_wa_run_end(run):
        (run.output.directory / "summary.txt").write_text("all done\\n")
        run.add_artifact("summary", "summary.txt", kind="export")
        run.add_metric("jobs_seen", 2, "jobs", lower_is_better=False)
"""


def test_run_level_metrics_artifacts_and_events(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RUN_HOOKS)
    write(pytester, "agenda.yaml", "config: {run_name: runlevel, iterations: 2}\n" + IDLE)
    result = pytester.runpytest("agenda.yaml")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    run = pytester.path / "wa_output"
    pod = load(run / "result.json")
    assert [(m["name"], m["value"], m["units"]) for m in pod["metrics"]] == [
        ("jobs_seen", 2, "jobs")]
    assert [(a["name"], a["path"], a["kind"]) for a in pod["artifacts"]] == [
        ("runlog", "run.log", "log"), ("run_result_csv", "results.csv", "export"),
        ("summary", "summary.txt", "export"), ("statistics", "statistics.csv", "export")]
    assert [e["message"] for e in pod["events"]] == [f"started on {socket.gethostname()}"]
    assert (run / "results.csv").read_text().splitlines()[-1] == ",runlevel,,jobs_seen,2,jobs"
    assert f"Events:\n\tstarted on {socket.gethostname()}\n" in (run / "status.txt").read_text()
    loaded = pytest_wa.RunOutput(run)
    assert loaded.metric("jobs_seen").value == 2
    assert loaded.artifact_path("summary").read_text() == "all done\n"


def test_a_run_artifact_outside_the_run_is_refused_cleanly(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        def pytest_wa_run_end(run):
            run.add_artifact("passwd", "/etc/passwd")
    """)
    write(pytester, "agenda.yaml", IDLE)
    result = pytester.runpytest("agenda.yaml")
    output = result.stdout.str() + result.stderr.str()
    assert "artifact 'passwd': /etc/passwd is outside" in output
    assert "Traceback" not in output
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    result.stdout.fnmatch_lines(["*1 passed*"])


# --- regressions: bugs found while writing these tests, now fixed ---------------

def test_wa_target_alone_does_not_make_a_failed_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_target="""
        def test_uname(wa_target):
            assert wa_target.execute("uname -s", timeout=10).ok
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "run FAILED" not in result.stdout.str()
    out = pytester.path / "wa_output"
    if out.exists():
        assert load(out / "result.json")["status"] != "FAILED(9)"


def test_no_finished_job_looks_retryable_to_wa3(pytester: pytest.Pytester) -> None:
    run_statuses(pytester)
    run = pytester.path / "wa_output"
    config = load(run / "__meta" / "config.json")["run_config"]
    retried = {level.split(":")[1] for level in config["retry_on_status"]}
    for job in load(run / ".run_state.json")["jobs"]:
        if job["status"].split("(")[0] in retried:
            assert job["retries"] >= config["max_retries"], job


def test_failure_reports_stay_one_paragraph(pytester: pytest.Pytester) -> None:
    write(pytester, "agenda.yaml", 'workloads:\n  - {name: command, params: {command: "exit 3"}}\n')
    result = pytester.runpytest("agenda.yaml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "execute: WorkloadError: command exited with code 3: exit 3" in result.stdout.str()
    assert "Captured log" not in result.stdout.str()


def test_metadata_records_the_sessions_command_line(pytester: pytest.Pytester) -> None:
    write(pytester, "agenda.yaml", IDLE)
    result = pytester.runpytest("agenda.yaml", "--wa-output", "here")
    assert result.ret == pytest.ExitCode.OK
    command_line = load(pytester.path / "here" / "result.json")["metadata"]["command_line"]
    assert "agenda.yaml" in command_line
    assert "here" in command_line


def test_xdist_workers_do_not_record_each_others_jobs_as_skipped(
        pytester: pytest.Pytester) -> None:
    write(pytester, "agenda.yaml", "config: {iterations: 4}\n"
          "workloads:\n  - {name: idle, params: {duration: 0.3}}\n")
    result = pytester.runpytest("-n", "2", "agenda.yaml")
    result.assert_outcomes(passed=4)
    statuses: dict[int, set[str]] = {}
    for run in pytest_wa.discover(pytester.path):
        for job in run.jobs:
            statuses.setdefault(job.iteration, set()).add(job.status.name)
    assert statuses == {iteration: {"OK"} for iteration in (1, 2, 3, 4)}


def test_a_metric_that_is_not_a_number_is_refused_where_it_is_added(
        pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        def pytest_wa_job_extract_results(job):
            job.add_metric("fine", 1)
            job.add_metric("word", "fast")
    """)
    write(pytester, "agenda.yaml", IDLE)
    result = pytester.runpytest("agenda.yaml")
    assert "errors" not in result.parseoutcomes()
    assert "Traceback" not in result.stdout.str()
    run = pytester.path / "wa_output"
    state = state_jobs(run)[0][3]
    assert state == load(run / "wk1-idle-1" / "result.json")["status"]
    assert state != "ABORTED(10)"


# --- results.csv lists final attempts only (issue 12) --------------------------

# Iteration 2 fails its first attempt; iteration 3 fails until the file "fixed"
# exists. Each attempt records its number as a metric (extract_results runs after
# a failed execute too), so rows of an earlier attempt would show in results.csv.
ATTEMPTS_AGENDA = """
    config: {iterations: 3, max_retries: 1}
    workloads:
      - {id: m, name: idle, params: {duration: 0}}
"""
ATTEMPTS_CONFTEST = """
    from pathlib import Path

    TRIES = Path({tries!r})

    def pytest_wa_job_execute(job):
        tries = TRIES / f"tries-{{job.iteration}}"
        count = int(tries.read_text()) + 1 if tries.exists() else 1
        tries.write_text(str(count))
        if (job.iteration == 2 and count == 1) or \\
                (job.iteration == 3 and not (TRIES / "fixed").exists()):
            raise RuntimeError(f"attempt {{count}} fails")

    def pytest_wa_job_extract_results(job):
        job.add_metric("attempt", int((TRIES / f"tries-{{job.iteration}}").read_text()))

    def pytest_wa_run_end(run):
        run.add_metric("sessions", 1)
"""
CSV_HEADER_LINE = b"id,workload,iteration,metric,value,units\r\n"


def write_attempts(pytester: pytest.Pytester, agenda: str = ATTEMPTS_AGENDA) -> None:
    write(pytester, "agenda.yaml", agenda)
    write(pytester, "conftest.py", ATTEMPTS_CONFTEST.format(tries=str(pytester.path)))


def csv_job_rows(run: Path) -> list[tuple[str, int, float]]:
    """(id, iteration, attempt) of every job row of results.csv, in file order; the
    file keeps WA3's header and CRLF line ends."""
    raw = (run / "results.csv").read_bytes()
    assert raw.startswith(CSV_HEADER_LINE)
    assert raw.count(b"\n") == raw.count(b"\r\n")
    rows = list(csv.reader(io.StringIO(raw.decode())))[1:]
    return [(row[0], int(row[2]), float(row[4])) for row in rows if row[0]]


def csv_run_rows(run: Path) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO((run / "results.csv").read_text())))[1:]
    return [row for row in rows if not row[0]]


def test_results_csv_has_only_the_final_attempt_of_a_retried_job(
        pytester: pytest.Pytester) -> None:
    write_attempts(pytester)
    result = pytester.runpytest("agenda.yaml")
    result.assert_outcomes(passed=2, failed=1)
    run = pytester.path / "wa_output"
    assert csv_job_rows(run) == [("m", 1, 1), ("m", 2, 2), ("m", 3, 2)]
    output = pytest_wa.RunOutput(run)
    for job in output.jobs:  # each row is the metric of the job's final result.json
        assert csv_job_rows(run)[job.iteration - 1][2] == job.metric("attempt").value
        earlier = output.failed_attempts(job)
        assert [a.metric("attempt").value for a in earlier] == list(range(1, job.retries + 1))
    assert csv_run_rows(run) == [["", "", "", "sessions", "1", ""]]


def test_a_resumed_run_has_each_jobs_rows_once(pytester: pytest.Pytester) -> None:
    """No retries here: iterations 2 and 3 fail, --wa-resume runs them again."""
    write_attempts(pytester, ATTEMPTS_AGENDA.replace("max_retries: 1", "max_retries: 0"))
    pytester.runpytest("agenda.yaml").assert_outcomes(passed=1, failed=2)
    run = pytester.path / "wa_output"
    first = (run / "results.csv").read_bytes().splitlines(keepends=True)
    assert csv_job_rows(run) == [("m", 1, 1), ("m", 2, 1), ("m", 3, 1)]
    (pytester.path / "fixed").touch()
    result = pytester.runpytest("agenda.yaml", "--wa-resume", "wa_output")
    result.assert_outcomes(passed=2, deselected=1)
    assert csv_job_rows(run) == [("m", 1, 1), ("m", 2, 2), ("m", 3, 2)]
    again = (run / "results.csv").read_bytes().splitlines(keepends=True)
    assert again[:2] == first[:2]  # the header and the job not run again, byte for byte
    output = pytest_wa.RunOutput(run)
    assert [job.metric("attempt").value for job in output.jobs] == [1, 2, 2]
    assert len(csv_run_rows(run)) == len(output.metrics) == 2  # one per session, once each
