"""The ``sqlite`` output processor, run as users run agendas: WA3's tables, filled job by
job; what a SIGKILL leaves, a resumed run, two sessions sharing one file, and a file of
another schema version (refused before any job runs)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
from test_wa3_compat import wa3_python

from pytest_wa import RunOutput

AGENDA = """
config:
  augmentations: [sqlite]
  sqlite: {database: DATABASE}
workloads:
  - id: a
    name: command
    iterations: 2
    params: {command: "echo n=3 m=5", metrics: {n: 'n=(\\d+)', m: 'm=(\\d+)'}}
  - id: b
    name: command
    params: {command: "echo n=4 m=6", metrics: {n: 'n=(\\d+)', m: 'm=(\\d+)'}}
"""
#: WA3 3.3.1's columns (wa/output_processors/sqlite.py, SCHEMA_VERSION 0.0.2).
WA3_COLUMNS = {
    "runs": [("uuid", "text"), ("start_time", "datetime"), ("end_time", "datetime"),
             ("duration", "integer")],
    "workload_specs": [("id", "text"), ("run_oid", "text"), ("number_of_iterations", "integer"),
                       ("label", "text"), ("workload_name", "text"),
                       ("boot_parameters", "text"), ("runtime_parameters", "text"),
                       ("workload_parameters", "text")],
    "metrics": [("spec_oid", "int"), ("iteration", "integer"), ("metric", "text"),
                ("value", "text"), ("units", "text"), ("lower_is_better", "integer")],
    "__meta": [("schema_version", "text")],
    # the view's, as SQLite derives them from the tables
    "results": [("run_uuid", "text"), ("spec_id", "text"), ("workload", "text"),
                ("iteration", "integer"), ("metric", "text"), ("value", "text"),
                ("units", "text"), ("lower_is_better", "integer")],
}
#: Kills the session (SIGKILL) in job a's second iteration, unless ``again`` exists.
KILL_IN_A2 = """
    import os, signal

    def pytest_wa_job_execute(job):
        if (job.spec.id, job.iteration) == ("a", 2) and not os.path.exists("again"):
            os.kill(os.getpid(), signal.SIGKILL)
"""


def agenda(pytester: pytest.Pytester, database: str = "results.sqlite") -> None:
    pytester.makefile(".yaml", agenda=AGENDA.replace("DATABASE", database))


def session(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml", *args)


def query(path: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def stored(path: Path) -> list[tuple]:
    """Every job metric as (run uuid, spec id, iteration, metric, value), sorted."""
    return sorted(query(path, "SELECT run_uuid, spec_id, iteration, metric, value "
                              "FROM results"))


def columns(path: Path) -> dict[str, list[tuple[str, str]]]:
    return {table: [(row[1], row[2].lower()) for row in query(path, f"PRAGMA table_info({table})")]
            for table in WA3_COLUMNS}


def test_rows_match_result_json(pytester: pytest.Pytester) -> None:
    agenda(pytester)
    session(pytester).assert_outcomes(passed=3)
    db = pytester.path / "results.sqlite"
    run = RunOutput(pytester.path / "wa_output")
    uuid = run.run_info.uuid
    assert columns(db) == WA3_COLUMNS
    assert query(db, "SELECT schema_version FROM __meta") == [("0.0.2",)]
    assert stored(db) == sorted((uuid, job.id, job.iteration, m.name, str(m.value))
                                for job in run.jobs for m in job.metrics)
    [(found, start, end, duration)] = query(db, "SELECT * FROM runs")
    assert run.run_info.start_time and run.run_info.end_time
    assert (found, start, end) == (uuid, run.run_info.start_time.replace(tzinfo=None)
                                   .isoformat(), run.run_info.end_time.replace(tzinfo=None)
                                   .isoformat())
    assert duration == pytest.approx(run.run_info.duration)
    specs = query(db, "SELECT id, number_of_iterations, label, workload_name, "
                      "workload_parameters FROM workload_specs ORDER BY id")
    assert [s[:4] for s in specs] == [("a", 2, "command", "command"),
                                      ("b", 1, "command", "command")]
    assert '"command": "echo n=3 m=5"' in specs[0][4]
    assert query(db, "SELECT DISTINCT units, lower_is_better FROM metrics") == [(None, 0)]


def test_default_file_is_in_the_run_directory(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=AGENDA.replace("  sqlite: {database: DATABASE}\n", ""))
    session(pytester).assert_outcomes(passed=3)
    output = pytester.path / "wa_output"
    assert len(stored(output / "results.sqlite")) == 6
    artifacts = [(a.name, a.path, a.kind) for a in RunOutput(output).artifacts]
    assert ("sqlitedb", "results.sqlite", "export") in artifacts


def test_sigkill_keeps_the_finished_jobs_whole(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(KILL_IN_A2)
    agenda(pytester)
    assert session(pytester).ret == -9
    db = pytester.path / "results.sqlite"
    assert [row[1:] for row in stored(db)] == [
        ("a", 1, "m", "5"), ("a", 1, "n", "3"), ("b", 1, "m", "6"), ("b", 1, "n", "4")]
    assert query(db, "SELECT end_time FROM runs") == [(None,)]  # the run never ended


def test_sigkill_inside_a_job_write_leaves_none_of_it(pytester: pytest.Pytester) -> None:
    """Killed between two metrics of one job's transaction: that job is absent."""
    pytester.makeconftest("""
        import os, signal
        from pytest_wa.processors import sqlitedb

        original = sqlitedb.write_job

        def write_job(path, uuid, spec, iteration, metrics):
            def rows():
                for number, row in enumerate(metrics):
                    if number == 1 and spec["id"] == "b":
                        os.kill(os.getpid(), signal.SIGKILL)
                    yield row
            original(path, uuid, spec, iteration, rows())

        sqlitedb.write_job = write_job
    """)
    agenda(pytester)
    assert session(pytester).ret == -9
    assert [row[1:3] for row in stored(pytester.path / "results.sqlite")] == [
        ("a", 1), ("a", 1)]


