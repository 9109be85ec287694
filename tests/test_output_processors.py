"""WA3's output processors (csv, status, targz) and processors of one's own, run as a user
runs them: agendas naming them in ``augmentations``, files and terminal text checked."""

from __future__ import annotations

import json
import os
import tarfile
import textwrap

import pytest
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa import RunOutput

TWO_JOBS = """
config:
  augmentations: [csv]
  csv: {extra_columns: [speed, missing]}
workloads:
  - id: a
    name: command
    iterations: 2
    classifiers: {speed: fast}
    params: {command: "echo n=3", metrics: {n: 'n=(\\d+)'}}
  - id: b
    name: command
    params: {command: "echo n=4", metrics: {n: 'n=(\\d+)'}}
"""


def run(pytester: pytest.Pytester, agenda: str, *args: str) -> pytest.RunResult:
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    return pytester.runpytest("-p", "no:cacheprovider", "agenda.yaml", *args)


def lines(path) -> list[str]:
    return path.read_bytes().decode().split("\r\n")


def test_csv_extra_columns(pytester: pytest.Pytester, subtests: pytest.Subtests) -> None:
    run(pytester, TWO_JOBS).assert_outcomes(passed=3)
    output = pytester.path / "wa_output"
    assert lines(output / "results.csv") == [
        "id,workload,iteration,metric,speed,missing,value,units",
        "a,command,1,n,fast,,3,", "b,command,1,n,,,4,", "a,command,2,n,fast,,3,", ""]
    augmentations = json.loads((output / "__meta" / "config.json").read_text())[
        "run_config"]["augmentations"]
    assert augmentations == {"csv": {"use_all_classifiers": False,
                                     "extra_columns": ["speed", "missing"]}}
    artifacts = [a for a in RunOutput(output).artifacts if a.name == "run_result_csv"]
    assert [(a.path, a.kind) for a in artifacts] == [("results.csv", "export")]
    check_wa3_reads_the_same(subtests, output)


def test_csv_all_classifiers_and_run_metrics(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        def pytest_wa_run_end(run):
            run.add_metric("total", 7, "jobs")
    """)
    run(pytester, """
        config:
          run_name: nightly
          augmentations: [csv]
          csv: {use_all_classifiers: true}
        workloads:
          - name: command
            classifiers: {speed: fast, board: x}
            params: {command: "echo n=3", metrics: {n: 'n=(\\d+)'}}
    """).assert_outcomes(passed=1)
    assert lines(pytester.path / "wa_output" / "results.csv") == [
        "id,workload,iteration,metric,board,speed,value,units",
        "wk1,command,1,n,x,fast,3,", ",nightly,,total,,,7,jobs", ""]


def test_csv_new_classifier_and_retried_job(pytester: pytest.Pytester) -> None:
    """A classifier first seen in a later job adds its column to the rows already
    written; a retried job's rows are its last attempt's, once."""
    pytester.makeconftest("""
        import os

        def pytest_wa_job_extract_results(job):
            job.add_metric("attempt", 1 if os.path.exists("tried") else 0)
            if job.spec.id == "r" and not os.path.exists("tried"):
                open("tried", "w").close()
                raise RuntimeError("first attempt fails")
    """)
    run(pytester, """
        config:
          augmentations: [csv]
          csv: {use_all_classifiers: true}
        workloads:
          - {id: p, name: command, params: {command: "true"}}
          - {id: r, name: command, classifiers: {kind: retried}, params: {command: "true"}}
    """).assert_outcomes(passed=2)
    assert lines(pytester.path / "wa_output" / "results.csv") == [
        "id,workload,iteration,metric,kind,value,units",
        "p,command,1,attempt,,0,", "r,command,1,attempt,retried,1,", ""]


def test_csv_disabled_for_a_workload_lists_only_the_others(pytester: pytest.Pytester) -> None:
    run(pytester, TWO_JOBS.replace("  - id: b\n", "  - id: b\n    augmentations: [~csv]\n")
        ).assert_outcomes(passed=3)
    text = (pytester.path / "wa_output" / "results.csv").read_text()
    assert "a,command,2,n" in text and "b,command" not in text


def test_csv_both_column_choices_is_a_located_error(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        config:
          augmentations: [csv]
          csv: {use_all_classifiers: true, extra_columns: [speed]}
        workloads: [idle]
    """)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*agenda.yaml:3: config.csv*output processor 'csv': "
                                 "extra_columns cannot be given when use_all_classifiers*"])
    assert not (pytester.path / "wa_output").exists()


