"""WA3 users' own files as they are: device settings in agendas, and WA3's user config.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_wa import RunOutput

WA3_LOCAL_AGENDA = """\
config:
    iterations: 1
    augmentations: [~~, execution_time]
    device: generic_local
    device_config:
        big_core: null
        core_names: null
        keep_password: true
        load_default_modules: false
        password: {password}
        unrooted: True
        working_directory: null
workloads:
-   name: idle
    params:
        duration: 0.1
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def every_output_file(directory: Path) -> str:
    return "".join(path.read_text(errors="replace") for path in directory.rglob("*")
                   if path.is_file())


def test_a_wa3_generic_local_agenda_runs_here_with_a_note(pytester) -> None:
    pytester.makefile(".yaml", agenda=WA3_LOCAL_AGENDA.format(password="hunter2-secret"))
    result = run(pytester, "agenda.yaml")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*agenda.yaml:5: device_config: WA3 settings not used by "
                                 "pytest-wa: big_core, core_names, keep_password, "
                                 "load_default_modules, password, unrooted*"])
    output = RunOutput(pytester.path / "wa_output")
    assert output.metadata["device"] == "generic_local"
    assert "hunter2-secret" not in every_output_file(pytester.path / "wa_output")
    assert "hunter2-secret" not in result.stdout.str()


def test_an_unsupported_wa3_device_type_is_a_collection_error(pytester) -> None:
    pytester.makefile(".yaml", agenda=WA3_LOCAL_AGENDA.format(password="null")
                      .replace("generic_local", "juno"))
    result = run(pytester, "agenda.yaml")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ERROR collecting agenda.yaml*", "*agenda.yaml:4: device: WA3 "
                                 "device type 'juno' is not supported.*generic_android (adb)*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (pytester.path / "wa_output").exists()


def test_wa_device_overrides_the_agenda_device_with_a_notice(pytester) -> None:
    pytester.makefile(".yaml", agenda=WA3_LOCAL_AGENDA.format(password="null")
                      .replace("generic_local", "generic_linux"))
    result = run(pytester, "agenda.yaml", "--wa-device=local")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["pytest-wa: --wa-device local is used instead of the device "
                                 "the agenda names (generic_linux, *agenda.yaml:4)"])
    assert RunOutput(pytester.path / "wa_output").metadata["device"] == "local"


def test_a_wa3_generic_linux_agenda_runs_on_the_board_it_names(pytester, wa_sshd,
                                                              monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(pytester.path))  # no ~/.ssh of the developer's
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    pytester.makefile(".yaml", agenda=f"""\
        config:
          device: generic_linux
          device_config:
            host: {wa_sshd.host}
            port: {wa_sshd.port}
            username: {wa_sshd.username}
            keyfile: {wa_sshd.client_key}
            known_hosts: {wa_sshd.known_hosts}
        workloads:
          - name: command
            params: {{command: "echo $SSH_CONNECTION", metrics: {{port: ' ([0-9]+)$'}}}}
        """)
    result = run(pytester, "agenda.yaml")
    result.assert_outcomes(passed=1)
    output = RunOutput(pytester.path / "wa_output")
    assert output.metadata["device"] == "generic_linux"
    assert output.jobs[0].metrics[0].value == wa_sshd.port  # the command ran over SSH


def test_a_wa3_generic_android_agenda_runs_on_the_phone_it_names(pytester,
                                                                wa_simulated_device) -> None:
    device = wa_simulated_device
    pytester.makefile(".yaml", agenda=f"""\
        config:
          device: generic_android
          device_config: {{device: "{device.serial}", adb_port: {device.adb_port}}}
        workloads:
          - name: command
            params: {{command: "getprop ro.product.model"}}
        """)
    result = run(pytester, "agenda.yaml")
    result.assert_outcomes(passed=1)
    output = RunOutput(pytester.path / "wa_output")
    assert output.metadata["device"] == "generic_android"
    assert output.target_info["os"] == "android"


USER_CONFIG = """\
# As WA3 writes it: its own settings too, and nulls for what is not set.
user_directory: ~/.workload_automation
verbosity: 0
run_name: null
execution_order: by_workload
augmentations:
  - execution_time
"""

TWO_JOBS = """\
config:
  iterations: 2
workloads:
  - {id: a, name: idle, params: {duration: 0}}
  - {id: b, name: idle, params: {duration: 0}}
"""


@pytest.fixture
def user_directory(pytester, monkeypatch) -> Path:
    directory = pytester.path / "wa-user"
    directory.mkdir()
    (directory / "config.yaml").write_text(USER_CONFIG)
    monkeypatch.setenv("WA_USER_DIRECTORY", str(directory))
    return directory


def test_the_user_config_is_read_before_the_agenda(pytester, user_directory) -> None:
    pytester.makefile(".yaml", agenda=TWO_JOBS)
    result = run(pytester, "agenda.yaml", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*::a-idle[[]1[]]*", "*::a-idle[[]2[]]*", "*::b-idle[[]1[]]*",
                                 "*::b-idle[[]2[]]*"])  # by_workload, from the user config
    result.stdout.fnmatch_lines(["pytest-wa: *config.yaml:2: user_directory: WA3 setting, "
                                 "not used by pytest-wa"])
    output = RunOutput(pytester.path / "wa_output")
    assert [m.name for m in output.jobs[0].metrics] == ["execution_time"]
    log = (pytester.path / "wa_output" / "run.log").read_text()
    assert f"Configuration read from {user_directory / 'config.yaml'}, " in log
    config = json.loads((pytester.path / "wa_output" / "__meta" / "config.json").read_text())
    assert config["run_config"]["execution_order"] == "by_workload"


def test_double_tilde_in_the_agenda_clears_the_user_configs_augmentations(
        pytester, user_directory) -> None:
    pytester.makefile(".yaml", agenda=TWO_JOBS.replace("config:\n", "config:\n  "
                                                      "augmentations: [~~]\n"))
    run(pytester, "agenda.yaml").assert_outcomes(passed=4)
    output = RunOutput(pytester.path / "wa_output")
    assert all(not job.metrics for job in output.jobs)


def test_a_mistake_in_the_user_config_names_its_file_and_line(pytester, user_directory) -> None:
    (user_directory / "config.yaml").write_text(USER_CONFIG + "max_retries: many\n")
    pytester.makefile(".yaml", agenda=TWO_JOBS)
    result = run(pytester, "agenda.yaml")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"{user_directory / 'config.yaml'}:8: max_retries: *"])
    assert "Traceback" not in result.stdout.str()
