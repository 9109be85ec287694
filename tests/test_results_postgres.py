"""--wa-db postgresql://... against a real PostgreSQL (Debian's, started here on a private
port and data directory): WA3's own reader loads the run back; the server down at the start
(a clear error before any job) and stopped mid-run (nothing lost on disk, upload catches
up); the password never shows; pool workers and sessions write at once."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_results_db import (
    AGENDA,
    check_killed_upload,
    cli,
    on_disk,
    pool_and_two_sessions,
    session,
    statistics_file,
    statistics_rows,
)
from test_wa3_compat import wa3_python

from pytest_wa import results
from pytest_wa.testing.postgres import PASSWORD, PostgresServer, binaries

pytestmark = pytest.mark.skipif(binaries() is None and not os.environ.get("CI"),
                                reason="PostgreSQL is not installed (apt install postgresql)")


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    started = PostgresServer().start()
    try:
        yield started
    finally:
        started.remove()


@pytest.fixture
def url(server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A new empty database for the test."""
    name = "t_" + request.node.name.lower()[-40:].replace("[", "_").replace("]", "_")
    return server.create_database(name)


def stored(url: str) -> list[tuple]:
    with results.connect(url) as db:
        return sorted((row["run_uuid"], row["job_id"], row["iteration"], row["metric"],
                       row["value"]) for row in db.metrics())


def test_a_run_stored_live_is_loaded_by_wa3s_reader(pytester: pytest.Pytester, url: str
                                                    ) -> None:
    pytester.makefile(".yaml", agenda=AGENDA)
    result = session(pytester, "--wa-db", url)
    result.assert_outcomes(passed=3)
    output = pytester.path / "wa_output"
    assert stored(url) == on_disk(output)
    assert statistics_rows(url) == statistics_file(output)
    everything = result.stdout.str() + result.stderr.str() + "".join(
        p.read_text(errors="replace") for p in output.rglob("*") if p.is_file())
    assert PASSWORD not in everything
    python, why = wa3_python()
    if python is None:
        pytest.skip(why)
    uuid = json.loads((output / "__meta" / "run_info.json").read_text())["uuid"]
    read = subprocess.run([python, str(Path(__file__).parent / "wa3_read.py"), url, uuid],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "WA_USER_DIRECTORY": str(pytester.path / "wa3")})
    seen = json.loads(read.stdout)
    assert seen["status"] == "OK" and not seen["warnings"] and not seen["problems"], seen
    # WA3's reader matches a job's rows by id only: iterations of "a" all read as a's first
    assert [(job["id"], job["iteration"], job["status"]) for job in seen["jobs"]] == [
        ("a", 1, "OK"), ("b", 1, "OK"), ("a", 2, "OK")]
    values = {m["name"]: m["value"] for m in seen["jobs"][1]["metrics"]}
    assert (values["n"], values["m"]) == (4, 6)


def test_the_server_down_at_start_stops_the_run_before_any_job(pytester: pytest.Pytester,
                                                               server: PostgresServer) -> None:
    pytester.makefile(".yaml", agenda=AGENDA)
    dead = server.url("wa").replace(f":{server.port}/", ":1/")
    result = session(pytester, "--wa-db", dead)
    assert result.ret != 0
    text = result.stdout.str() + result.stderr.str()
    assert "results database (--wa-db): cannot use the results database " \
           "postgresql://wa@127.0.0.1:1/wa" in text
    assert PASSWORD not in text and "Traceback" not in text
    assert not list(pytester.path.glob("wa_output/a-*"))
    wrong = server.url("wa").replace(PASSWORD, "not-" + PASSWORD)
    refused = session(pytester, "--wa-db", wrong)
    assert "password authentication failed" in refused.stderr.str()
    assert PASSWORD not in refused.stdout.str() + refused.stderr.str()


STOP_AFTER_FIRST_JOB = """
    import os, signal

    stopped = []

    def pytest_wa_job_end(job):
        if not stopped and job.iteration == 1 and job.spec.id == "b":
            stopped.append(True)
            os.kill(int(os.environ["SERVER_PID"]), signal.SIGKILL)
"""


def test_the_server_lost_mid_run_loses_nothing_on_disk(pytester: pytest.Pytester,
                                                       tmp_path: Path) -> None:
    own = PostgresServer().start()  # killed by the run: not the shared server
    try:
        url = own.create_database("wa")
        assert own.process is not None
        pid = subprocess.run(["pgrep", "-o", "-f", f"postgres -D {own.data}"],
                             capture_output=True, text=True).stdout.split()
        pytester.makeconftest(STOP_AFTER_FIRST_JOB)
        pytester.makefile(".yaml", agenda=AGENDA)
        os.environ["SERVER_PID"] = pid[0]
        try:
            result = session(pytester, "--wa-db", url)
        finally:
            del os.environ["SERVER_PID"]
        result.assert_outcomes(passed=3)
        text = result.stdout.str() + result.stderr.str()
        assert "results database failed, the run goes on without it" in text
        assert PASSWORD not in text
        output = pytester.path / "wa_output"
        assert len({(r[1], r[2]) for r in on_disk(output)}) == 3
        own.stop()
        own.start()
        assert stored(url) != on_disk(output)  # the jobs after the loss are missing
        done = cli("--db", url, "upload", str(output), cwd=pytester.path)
        assert done.returncode == 0, done.stderr
        assert stored(url) == on_disk(output)
    finally:
        own.remove()


def test_a_pool_and_two_sessions_write_one_database(pytester: pytest.Pytester, url: str
                                                    ) -> None:
    expected, outputs = pool_and_two_sessions(pytester, url, iterations=8)
    assert not any(PASSWORD in text for text in outputs)
    assert stored(url) == expected
    with results.connect(url) as db:
        assert [run["jobs"] for run in db.runs()] == [9, 9, 9]
        assert len(db.jobs()) == 27


def test_wa3s_postgres_processor_by_name(pytester: pytest.Pytester, server: PostgresServer,
                                         url: str) -> None:
    """A WA3 agenda's ``postgres`` processor and its parameters; the password is masked
    in config.json and the raw agenda copy, and appears nowhere else."""
    dbname = url.rsplit("/", 1)[1]
    wa3_agenda = AGENDA.replace("augmentations: [execution_time]", (
        "augmentations: [execution_time, postgres]\n"
        f"  postgres: {{host: 127.0.0.1, port: '{server.port}', dbname: {dbname}, "
        f"username: wa, password: {PASSWORD}}}"))
    pytester.makefile(".yaml", agenda=wa3_agenda)
    result = session(pytester)
    result.assert_outcomes(passed=3)
    output = pytester.path / "wa_output"
    assert stored(url) == on_disk(output)
    config = json.loads((output / "__meta" / "config.json").read_text())
    assert config["run_config"]["augmentations"]["postgres"]["password"] == "********"
    everything = result.stdout.str() + result.stderr.str() + "".join(
        p.read_text(errors="replace") for p in output.rglob("*") if p.is_file())
    assert PASSWORD not in everything
    down = wa3_agenda.replace(f"port: '{server.port}'", "port: '1'")
    pytester.makefile(".yaml", agenda=down)
    refused = session(pytester, "--wa-output", "down")
    assert refused.ret != 0
    refused.stderr.fnmatch_lines(["*results database (postgres processor, *agenda.yaml*"
                                  "cannot use the results database postgresql://wa@127.0.0.1:1/*"])
    assert PASSWORD not in refused.stdout.str() + refused.stderr.str()


def test_sigkill_during_an_upload_leaves_none_of_its_run(pytester: pytest.Pytester, url: str
                                                         ) -> None:
    check_killed_upload(pytester, url)
