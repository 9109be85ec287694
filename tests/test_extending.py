"""Extending pytest-wa as users do: conftest hooks, instruments, workloads, entry points."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET

import pytest

import pytest_wa

ONE_COMMAND = """
workloads:
  - {name: command, iterations: 2, params: {command: "true"}}
"""


def metric_names(junit_path) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        names[case.get("name", "")] = sorted(
            p.get("name", "")[len("metric:"):] for p in case.iter("property")
            if p.get("name", "").startswith("metric:"))
    return names


def test_conftest_stage_wrapper_is_an_instrument(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pytest

        @pytest.hookimpl(wrapper=True)
        def pytest_wa_job_execute(job):
            job.add_metric("wrapped_iteration", job.iteration, "count")
            return (yield)
    """)
    pytester.makefile(".yaml", agenda=ONE_COMMAND)
    result = pytester.runpytest("--junitxml=out.xml", "-v")
    result.assert_outcomes(passed=2)
    assert metric_names(pytester.path / "out.xml") == {
        "wk1-command[1]": ["wrapped_iteration"], "wk1-command[2]": ["wrapped_iteration"]}


def test_every_hook_fires_in_wa_order(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pathlib

        def _log(text):
            with open(pathlib.Path(__file__).parent / "hooks.log", "a") as handle:
                handle.write(text + "\\n")

        def pytest_wa_run_start(run): _log("run_start " + run.target.properties.os)
        def pytest_wa_spec_start(job): _log("spec_start " + job.id)
        def pytest_wa_job_start(job): _log("job_start " + job.name)
        def pytest_wa_job_setup(job): _log("job_setup")
        def pytest_wa_job_execute(job): _log("job_execute")
        def pytest_wa_job_extract_results(job): _log("job_extract_results")
        def pytest_wa_job_teardown(job): _log("job_teardown")
        def pytest_wa_job_end(job): _log("job_end " + job.status.name)
        def pytest_wa_job_output(job): _log("job_output " + job.status.name)
        def pytest_wa_spec_end(job): _log("spec_end " + job.id)
        def pytest_wa_run_end(run): _log("run_end")
    """)
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {execution_order: by_workload}
        workloads:
          - {id: a, name: command, iterations: 2, params: {command: "true"}}
          - {id: b, name: command, params: {command: "true"}}
    """))
    pytester.runpytest().assert_outcomes(passed=3)
    job = ["job_setup", "job_execute", "job_extract_results", "job_teardown", "job_end OK",
           "job_output OK"]
    log = (pytester.path / "hooks.log").read_text().splitlines()
    assert log == ["run_start linux",
                   "spec_start a", "job_start a-command[1]", *job,
                   "job_start a-command[2]", *job, "spec_end a",
                   "spec_start b", "job_start b-command[1]", *job, "spec_end b",
                   "run_end"]


def test_instruments_follow_augmentation_toggles(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [execution_time]}
        sections:
          - {id: timed}
          - {id: untimed, augmentations: [~execution_time]}
        workloads:
          - {id: a, name: command, params: {command: "true"}}
          - {id: b, name: command, params: {command: "true"}, instruments: [~execution_time]}
    """))
    pytester.runpytest("--junitxml=out.xml").assert_outcomes(passed=4)
    assert metric_names(pytester.path / "out.xml") == {
        "timed-a-command[1]": ["execution_time"], "untimed-a-command[1]": [],
        "timed-b-command[1]": [], "untimed-b-command[1]": []}


def test_instrument_priority_decides_nesting(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pathlib
        import pytest
        from pytest_wa import Instrument, Priority

        def _log(text):
            with open(pathlib.Path(__file__).parent / "order.log", "a") as handle:
                handle.write(text + "\\n")

        def make(name, priority):
            class Probe(Instrument):
                @pytest.hookimpl(wrapper=True)
                def pytest_wa_job_execute(self, job):
                    _log("start " + self.name)
                    try:
                        return (yield)
                    finally:
                        _log("stop " + self.name)
            Probe.name, Probe.priority = name, priority
            return Probe

        def pytest_wa_register_instruments(registry):
            registry.add(make("power", Priority.VERY_FAST))
            registry.add(make("trace", Priority.SLOW))
            registry.add(make("stats", Priority.NORMAL))
    """)
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [stats, power, trace]}
        workloads: [{name: command, params: {command: "true"}}]
    """))
    pytester.runpytest().assert_outcomes(passed=1)
    assert (pytester.path / "order.log").read_text().split() == [
        "start", "trace", "start", "stats", "start", "power",
        "stop", "power", "stop", "stats", "stop", "trace"]


def test_conftest_workload_with_typed_parameters(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        from pytest_wa import Parameter, Workload

        class Loop(Workload):
            name = "loop"
            description = "Counts to n on the target."
            parameters = (
                Parameter("n", int, mandatory=True, description="How far to count."),
                Parameter("mode", str, default="fast", allowed_values=["fast", "slow"]),
            )

            def run(self, context):
                out = context.target.execute(f"seq {self.n} | wc -l", check=True).stdout
                context.add_metric("counted", int(out), "numbers")

        def pytest_wa_register_workloads(registry):
            registry.add(Loop)
    """)
    pytester.makefile(".yaml", agenda="workloads: [{name: loop, params: {n: '25'}}]\n")
    result = pytester.runpytest("--junitxml=out.xml")
    result.assert_outcomes(passed=1)
    assert 'name="metric:counted" value="25 numbers"' in (pytester.path / "out.xml").read_text()
    pytester.makefile(".yaml", agenda="workloads: [{name: loop, params: {n: 3, mode: warp}}]\n")
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*agenda.yaml:1: workloads[[]0[]].params.mode: "
                                 "workload 'loop': 'warp' is not allowed; choose from 'fast', "
                                 "'slow'*"])


