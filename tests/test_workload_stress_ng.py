"""The stress-ng workload as users meet it: bogo-ops per stressor from its YAML file, WA3's
names under both spellings, and no stress-ng left behind on a timeout or Ctrl-C.

The YAML files under tests/data/outputs/ are the ``--yaml`` files of Debian 12's
stress-ng 0.15.06 on an x86_64 host, unedited: ``stress-ng --cpu 2 --timeout 1s
--metrics-brief`` and ``stress-ng --cpu 1 --pipe 1 --timeout 1s --metrics-brief``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_workload_sysbench import (
    LEFTOVERS,
    check_ctrl_c_kills,
    check_job_timeout_kills,
    leftovers,
    register,
    ssh_device,
    write_agenda,
)

from pytest_wa import RunOutput
from pytest_wa.model.errors import WorkloadError
from pytest_wa.workloads.stress_ng import parse_results

OUTPUTS = Path(__file__).resolve().parent / "data" / "outputs"
#: What the workload's command prints: stress-ng's log on stderr, then ``cat`` of its YAML.
LOG = """stress-ng: info:  [27967] setting to a 1 second run per stressor
stress-ng: info:  [27967] dispatching hogs: 2 cpu
stress-ng: info:  [27967] successful run completed in 1.00s
"""


def readings(text: str) -> dict[str, tuple[float, str | None, bool]]:
    return {r.name: (r.value, r.units, r.lower_is_better) for r in parse_results(text)}


def test_one_stressor_recorded_here() -> None:
    text = (OUTPUTS / "stress-ng-0.15.06-cpu.yaml").read_text()
    assert readings(text) == {"cpu": (1653, "ops", False)}


def test_every_stressor_of_the_run_gets_its_metric() -> None:
    """WA3 3.3.1 reads only the first; a second stressor from extra_args is not lost."""
    text = (OUTPUTS / "stress-ng-0.15.06-cpu-pipe.yaml").read_text()
    assert readings(text) == {"cpu": (534, "ops", False), "pipe": (167143, "ops", False)}


def test_the_yaml_is_found_in_the_command_output() -> None:
    yaml_text = (OUTPUTS / "stress-ng-0.15.06-cpu.yaml").read_text()
    assert readings(yaml_text + "\n" + LOG) == {"cpu": (1653, "ops", False)}
    assert readings(LOG) == {}  # stress-ng failed before writing it: no metrics


def test_free_text_in_system_info_does_not_matter() -> None:
    text = (OUTPUTS / "stress-ng-0.15.06-cpu.yaml").read_text()
    text = text.replace("compiler: 'gcc 12.2.0'", "compiler: gcc: 12: [unbalanced")
    assert readings(text) == {"cpu": (1653, "ops", False)}


def test_broken_metrics_are_an_error() -> None:
    text = "---\nmetrics:\n    - stressor: cpu\n      bogo-ops: [1\n...\n"
    with pytest.raises(WorkloadError, match="stress-ng's YAML metrics cannot be read"):
        readings(text)


def check_stress_metrics(job, stressor: str = "cpu") -> None:
    metric = job.metric(stressor)
    assert isinstance(metric.value, int) and metric.value > 0
    assert metric.units == "ops" and not metric.lower_is_better
    assert "bogo-ops" in job.artifact_path("stress_ng_results").read_text()
    assert "bogo-ops" in job.artifact_path("stress-ng_output").read_text()


def test_runs_for_real_under_both_names(pytester: pytest.Pytester) -> None:
    register(pytester, LEFTOVERS)
    write_agenda(pytester, """
        workloads:
          - {id: hyphen, name: stress-ng, params: {duration: 1, threads: 1}}
          - {id: underscore, name: stress_ng,
             params: {stressor: pipe, duration: 1, threads: 1, extra_args: "--cpu 1"}}
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    output = RunOutput(pytester.path / "wa_output")
    check_stress_metrics(output.job("hyphen", 1))
    check_stress_metrics(output.job("underscore", 1), "pipe")
    check_stress_metrics(output.job("underscore", 1), "cpu")
    assert leftovers(pytester) == {"hyphen": [], "underscore": []}  # the YAML file went


def test_wa3_rules_at_collection(pytester: pytest.Pytester) -> None:
    register(pytester)
    write_agenda(pytester, """
        workloads:
          - {name: stress_ng, params: {stressor: vm, duration: 10}}
          - {name: stress_ng, params: {stressor: matrix}}
    """)
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([
        "*agenda.yaml:2: workloads[[]0[]]: workload 'stress-ng': the vm stressor needs a "
        "duration of 60 s or more",
        "*agenda.yaml:3: workloads[[]1[]].params.stressor: workload 'stress-ng': 'matrix' is "
        "not allowed; *"])


def test_shown_under_its_alias(pytester: pytest.Pytester) -> None:
    register(pytester)
    result = pytester.runpytest("--wa-show", "stress_ng")
    result.stdout.fnmatch_lines(["stress-ng (workload)", "parameters:",
                                 "  duration (integer, default: 60)"])


LONG_RUN = "workloads:\n  - {id: long, name: stress-ng, params: {duration: 60, threads: 1}}\n"


def test_job_timeout_kills_stress_ng(pytester: pytest.Pytester) -> None:
    register(pytester)
    pytester.makefile(".yaml", agenda=LONG_RUN)
    check_job_timeout_kills(pytester, "stress-ng")


def test_ctrl_c_kills_stress_ng(pytester: pytest.Pytester) -> None:
    register(pytester)
    pytester.makefile(".yaml", agenda=LONG_RUN)
    check_ctrl_c_kills(pytester, "stress-ng")


SHORT_RUN = "workloads:\n  - {id: cpu, name: stress_ng, params: {duration: 1, threads: 1}}\n"


def test_runs_on_the_simulated_android_device(pytester, wa_simulated_device,
                                              monkeypatch) -> None:
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(wa_simulated_device.adb_port))
    register(pytester, LEFTOVERS)
    pytester.makefile(".yaml", agenda=SHORT_RUN)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           f"--wa-device=adb:{wa_simulated_device.serial}")
    result.assert_outcomes(passed=1)
    check_stress_metrics(RunOutput(pytester.path / "wa_output").job("cpu", 1))
    assert leftovers(pytester) == {"cpu": []}


def test_runs_over_ssh(pytester, wa_sshd, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    register(pytester, LEFTOVERS)
    pytester.makefile(".yaml", agenda=SHORT_RUN)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           ssh_device(pytester, wa_sshd), "--wa-device=board")
    result.assert_outcomes(passed=1)
    check_stress_metrics(RunOutput(pytester.path / "wa_output").job("cpu", 1))
    assert leftovers(pytester) == {"cpu": []}
