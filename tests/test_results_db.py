"""--wa-db and the ``db`` setting with SQLite, as users run them: every job stored as it
ends, many sessions and a pool into one file, SIGKILL mid-run, ``python -m pytest_wa
db upload/list/export``, and ``pytest_wa.results`` queries."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_output_sqlite import query, session

from pytest_wa import RunOutput, results

AGENDA = """
config:
  run_name: nightly
  augmentations: [execution_time]
workloads:
  - id: a
    name: command
    iterations: 2
    classifiers: {tier: fast}
    params: {command: "echo n=3 m=5", metrics: {n: 'n=(\\d+)', m: 'm=(\\d+)'}}
  - id: b
    name: command
    params: {command: "echo n=4 m=6", metrics: {n: 'n=(\\d+)', m: 'm=(\\d+)'}}
"""
LAB = "devices:\n" + "".join(f"  {name}: {{kind: local}}\n" for name in "abcd")


def stored(path: Path) -> list[tuple]:
    """(run uuid, job id, iteration, metric, value) of every job metric, sorted."""
    return sorted(query(path, "SELECT r.run_uuid, j.job_id, j.iterations, m.name, m.value "
                              "FROM Metrics m JOIN Jobs j ON m.job_oid = j.oid "
                              "JOIN Runs r ON j.run_oid = r.oid"))


def on_disk(directory: Path) -> list[tuple]:
    run = RunOutput(directory)
    return sorted((run.run_info.uuid, job.id, job.iteration, m.name, float(m.value))
                  for job in run.jobs for m in job.metrics)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_wa", "db", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_every_job_is_stored_as_on_disk(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA)
    session(pytester, "--wa-db", "results.sqlite").assert_outcomes(passed=3)
    db = pytester.path / "results.sqlite"
    assert stored(db) == on_disk(pytester.path / "wa_output")
    assert query(db, "SELECT schema_major, schema_minor FROM DatabaseMeta") == [(1, 6)]
    [(name, status, end)] = query(db, "SELECT run_name, status, end_time FROM Runs")
    assert (name, status) == ("nightly", "OK(7)") and end is not None
    assert query(db, "SELECT DISTINCT c.key, c.value FROM Classifiers c JOIN Jobs j "
                     "ON c.job_oid = j.oid WHERE j.job_id = 'a'") == [("tier", "fast")]
    params = query(db, "SELECT name, value, type FROM Parameters WHERE name = 'command'")
    assert ("command", '"echo n=4 m=6"', "workload") in params
    assert statistics_rows(db) == statistics_file(pytester.path / "wa_output")


def statistics_rows(db: Path | str) -> list[tuple]:
    """The Statistics table through ``results.statistics``, as statistics.csv's cells."""
    with results.connect(str(db)) as found:
        return sorted(tuple(_cell(row[column]) for column in ("job_id", "label", "metric",
                                                              "n", "mean", "ci_high"))
                      for row in found.statistics())


def statistics_file(directory: Path) -> list[tuple]:
    with (directory / "statistics.csv").open() as file:
        return sorted(tuple(_cell(row[column]) for column in ("id", "label", "metric", "n",
                                                              "mean", "ci_high"))
                      for row in csv.DictReader(file))


def _cell(value: object) -> object:
    """A number as a float (the CSV has text), an empty cell as None."""
    if value in ("", None):
        return None
    try:
        return float(str(value))
    except ValueError:
        return value


def test_the_db_setting_and_a_second_session_add_a_run(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA.replace("config:\n", "config:\n  db: all.sqlite\n"))
    session(pytester).assert_outcomes(passed=3)
    session(pytester, "--wa-output", "second").assert_outcomes(passed=3)
    db = pytester.path / "all.sqlite"
    assert len(query(db, "SELECT oid FROM Runs")) == 2
    assert stored(db) == sorted(on_disk(pytester.path / "wa_output")
                                + on_disk(pytester.path / "second"))