def test_entry_point_workload_from_an_installed_package(pytester: pytest.Pytester,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    site = pytester.mkdir("site")
    (site / "extra_workloads.py").write_text(textwrap.dedent("""
        from pytest_wa import Workload

        class Hello(Workload):
            name = "hello"
            description = "Says hello from a package."
            def run(self, context):
                context.target.execute("echo hello", check=True)
                context.add_metric("greetings", 1)
    """))
    dist = site / "extra_workloads-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-workloads\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text("[pytest_wa.workloads]\n"
                                           "hello = extra_workloads:Hello\n")
    pytester.makefile(".yaml", agenda="workloads: [hello]\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=1)
    listing = pytester.runpytest_subprocess("--wa-list", "workloads")
    listing.stdout.fnmatch_lines(["hello *Says hello from a package."])


def test_wa_list_and_wa_show(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--wa-list", "workloads")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["command *(alias: shell)", "idle *", "shellscript *"])
    result = pytester.runpytest("--wa-list", "instruments")
    result.stdout.fnmatch_lines(["execution_time *"])
    result = pytester.runpytest("--wa-show", "command")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["command (workload)", "*parameters:",
                                 "  command (string, mandatory)",
                                 "  timeout (number, default: 300)", "*killed*"])
    result = pytester.runpytest("--wa-show", "idel")
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        ["*no workload, instrument or output processor named 'idel'. "
         "Did you mean 'idle' or 'delay'?"])


def test_wa_target_fixture_serves_ordinary_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_uses_target(wa_target):
            result = wa_target.execute("echo from-target; exit 4")
            assert result.exit_code == 4
            assert result.stdout == "from-target\\n"
            assert wa_target.properties.cpus >= 1
    """)
    pytester.runpytest().assert_outcomes(passed=1)


def test_conftest_can_supply_its_own_target(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        from pytest_wa.targets.local import LocalTarget

        class Board(LocalTarget):
            kind = "board"

        def pytest_wa_make_target(config, device):
            if device == "myboard":
                return Board(name=device)
    """)
    pytester.makepyfile("""
        def test_kind(wa_target):
            assert wa_target.kind == "board" and wa_target.name == "myboard"
    """)
    pytester.runpytest("--wa-device", "myboard").assert_outcomes(passed=1)
    pytester.makepyfile(test_more="def test_more(wa_target):\n    pass\n")
    result = pytester.runpytest("--wa-device", "nosuch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*pytest-wa: unknown device 'nosuch'. Configured devices: "
                                 "none*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_failing_instrument_makes_the_job_partial_and_the_run_goes_on(
        pytester: pytest.Pytester) -> None:
    """Its numbers are missing, so the job is not fully OK; the next job runs as usual."""
    pytester.makeconftest("""
        import pytest
        from pytest_wa import Instrument

        class Broken(Instrument):
            name = "broken"

            @pytest.hookimpl(wrapper=True)
            def pytest_wa_job_execute(self, job):
                result = yield
                raise RuntimeError("meter unplugged")

            def pytest_wa_job_setup(self, job):
                raise OSError("no such meter")

        def pytest_wa_register_instruments(registry):
            registry.add(Broken)
    """)
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [broken, execution_time], max_retries: 0}
        workloads:
          - {name: command, params: {command: "true"}}
          - {name: command, params: {command: "true"}, augmentations: [~broken]}
    """))
    result = pytester.runpytest("-v", "--junitxml=out.xml")
    result.assert_outcomes(passed=1, failed=1, warnings=2)
    result.stdout.fnmatch_lines([
        "*wk1-command[[]1[]] PARTIAL*", "*wk2-command[[]1[]] OK*",
        "*InstrumentWarning: instrument 'broken' failed in pytest_wa_job_setup: OSError: no "
        "such meter*",
        "*InstrumentWarning: instrument 'broken' failed in pytest_wa_job_execute: "
        "RuntimeError: meter unplugged*"])
    assert metric_names(pytester.path / "out.xml") == {"wk1-command[1]": ["execution_time"],
                                                       "wk2-command[1]": ["execution_time"]}
    job = pytest_wa.RunOutput(pytester.path / "wa_output").job("wk1", 1)
    assert job.status.name == "PARTIAL"
    assert "PARTIAL: instrument broken failed" in [event.message for event in job.events]


UNAVAILABLE = """
    from pytest_wa import OPTIONAL, Instrument, InstrumentUnavailable

    class Meter(Instrument):
        name = "meter"
        parameters = (OPTIONAL,)

        def check(self, target):
            raise InstrumentUnavailable("no /sys/class/meter (plug the meter in)")

        def pytest_wa_job_extract_results(self, job):
            job.add_metric("joules", 1.0)

    def pytest_wa_register_instruments(registry):
        registry.add(Meter)
