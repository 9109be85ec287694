"""The ``delay`` instrument: fixed waits on this host, temperature waits on a temperature file.

Each wait is a job event saying what it waited for, so these tests check which
waits happened before which job and stage, and from which temperature to which;
never how long the run took. The temperature is a file the test writes (on
this host, or on the simulated phone, where a job heats it and a process it
leaves behind cools it down), and the phone's own thermal zone, read at WA3's
default path.
"""

from __future__ import annotations

import textwrap

import pytest

from pytest_wa import RunOutput

REGISTER = """\
from pytest_wa.instruments.delay import Delay

def pytest_wa_register_instruments(registry):
    registry.add(Delay)
"""
#: Marks the job's stages among its events, to place the delays between them.
STAGES = """\

def pytest_wa_job_setup(job):
    job.add_event("setup")

def pytest_wa_job_extract_results(job):
    job.add_event("extract_results")
"""


def run(pytester: pytest.Pytester, agenda: str, *args: str) -> pytest.RunResult:
    pytester.makeconftest(REGISTER + STAGES)
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    return pytester.runpytest(*args)


def events(pytester: pytest.Pytester, job_id: str, iteration: int = 1) -> list[str]:
    job = RunOutput(pytester.path / "wa_output").job(job_id, iteration)
    return [event.message for event in job.events]


def test_fixed_delays_before_specs_and_jobs(pytester: pytest.Pytester) -> None:
    run(pytester, """
        config:
          execution_order: by_spec
          augmentations: [delay]
          delay: {fixed_between_specs: 1, fixed_between_jobs: 1}
        workloads:
          - {id: a, name: command, iterations: 2, params: {command: "true"}}
          - {id: b, name: command, params: {command: "true"}}
          - {id: c, name: command, params: {command: "true"}, augmentations: [~delay]}
        """).assert_outcomes(passed=4)
    spec, job = "delay: waited 1 s (fixed_between_specs)", "delay: waited 1 s (fixed_between_jobs)"
    assert events(pytester, "a", 1) == [spec, "setup", "extract_results"]
    assert events(pytester, "a", 2) == [job, "setup", "extract_results"]
    assert events(pytester, "b", 1) == [spec, "setup", "extract_results"]
    assert events(pytester, "c", 1) == ["setup", "extract_results"]


def test_a_new_spec_without_its_own_delay_gets_the_jobs_and_start_waits_after_setup(
        pytester: pytest.Pytester) -> None:
    run(pytester, """
        config:
          augmentations: [delay]
          delay: {fixed_between_jobs: 1, fixed_before_start: 1}
        workloads: [{id: a, name: command, params: {command: "true"}}]
        """).assert_outcomes(passed=1)
    assert events(pytester, "a") == ["delay: waited 1 s (fixed_between_jobs)", "setup",
                                     "delay: waited 1 s (fixed_before_start)",
                                     "extract_results"]


def test_temperature_thresholds_and_the_timeout(pytester: pytest.Pytester) -> None:
    """0 is the temperature when the run started; a spec's first job waits for the spec's
    threshold (WA3 3.3.1 used the jobs' one there); a timeout lets the job go on."""
    temperature = pytester.path / "temp"
    temperature.write_text("52000\n")
    run(pytester, f"""
        config:
          execution_order: by_spec
          augmentations: [delay]
          delay:
            temperature_file: {temperature}
            temperature_between_specs: 0
            temperature_between_jobs: 40000
            temperature_timeout: 1
            temperature_poll_period: 1
        workloads:
          - {{id: a, name: command, iterations: 2, params: {{command: "true"}}}}
        """).assert_outcomes(passed=2)
    assert events(pytester, "a", 1)[0] == ("delay: the temperature is 52000, at most 52000 "
                                           "(temperature_between_specs): no wait")
    assert events(pytester, "a", 2)[0] == (
        "delay: the temperature is still 52000 after 1 s (temperature_timeout), above 40000 "
        "(temperature_between_jobs); the job goes on")
    assert RunOutput(pytester.path / "wa_output").job("a", 2).status.name == "OK"