def pool_and_two_sessions(pytester: pytest.Pytester, database: str, iterations: int
                          ) -> tuple[list[tuple], list[str]]:
    """A pool of four devices and two more sessions, all at once, into ``database``: what
    their run directories hold (as ``on_disk``) once all three succeeded, and what they
    printed."""
    pytester.makefile(".yaml", agenda=AGENDA.replace("iterations: 2",
                                                     f"iterations: {iterations}"), lab=LAB)
    common = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "agenda.yaml",
              "--wa-db", database, "-q"]
    runs = [subprocess.Popen([*common, "-n", "4", "--wa-config=lab.yaml",
                              "--wa-device=a,b,c,d", "--wa-output=pool"], cwd=pytester.path,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)]
    runs += [subprocess.Popen([*common, f"--wa-output=single{n}"], cwd=pytester.path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for n in (1, 2)]
    outputs = [run.communicate(timeout=300)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    return sorted(sum((on_disk(pytester.path / name)
                       for name in ("pool", "single1", "single2")), [])), outputs


def test_a_pool_and_two_sessions_at_once_store_every_job_once(pytester: pytest.Pytester
                                                               ) -> None:
    """Four writers: a pool of four devices, and two more sessions started beside it."""
    expected, _ = pool_and_two_sessions(pytester, "shared.sqlite", iterations=12)
    db = pytester.path / "shared.sqlite"
    assert len(expected) == 3 * 13 * 3  # n, m and execution_time
    assert stored(db) == expected
    assert query(db, "SELECT count(*), count(DISTINCT oid) FROM Jobs") == [(39, 39)]
    devices = {json.loads(m)["device"] for (m,) in query(
        db, "SELECT j.metadata FROM Jobs j JOIN Runs r ON j.run_oid = r.oid "
            "WHERE r.basepath LIKE '%pool'")}
    # which devices got jobs is xdist's business (a slow worker may get none)
    assert devices and devices <= {"a", "b", "c", "d"}
    assert query(db, "SELECT DISTINCT status FROM Runs") == [("OK(7)",)]


KILL_IN_A2 = """
    import os, signal

    def pytest_wa_job_execute(job):
        if (job.spec.id, job.iteration) == ("a", 2):
            os.kill(os.getpid(), signal.SIGKILL)
"""


def test_sigkill_keeps_finished_jobs_and_upload_catches_up(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(KILL_IN_A2)
    pytester.makefile(".yaml", agenda=AGENDA)
    assert session(pytester, "--wa-db", "results.sqlite").ret == -9
    db = pytester.path / "results.sqlite"
    output = pytester.path / "wa_output"
    assert [row[1:] for row in stored(db) if row[3] != "execution_time"] == [
        ("a", 1, "m", 5.0), ("a", 1, "n", 3.0), ("b", 1, "m", 6.0), ("b", 1, "n", 4.0)]
    assert query(db, "SELECT status, end_time FROM Runs") == [("RUNNING(6)", None)]
    done = cli("--db", "results.sqlite", "upload", str(output), cwd=pytester.path)
    assert done.returncode == 0, done.stderr
    assert "(2 jobs)" in done.stdout
    assert stored(db) == on_disk(output)
    again = cli("--db", "results.sqlite", "upload", str(output), cwd=pytester.path)
    assert again.returncode == 0 and stored(db) == on_disk(output)  # idempotent


def test_upload_list_export_round_trip(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA)
    session(pytester).assert_outcomes(passed=3)
    output = pytester.path / "wa_output"
    for _ in range(2):  # a second upload replaces the run's rows, statistics included
        uploaded = cli("--db", "kept.sqlite", "upload", str(pytester.path), cwd=pytester.path)
        assert uploaded.returncode == 0, uploaded.stderr
    assert statistics_rows(pytester.path / "kept.sqlite") == statistics_file(output)
    uuid = RunOutput(output).run_info.uuid
    assert uuid is not None
    listed = cli("--db", "kept.sqlite", "list", cwd=pytester.path)
    assert uuid in listed.stdout and "nightly" in listed.stdout
    exported = cli("--db", "kept.sqlite", "export", uuid, "copy", cwd=pytester.path)
    assert exported.returncode == 0, exported.stderr
    copy, original = RunOutput(pytester.path / "copy"), RunOutput(output)
    assert on_disk(pytester.path / "copy") == on_disk(output)
    assert [(j.id, j.iteration, j.status, j.classifiers) for j in copy.jobs] == \
        [(j.id, j.iteration, j.status, j.classifiers) for j in original.jobs]
    job = original.jobs[0]
    for artifact in job.artifacts:
        assert copy.jobs[0].artifact_path(artifact.name).read_bytes() == \
            job.artifact_path(artifact.name).read_bytes()
    refused = cli("--db", "kept.sqlite", "export", uuid, "copy", cwd=pytester.path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    missing = cli("--db", "kept.sqlite", "export", "0" * 8, "other", cwd=pytester.path)
    assert missing.returncode == 2 and f"no run {'0' * 8}" in missing.stderr


def test_a_database_of_another_schema_is_refused_before_any_job(pytester: pytest.Pytester
                                                                ) -> None:
    pytester.makefile(".yaml", agenda=AGENDA)
    session(pytester, "--wa-db", "old.sqlite").assert_outcomes(passed=3)
    query_db = sqlite3.connect(pytester.path / "old.sqlite")
    query_db.execute("UPDATE DatabaseMeta SET schema_minor = 5")
    query_db.commit()
    query_db.close()
    result = session(pytester, "--wa-db", "old.sqlite", "--wa-output", "again")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*results database (--wa-db)*schema version 1.5*"
                                 "never changes*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (pytester.path / "again").exists() or not list(
        (pytester.path / "again").glob("a-*"))
    assert query(pytester.path / "old.sqlite", "SELECT schema_minor FROM DatabaseMeta") == \
        [(5,)]


def test_a_database_without_the_statistics_table_still_takes_runs(pytester: pytest.Pytester
                                                                   ) -> None:
    """A database WA3 made has no Statistics table: pytest-wa never adds one."""
    pytester.makefile(".yaml", agenda=AGENDA)
    results.connect(str(pytester.path / "wa3.sqlite")).close()
    with sqlite3.connect(pytester.path / "wa3.sqlite") as db:
        db.execute("DROP TABLE Statistics")
    session(pytester, "--wa-db", "wa3.sqlite").assert_outcomes(passed=3)
    assert stored(pytester.path / "wa3.sqlite") == on_disk(pytester.path / "wa_output")
    assert statistics_rows(pytester.path / "wa3.sqlite") == []
    assert not query(pytester.path / "wa3.sqlite",
                     "SELECT name FROM sqlite_master WHERE name = 'Statistics'")


def test_query_helpers_filter_and_make_a_dataframe(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA, lab=LAB)
    session(pytester, "--wa-db", "q.sqlite", "--wa-config=lab.yaml",
            "--wa-device=c").assert_outcomes(passed=3)
    session(pytester, "--wa-db", "q.sqlite", "--wa-config=lab.yaml", "--wa-device=d",
            "--wa-output=second").assert_outcomes(passed=3)
    with results.connect(str(pytester.path / "q.sqlite")) as db:
        runs = db.runs()
        assert [run["jobs"] for run in runs] == [3, 3]
        assert runs[0]["start_time"] < runs[1]["start_time"]
        assert len(db.jobs()) == 6 and {j["device"] for j in db.jobs()} == {"c", "d"}
        fast = db.metrics(metric="n", device="d", classifiers={"tier": "fast"})
        assert [(row["job_id"], row["iteration"], row["value"]) for row in fast] == [
            ("a", 1, 3.0), ("a", 2, 3.0)]
        assert db.metrics(metric="n", since=runs[1]["start_time"], workload="command") \
            == db.metrics(metric="n", run=runs[1]["uuid"])
        assert db.metrics(until=runs[0]["start_time"].replace(year=2000)) == []
        frame = db.dataframe(metric="m")
        assert sorted(frame["value"]) == [5.0] * 4 + [6.0] * 2
        assert set(frame.columns) >= {"run_uuid", "job_id", "device", "tier", "units"}


def test_docs_query_example(pytester: pytest.Pytester) -> None:
    """The worked example of docs/results.md: its agenda, then its query, which prints
    exactly the output shown there."""
    text = (Path(__file__).parent.parent / "docs" / "results.md").read_text()
    agenda_start = text.index("<!-- run name=stored.yaml -->")
    agenda_text = text[text.index("```yaml\n", agenda_start) + 8:]
    pytester.makefile(".yaml", stored=agenda_text[:agenda_text.index("```")])
    start = text.index("<!-- query-example -->")
    code = text[text.index("```python\n", start) + 10:]
    code = code[:code.index("```")]
    shown = text[text.index("```text\n", start) + 8:]
    shown = shown[:shown.index("```")]
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "stored.yaml").assert_outcomes(
        passed=2)
    done = subprocess.run([sys.executable, "-c", code], cwd=pytester.path, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == shown


#: ``db upload`` killed (SIGKILL) inside its transaction, once the run's own rows are in
#: and before its jobs are: what the database then holds is checked.
KILLED_UPLOAD = """
import os, signal, sys
from pytest_wa.store import base
calls = []

def patch(cls):
    original = cls._insert_rows
    def insert_rows(self, cursor, rows):
        calls.append(rows)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, cursor, rows)
    cls._insert_rows = insert_rows

patch(base.Store)
if sys.argv[1].startswith("postgresql://"):
    from pytest_wa.store import postgres
    patch(postgres.PostgresStore)
from pytest_wa.store.cli import main
main(["--db", sys.argv[1], "upload", sys.argv[2]])
"""


def check_killed_upload(pytester: pytest.Pytester, database: str) -> None:
    """An earlier run stays whole, the killed upload leaves nothing of its run, and
    uploading again stores it whole."""
    pytester.makefile(".yaml", agenda=AGENDA)
    session(pytester, "--wa-output", "earlier").assert_outcomes(passed=3)
    session(pytester).assert_outcomes(passed=3)
    assert cli("--db", database, "upload", "earlier", cwd=pytester.path).returncode == 0
    killed = subprocess.run([sys.executable, "-c", KILLED_UPLOAD, database, "wa_output"],
                            cwd=pytester.path, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    earlier = on_disk(pytester.path / "earlier")
    with results.connect(database) as db:
        assert [run["uuid"] for run in db.runs()] == [earlier[0][0]]
        assert sorted((r["run_uuid"], r["job_id"], r["iteration"], r["metric"], r["value"])
                      for r in db.metrics()) == earlier
    assert cli("--db", database, "upload", "wa_output", cwd=pytester.path).returncode == 0
    with results.connect(database) as db:
        assert sorted((r["run_uuid"], r["job_id"], r["iteration"], r["metric"], r["value"])
                      for r in db.metrics()) == sorted(earlier + on_disk(
                          pytester.path / "wa_output"))


def test_sigkill_during_an_upload_leaves_none_of_its_run(pytester: pytest.Pytester) -> None:
    check_killed_upload(pytester, str(pytester.path / "kept.sqlite"))