def test_resume_adds_the_rest_once(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(KILL_IN_A2)
    agenda(pytester)
    assert session(pytester).ret == -9
    (pytester.path / "again").touch()
    session(pytester, "--wa-resume", "wa_output").assert_outcomes(passed=1)
    db = pytester.path / "results.sqlite"
    uuid = RunOutput(pytester.path / "wa_output").run_info.uuid
    assert query(db, "SELECT uuid FROM runs WHERE end_time IS NOT NULL") == [(uuid,)]
    assert query(db, "SELECT count(*) FROM runs") == [(1,)]
    assert sorted(query(db, "SELECT id FROM workload_specs")) == [("a",), ("b",)]
    assert [row[1:3] for row in stored(db)] == [
        ("a", 1), ("a", 1), ("a", 2), ("a", 2), ("b", 1), ("b", 1)]


def test_two_sessions_into_one_file(pytester: pytest.Pytester) -> None:
    """Two sessions at once, each with its own run directory, one database."""
    db = pytester.path / "shared.sqlite"
    jobs = "".join(f"""
      - id: j{n}
        name: command
        params: {{command: "echo n={n}", metrics: {{n: 'n=(\\d+)'}}}}""" for n in range(16))
    text = f"config:\n  augmentations: [sqlite]\n  sqlite: {{database: {db}}}\n" \
           f"workloads:{textwrap.dedent(jobs)}\n"
    sessions = []
    for name in ("one", "two"):
        (pytester.path / name).mkdir()
        (pytester.path / name / "agenda.yaml").write_text(text)
        sessions.append(subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "agenda.yaml"],
            cwd=pytester.path / name, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}))
    for process in sessions:
        out = process.communicate(timeout=300)[0].decode()
        assert process.returncode == 0, out
    uuids = {RunOutput(pytester.path / name / "wa_output").run_info.uuid
             for name in ("one", "two")}
    assert {row[0] for row in query(db, "SELECT uuid FROM runs")} == uuids
    assert sorted(row[:3] for row in stored(db)) == sorted(
        (uuid, f"j{n}", 1) for uuid in uuids for n in range(16))


def test_another_schema_version_is_refused_before_any_job(pytester: pytest.Pytester) -> None:
    db = pytester.path / "old.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE __meta (schema_version text)")
    conn.execute("INSERT INTO __meta VALUES ('0.0.1')")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    agenda(pytester, str(db))
    result = session(pytester)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*agenda.yaml:*output processor 'sqlite': schema version in "
                                 "*old.sqlite (0.0.1) does not match*(0.0.2)*"])
    assert not (pytester.path / "wa_output").exists()
    assert db.read_bytes() == before