def test_csv_keeps_every_finished_job_when_the_run_is_killed(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import os

        def pytest_wa_job_execute(job):
            if job.spec.id == "a" and job.iteration == 2:
                os._exit(9)
    """)
    pytester.makefile(".yaml", agenda=TWO_JOBS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml")
    assert result.ret == 9
    assert lines(pytester.path / "wa_output" / "results.csv") == [
        "id,workload,iteration,metric,speed,missing,value,units",
        "a,command,1,n,fast,,3,", "b,command,1,n,,,4,", ""]


def test_csv_in_a_resumed_run_keeps_the_earlier_jobs(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import os

        def pytest_wa_job_execute(job):
            if job.spec.id == "a" and job.iteration == 2 and not os.path.exists("again"):
                os._exit(9)
    """)
    pytester.makefile(".yaml", agenda=TWO_JOBS)
    assert pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml").ret == 9
    (pytester.path / "again").touch()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml",
                                           "--wa-resume", "wa_output")
    result.assert_outcomes(passed=1)
    assert lines(pytester.path / "wa_output" / "results.csv") == [
        "id,workload,iteration,metric,speed,missing,value,units",
        "a,command,1,n,fast,,3,", "b,command,1,n,,,4,", "a,command,2,n,fast,,3,", ""]


def test_without_processors_the_default_files_stay(pytester: pytest.Pytester) -> None:
    run(pytester, TWO_JOBS.replace("  augmentations: [csv]\n", "").replace(
        "  csv: {extra_columns: [speed, missing]}\n", "")).assert_outcomes(passed=3)
    output = pytester.path / "wa_output"
    assert lines(output / "results.csv")[0] == "id,workload,iteration,metric,value,units"
    assert "3/3 iterations completed without error" in (output / "status.txt").read_text()


def test_status_as_wa3_writes_it(pytester: pytest.Pytester, subtests: pytest.Subtests) -> None:
    result = run(pytester, """
        config: {augmentations: [status], max_retries: 0, run_name: night}
        workloads:
          - {id: ok, name: command, params: {command: "true"}}
          - {id: bad, name: command, params: {command: "echo oops; exit 3"}}
    """)
    result.assert_outcomes(passed=1, failed=1)
    output = pytester.path / "wa_output"
    text = [line.rstrip() for line in (output / "status.txt").read_text().splitlines()]
    assert text[:2] == ["Run name: night", "Run status: PARTIAL"]
    assert text[2].startswith("Date: ")
    assert text[3:6] == ["1/2 iterations completed without error", "",
                         "ok  command 1     OK"]
    assert text[6].startswith("bad command 1 FAILED (1 event(s)): ")
    assert [a.kind for a in RunOutput(output).artifacts if a.name == "run_status_summary"] \
        == ["export"]
    check_wa3_reads_the_same(subtests, output)


