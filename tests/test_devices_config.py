"""Device config files, inline device names and the errors users get for them."""

from __future__ import annotations

import pytest

AGENDA = """\
workloads:
  - id: where
    name: command
    params:
      command: pwd
"""


@pytest.fixture
def agenda(pytester: pytest.Pytester):
    return pytester.makefile(".yaml", agenda=AGENDA)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_a_configured_local_device_runs_in_its_working_directory(pytester, agenda) -> None:
    base = pytester.path / "scratch"
    pytester.makefile(".yaml", devices=f"""\
        devices:
          bench:
            kind: local
            working_directory: {base}
            description: the bench PC
        """)
    result = run(pytester, "--wa-config", "devices.yaml", "--wa-device", "bench", "-v",
                 "agenda.yaml")
    result.assert_outcomes(passed=1)
    output = (pytester.path / "wa_output" / "where-command-1" / "output.txt").read_text()
    assert f"{base}/pytest-wa-run-" in output
    config = (pytester.path / "wa_output" / "__meta" / "config.json").read_text()
    assert '"kind": "local"' in config and "the bench PC" in config


def test_unknown_device_is_one_line_before_any_job(pytester, agenda) -> None:
    pytester.makefile(".yaml", devices="devices:\n  pixel: {kind: adb, device: X1}\n")
    result = run(pytester, "--wa-config", "devices.yaml", "--wa-device", "pixl", "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-wa: unknown device 'pixl'. Did you mean "
                                 "'pixel'? Configured devices: pixel. Inline forms: *"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert not (pytester.path / "wa_output").exists()


def test_every_problem_of_a_config_file_is_located(pytester, agenda) -> None:
    pytester.makefile(".yaml", devices="""\
        devices:
          phone:
            kind: adb
            adb_as_rot: true
          board:
            kind: ssh
            port: twenty-two
          toaster: {kind: toaster}
        """)
    result = run(pytester, "--wa-config", "devices.yaml", "--wa-device", "phone", "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stderr.str()
    assert "devices.yaml:4: devices.phone.adb_as_rot: unknown parameter. Did you mean " \
           "'adb_as_root'" in text
    assert "devices.yaml:7: devices.board.port: expected an integer, got 'twenty-two'" in text
    assert "devices.yaml:5: devices.board.host: mandatory parameter is missing" in text
    assert "devices.yaml:8: devices.toaster.kind: unknown kind 'toaster'" in text
    assert "Traceback" not in text


def test_yaml_syntax_error_in_a_config_file(pytester, agenda) -> None:
    pytester.makefile(".yaml", devices="devices:\n  a: {kind: local\n")
    result = run(pytester, "--wa-config", "devices.yaml", "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-wa: devices.yaml:*: YAML syntax error*"])


def test_missing_config_file(pytester, agenda) -> None:
    result = run(pytester, "--wa-config", "nowhere.yaml", "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*nowhere.yaml: device config file not found (--wa-config)"])


def test_ini_config_files_are_relative_to_the_ini_file(pytester, agenda) -> None:
    (pytester.path / "lab").mkdir()
    (pytester.path / "lab" / "devices.yaml").write_text(
        "devices:\n  here: {kind: local}\n  there: {kind: local, description: second}\n")
    (pytester.path / "override.yaml").write_text(
        "devices:\n  there: {kind: local, description: overridden}\n")
    pytester.makeini("[pytest]\nwa_config = lab/devices.yaml\n")
    result = run(pytester, "--wa-config", "override.yaml", "--wa-list", "devices")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["local *this host (the default)",
                                 "here *local *this host*lab/devices.yaml:2*",
                                 "there *local *this host *overridden*override.yaml:2*",
                                 "inline: *"])


def test_pasted_wa3_device_config_loads_with_a_note(pytester, agenda) -> None:
    pytester.makefile(".yaml", devices="""\
        devices:
          bench:
            kind: generic_local
            device_config:
              working_directory: /tmp
              load_default_modules: false
        """)
    result = run(pytester, "--wa-config", "devices.yaml", "--wa-device", "bench", "agenda.yaml")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*devices.yaml:6: devices.bench.load_default_modules: WA3 "
                                 "setting, not used by pytest-wa*"])


def test_password_in_an_inline_ssh_device_is_refused(pytester, agenda) -> None:
    result = run(pytester, "--wa-device", "ssh://pi:s3cret@board", "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stdout.str() + result.stderr.str()
    assert "passwords are not accepted on the command line" in text
    assert "s3cret" not in text


def test_unreachable_ssh_device_fails_once_and_keeps_the_password_secret(
        pytester, agenda) -> None:
    pytester.makefile(".yaml", devices="""\
        devices:
          board: {kind: ssh, host: 127.0.0.1, port: 1, username: pi, password: hunter2-secret}
        """)
    result = run(pytester, "--wa-config", "devices.yaml", "--wa-device", "board",
                 "--junit-xml=junit.xml", "agenda.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = result.stdout.str() + result.stderr.str()
    assert "cannot use device 'board'" in text and "refused" in text
    assert text.count("cannot use device") == 1
    assert "hunter2-secret" not in text
    for path in pytester.path.rglob("*"):
        if path.is_file() and path.name != "devices.yaml":
            assert b"hunter2-secret" not in path.read_bytes(), path


def test_list_devices_masks_nothing_secret(pytester) -> None:
    pytester.makefile(".yaml", devices="""\
        devices:
          board: {kind: linux, host: 10.0.0.9, username: pi, password: hunter2-secret}
          phone: {kind: android, adb_name: R58M123}
        """)
    result = run(pytester, "--wa-config", "devices.yaml", "--wa-list", "devices")
    result.stdout.fnmatch_lines(["board *ssh *ssh pi@10.0.0.9:22*", "phone *adb *adb R58M123*"])
    assert "hunter2-secret" not in result.stdout.str()