def test_a_file_that_is_not_a_results_database_is_refused(pytester: pytest.Pytester) -> None:
    db = pytester.path / "other.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (text text)")
    conn.close()
    agenda(pytester, str(db))
    result = session(pytester)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*does not appear to be a WA results database*"])
    assert not (pytester.path / "wa_output").exists()


def test_a_missing_directory_is_refused_before_any_job(pytester: pytest.Pytester) -> None:
    agenda(pytester, str(pytester.path / "nowhere" / "results.sqlite"))
    result = session(pytester)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*output processor 'sqlite': the directory of "
                                 "*nowhere/results.sqlite does not exist*"])
    assert not (pytester.path / "wa_output").exists()


def test_overwrite_replaces_the_file(pytester: pytest.Pytester) -> None:
    db = pytester.path / "old.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE notes (text text)").connection.close()
    pytester.makefile(".yaml", agenda=AGENDA.replace(
        "{database: DATABASE}", f"{{database: {db}, overwrite: true}}"))
    session(pytester).assert_outcomes(passed=3)
    assert len(stored(db)) == 6
    assert "notes" not in {row[0] for row in query(db, "SELECT name FROM sqlite_master")}


def test_a_database_wa3_made_takes_our_runs(pytester: pytest.Pytester) -> None:
    """WA3 has no reader for its SQLite files; its own CREATE TABLE statements make the
    file here, and our runs go into it beside the columns WA3 declared."""
    python, why = wa3_python()
    if python is None:
        pytest.skip(why)
    db = pytester.path / "wa3.sqlite"
    make = ("import sqlite3, sys; from wa.output_processors.sqlite import SCHEMA\n"
            "conn = sqlite3.connect(sys.argv[1])\n"
            "[conn.execute(s) for s in SCHEMA]; conn.commit()")
    subprocess.run([python, "-c", make, str(db)], check=True, timeout=120,
                   env={**os.environ, "WA_USER_DIRECTORY": str(pytester.path / ".wa")})
    assert columns(db) == WA3_COLUMNS
    agenda(pytester, str(db))
    session(pytester).assert_outcomes(passed=3)
    assert len(stored(db)) == 6


def test_the_archived_run_directory_holds_the_whole_database(pytester: pytest.Pytester,
                                                              tmp_path: Path) -> None:
    """With ``targz``, the database in the run directory is complete in one file."""
    pytester.makefile(".yaml", agenda=AGENDA.replace(
        "  sqlite: {database: DATABASE}\n", "").replace("[sqlite]", "[sqlite, targz]"))
    session(pytester).assert_outcomes(passed=3)
    output = pytester.path / "wa_output"
    assert sorted(p.name for p in output.glob("results.sqlite*")) == ["results.sqlite"]
    with tarfile.open(pytester.path / "wa_output.tar.gz") as tar:
        tar.extract("wa_output/results.sqlite", tmp_path, filter="data")
    assert len(stored(tmp_path / "wa_output" / "results.sqlite")) == 6


def test_a_retried_job_keeps_its_last_attempt_only(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import os

        def pytest_wa_job_extract_results(job):
            if job.spec.id != "b":
                return
            job.add_metric("attempt", 2 if os.path.exists("tried") else 1)
            if not os.path.exists("tried"):
                open("tried", "w").close()
                raise RuntimeError("flaky")
    """)
    agenda(pytester)
    session(pytester, "--wa-max-retries", "1").assert_outcomes(passed=3)
    rows = [row[1:] for row in stored(pytester.path / "results.sqlite")
            if row[1] == "b"]
    assert rows == [("b", 1, "attempt", "2"), ("b", 1, "m", "6"), ("b", 1, "n", "4")]


def test_resume_into_the_run_directory_database(pytester: pytest.Pytester) -> None:
    """The default file, in the run directory: a resumed run adds to it, and the
    file stays one ``sqlitedb`` artifact."""
    pytester.makeconftest(KILL_IN_A2)
    pytester.makefile(".yaml", agenda=AGENDA.replace("  sqlite: {database: DATABASE}\n", ""))
    assert session(pytester).ret == -9
    (pytester.path / "again").touch()
    session(pytester, "--wa-resume", "wa_output").assert_outcomes(passed=1)
    output = pytester.path / "wa_output"
    assert len(stored(output / "results.sqlite")) == 6
    names = [a.name for a in RunOutput(output).artifacts]
    assert names.count("sqlitedb") == 1