def test_targz_archives_the_finished_run(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        config: {augmentations: [targz, status]}
        workloads: [{name: idle, params: {duration: 0.01}}]
    """)
    result.assert_outcomes(passed=1)
    archive = pytester.path / "wa_output.tar.gz"
    result.stdout.fnmatch_lines([f"*run directory archived as {archive}*"])
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        status = tar.extractfile("wa_output/status.txt")
        assert status is not None and b"Run status: OK" in status.read()
        pod = tar.extractfile("wa_output/result.json")
        assert pod is not None and json.loads(pod.read())["status"].startswith("OK")
    assert {"wa_output/results.csv", "wa_output/run.log",
            "wa_output/wk1-idle-1/result.json"} <= names
    assert (pytester.path / "wa_output" / "status.txt").exists()  # not deleted unless asked


def test_targz_outfile_and_delete_output(pytester: pytest.Pytester) -> None:
    (pytester.path / "archives").mkdir()
    run(pytester, """
        config:
          run_name: nightly
          augmentations: [targz]
          targz: {outfile: "archives/{run_name}.tgz", delete-output: true}
        workloads: [{name: idle, params: {duration: 0.01}}]
    """).assert_outcomes(passed=1)
    assert tarfile.is_tarfile(pytester.path / "archives" / "nightly.tgz")
    assert not (pytester.path / "wa_output").exists()


def test_targz_that_cannot_write_deletes_nothing(pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        config:
          augmentations: [targz]
          targz: {outfile: "no/such/dir/run.tar.gz", delete_output: true}
        workloads: [{name: idle, params: {duration: 0.01}}]
    """)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*ProcessorWarning: output processor 'targz' failed in "
                                 "pytest_wa_run_output: FileNotFoundError*"])
    output = RunOutput(pytester.path / "wa_output")
    assert output.status.name == "OK"
    assert any("output processor 'targz' failed" in e.message for e in output.events)
    assert not list(pytester.path.glob("no*"))


FAILING = """
from pytest_wa import OutputProcessor


class Broken(OutputProcessor):
    name = "broken"
    description = "Fails at every job and at the end."

    def pytest_wa_job_output(self, job):
        raise RuntimeError(f"no room for {job.output_id}")

    def pytest_wa_run_output(self, run):
        raise RuntimeError("no room for the run")


def pytest_wa_register_output_processors(registry):
    registry.add(Broken)
"""


def test_a_failing_processor_loses_nothing(pytester: pytest.Pytester,
                                            subtests: pytest.Subtests) -> None:
    pytester.makeconftest(FAILING)
    result = run(pytester, TWO_JOBS.replace("[csv]", "[broken, csv, status]"))
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([
        "*ProcessorWarning: output processor 'broken' failed in pytest_wa_job_output: "
        "RuntimeError: no room for a*",
        "*output processor 'broken' failed in pytest_wa_run_output*no room for the run*"])
    output = pytester.path / "wa_output"
    assert len(lines(output / "results.csv")) == 5
    assert "3/3 iterations completed without error" in (output / "status.txt").read_text()
    found = RunOutput(output)
    assert found.status.name == "OK" and all(j.status.name == "OK" for j in found.jobs)
    events = [e.message for e in found.events]
    assert sum("output processor 'broken' failed" in e for e in events) == 4
    check_wa3_reads_the_same(subtests, output)


def test_wa_list_and_show_output_processors(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FAILING)
    listed = pytester.runpytest("-p", "no:cacheprovider", "--wa-list", "output_processors")
    listed.stdout.fnmatch_lines(["broken     Fails at every job and at the end.",
                                 "cpustates  Per-CPU frequency and idle-state residency*",
                                 "csv        Writes results.csv, one row per metric*",
                                 "postgres   Stores results in a PostgreSQL database*",
                                 "status     Writes status.txt*", "targz      Archives the run*",
                                 "uxperf     Durations of the UI actions*"])
    shown = pytester.runpytest("-p", "no:cacheprovider", "--wa-show", "csv")
    shown.stdout.fnmatch_lines(["csv (output processor)", "*use_all_classifiers (boolean, "
                                "default: False)", "*extra_columns (list of strings*"])
    shown = pytester.runpytest("-p", "no:cacheprovider", "--wa-show", "postgres")
    shown.stdout.fnmatch_lines(["postgres (output processor)", "*username (string, default: "
                                "'postgres')*", "*password (string*", "*dbname*"])