@pytest.mark.parametrize(("config", "message"), [
    ("{fixed_between_jobs: 1, temperature_between_jobs: 40000}",
     "instrument 'delay': both fixed_between_jobs and temperature_between_jobs are set; "
     "choose one"),
    ("{temperature_timeout: 10}",
     "instrument 'delay': no delay is set: set one of fixed_between_specs, "
     "temperature_between_specs, fixed_between_jobs, temperature_between_jobs, "
     "fixed_before_start, temperature_before_start"),
])
def test_a_configuration_without_one_delay_per_slot_is_refused(
        pytester: pytest.Pytester, config: str, message: str) -> None:
    result = run(pytester, f"""
        config: {{augmentations: [delay], delay: {config}}}
        workloads: [{{name: command, params: {{command: "true"}}}}]
        """)
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error, located
    result.stdout.fnmatch_lines([f"*agenda.yaml:1: config.delay: {message}*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (pytester.path / "wa_output").exists()


def test_an_unreadable_temperature_file_is_refused_before_the_first_job(
        pytester: pytest.Pytester) -> None:
    result = run(pytester, """
        config:
          augmentations: [delay]
          delay: {temperature_file: /nonexistent/temp, temperature_between_jobs: 40000}
        workloads: [{name: command, params: {command: "true"}}]
        """)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*instrument 'delay' cannot work on device 'local': it waits for the temperature in "
        "/nonexistent/temp, which cannot be read (cat: /nonexistent/temp: No such file or "
        "directory); set temperature_file to the device's thermal zone. To run without it*"])


# --- on the simulated phone -----------------------------------------------------------------


@pytest.fixture
def phone(wa_simulated_device, monkeypatch):
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(wa_simulated_device.adb_port))
    return wa_simulated_device


def run_on(pytester: pytest.Pytester, phone, agenda: str) -> RunOutput:
    pytester.makeconftest(REGISTER + STAGES)
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           f"--wa-device=adb:{phone.serial}")
    assert "Traceback" not in result.stdout.str(), result.stdout.str()
    return RunOutput(pytester.path / "wa_output")


def test_waiting_for_the_phone_to_cool_down(pytester: pytest.Pytester, phone) -> None:
    """The first job heats the temperature file and leaves a process that cools it four
    seconds later; the second job waits until it is cool."""
    temp = "/data/local/tmp/temp"
    assert phone.shell(f"echo 35000 > {temp}").returncode == 0
    output = run_on(pytester, phone, f"""
        config:
          augmentations: [delay]
          delay: {{temperature_file: {temp}, temperature_between_jobs: 40000,
                  temperature_poll_period: 1, temperature_timeout: 60}}
        workloads:
          - id: heat
            name: command
            params:
              command: "echo 52000 > {temp};
                        setsid sh -c 'sleep 4; echo 38000 > {temp}' </dev/null >/dev/null 2>&1 &"
          - {{id: cooled, name: command, params: {{command: "cat {temp}"}}}}
        """)
    heat, cooled = output.job("heat", 1), output.job("cooled", 1)
    assert [e.message for e in heat.events][0] == (
        "delay: the temperature is 35000, at most 40000 (temperature_between_jobs): no wait")
    first = [e.message for e in cooled.events][0]
    assert first.startswith("delay: waited ") and first.endswith(
        " s for the temperature to fall from 52000 to 38000, at most 40000 "
        "(temperature_between_jobs)")
    assert (heat.status.name, cooled.status.name) == ("OK", "OK")


def test_the_phone_thermal_zone_at_wa3_default_path(pytester: pytest.Pytester, phone) -> None:
    output = run_on(pytester, phone, """
        config: {augmentations: [delay], delay: {temperature_between_specs: 200000}}
        workloads: [{id: a, name: command, params: {command: "true"}}]
        """)
    first = [e.message for e in output.job("a", 1).events][0]
    assert first.startswith("delay: the temperature is ") and first.endswith(
        ", at most 200000 (temperature_between_specs): no wait")
    celsius = int(first.split()[4].rstrip(",")) / 1000
    assert 15 <= celsius <= 110