"""


def test_an_instrument_this_device_cannot_serve_is_refused_before_the_first_job(
        pytester: pytest.Pytester) -> None:
    pytester.makeconftest(UNAVAILABLE)
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        workloads:
          - {name: command, params: {command: "true"}}
          - {name: command, params: {command: "true"}, augmentations: [meter]}
    """))
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*agenda.yaml:3: augmentations: meter: instrument 'meter' cannot work on device "
        "'local': no /sys/class/meter (plug the meter in). To run without it where it cannot "
        "work, configure it with optional: true*"])
    assert "Traceback" not in result.stderr.str()
    assert not (pytester.path / "wa_output").exists()


def test_an_optional_instrument_is_left_out_with_a_note(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(UNAVAILABLE)
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [meter], meter: {optional: true}}
        workloads: [{name: command, params: {command: "true"}}]
    """))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert pytest_wa.RunOutput(pytester.path / "wa_output").jobs[0].metrics == []
    log = (pytester.path / "wa_output" / "run.log").read_text()
    assert "instrument 'meter' cannot work on device 'local': no /sys/class/meter" in log
    assert "the run goes on without it (optional: true)" in log


def test_an_instrument_does_not_hide_a_failing_stage(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [execution_time]}
        workloads: [{name: command, params: {command: "exit 5"}}]
    """))
    result = pytester.runpytest("-v", "--junitxml=out.xml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*command exited with code 5*"])
    assert metric_names(pytester.path / "out.xml") == {"wk1-command[1]": ["execution_time"]}


def test_conftest_hooks_apply_only_below_their_directory(pytester: pytest.Pytester) -> None:
    for name in ("left", "right"):
        folder = pytester.mkdir(name)
        (folder / "agenda.yaml").write_text(
            "workloads: [{name: command, params: {command: 'true'}}]\n")
    (pytester.path / "left" / "conftest.py").write_text(textwrap.dedent("""
        def pytest_wa_job_extract_results(job):
            job.add_metric("left_only", 1)
    """))
    pytester.runpytest("--junitxml=out.xml").assert_outcomes(passed=2)
    cases = ET.parse(pytester.path / "out.xml").getroot().iter("testcase")
    metrics = {case.get("classname"): [p.get("name") for p in case.iter("property")
                                       if p.get("name", "").startswith("metric:")]
               for case in cases}
    assert metrics == {"left.agenda.yaml": ["metric:left_only"], "right.agenda.yaml": []}


def test_instrument_parameters_are_checked_and_defaulted(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        import pytest
        from pytest_wa import Instrument, Parameter

        class Tagger(Instrument):
            name = "tagger"
            parameters = (Parameter("tag", str, default="plain"),
                          Parameter("weight", int, default=1))

            def pytest_wa_job_extract_results(self, job):
                job.add_metric(f"tag_{self.tag}", self.weight)

        def pytest_wa_register_instruments(registry):
            registry.add(Tagger)
    """)
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [tagger]}
        workloads: [{name: command, params: {command: "true"}}]
    """))
    pytester.runpytest("--junitxml=out.xml").assert_outcomes(passed=1)
    assert metric_names(pytester.path / "out.xml") == {"wk1-command[1]": ["tag_plain"]}
    pytester.makefile(".yaml", agenda=textwrap.dedent("""
        config: {augmentations: [tagger], tagger: {wieght: 3}}
        workloads: [{name: command, params: {command: "true"}}]
    """))
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*agenda.yaml:1: config.tagger.wieght: instrument 'tagger': "
                                 "unknown parameter.*Did you mean 'weight'?*"])