def test_wa3_ci_agenda_runs_with_status(pytester: pytest.Pytester,
                                         subtests: pytest.Subtests) -> None:
    """WA3's own CI agenda (tests/ci/idle_agenda.yaml): ``~~`` then ``status``, its
    local device settings, one idle job of a second."""
    result = run(pytester, """
        config:
            iterations: 1
            augmentations:
                - ~~
                - status
            device: generic_local
            device_config:
                big_core: null
                core_clusters: null
                core_names: null
                executables_directory: null
                keep_password: true
                load_default_modules: false
                model: null
                modules: null
                password: null
                shell_prompt: !<tag:wa:regex> '40:^.*(shell|root|juno)@?.*:[/~]\\S* *[#$] '
                unrooted: True
                working_directory: null
        workloads:
        -   name: idle
            params:
                duration: 1
    """)
    result.assert_outcomes(passed=1)
    output = pytester.path / "wa_output"
    status = (output / "status.txt").read_text().splitlines()
    assert status[:2] == ["Run name: None", "Run status: OK"]
    assert status[3:5] == ["1/1 iterations completed without error", ""]
    assert [j.status.name for j in RunOutput(output).jobs] == ["OK"]
    check_wa3_reads_the_same(subtests, output)


def test_entry_point_processor_by_alias(pytester: pytest.Pytester,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed package's processor (``pytest_wa.output_processors``), enabled by
    its alias and configured by its name."""
    site = pytester.mkdir("site")
    (site / "extra_processors.py").write_text(textwrap.dedent("""
        from pytest_wa import OutputProcessor, Parameter

        class Count(OutputProcessor):
            name = "job_count"
            aliases = ("jobcount",)
            description = "Counts the jobs into a file."
            parameters = [Parameter("file", str, default="count.txt")]

            def pytest_wa_run_output(self, run):
                (run.output.directory / self.file).write_text(str(len(run.output.order)))
    """))
    dist = site / "extra_processors-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-processors\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text("[pytest_wa.output_processors]\n"
                                           "job_count = extra_processors:Count\n")
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config:
          augmentations: [jobcount]
          job_count: {file: jobs.txt}
        workloads: [{name: idle, iterations: 2, params: {duration: 0.01}}]
    """))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]))
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
    assert (pytester.path / "wa_output" / "jobs.txt").read_text() == "2"
    listing = pytester.runpytest_subprocess("--wa-list", "output_processors")
    listing.stdout.fnmatch_lines(["job_count *Counts the jobs into a file. (alias: jobcount)"])


def test_in_a_pool_processors_are_left_out_with_a_warning(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", lab="devices:\n  a: {kind: local}\n  b: {kind: local}\n")
    pytester.makefile(".yaml", agenda=TWO_JOBS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "agenda.yaml", "-n", "2",
                                           "--wa-config=lab.yaml", "--wa-device=a,b")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*ProcessorWarning: output processors are not run in a "
                                 "pool yet (the default results.csv and status.txt are "
                                 "written): csv left out"])
    assert lines(pytester.path / "wa_output" / "results.csv")[0] == \
        "id,workload,iteration,metric,value,units"


def test_wa3_default_user_config_augmentations(pytester: pytest.Pytester,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The augmentations WA3 writes into a new user config.yaml (its
    DEFAULT_AUGMENTATIONS) run, processors included; cpufreq made optional for hosts
    without it, as docs/wa3-users.md says."""
    user = pytester.mkdir("wa-user")
    (user / "config.yaml").write_text(textwrap.dedent("""
        augmentations:
        - execution_time
        - interrupts
        - cpufreq
        - status
        - csv
        cpufreq: {optional: true}
    """))
    monkeypatch.setenv("WA_USER_DIRECTORY", str(user))
    run(pytester, "workloads: [{name: idle, params: {duration: 0.01}}]\n").assert_outcomes(
        passed=1)
    output = pytester.path / "wa_output"
    assert "wk1,idle,1,execution_time," in (output / "results.csv").read_text()
    assert (output / "status.txt").read_text().startswith("Run name: None\nRun status: OK\n")
    artifacts = {a.name for a in RunOutput(output).artifacts}
    assert {"run_result_csv", "run_status_summary"} <= artifacts
