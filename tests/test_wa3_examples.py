"""The agendas WA3 3.3.1's user guide shows as examples run unchanged, every job OK.

The files under tests/data/wa3_examples/ are the guide's agendas as printed (its
README says which are there and why the others are not yet). They run
unchanged; only the programs' own run time is scaled down, the way a WA3 user
would: a user config.yaml in the WA3 user directory ($WA_USER_DIRECTORY) that
configures the workloads by name (cyclictest 1 s instead of 30 s, rt-app 1 s,
dhrystone one million loops where the agenda does not say). Iterations, ids,
labels, sections and parameters are the guide's.

The examples that set CPU governors (06 and 08) need cpufreq, which this host
(a VM) does not expose: they run on the simulated Android device, rooted, with
its realistic cpufreq tree. Their cyclictest jobs are left out there: the
simulated device shows the host's programs a made-up CPU topology, and the
host's cyclictest (libnuma) refuses it; the same cyclictest runs in 02-05 here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_wa3_compat import check_wa3_reads_the_same

from pytest_wa import RunOutput

EXAMPLES = Path(__file__).resolve().parent / "data" / "wa3_examples"

#: A conftest noting cpu0's governor while each job runs (the run restores it after).
GOVERNOR_SEEN = """
def pytest_wa_job_extract_results(job):
    governor = job.target.execute(
        "cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", timeout=30)
    with open("governors.txt", "a") as seen:
        seen.write(f"{job.spec.id} {governor.stdout.strip()}\\n")
"""

#: The user config that scales the programs' run time (the agendas are untouched).
SCALED = """\
dhrystone:
  mloops: 1
cyclictest:
  duration: 1
rt_app:
  duration: 1
"""


@pytest.fixture
def guide(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A directory with the guide's agendas and a WA3 user directory scaling them."""
    for example in EXAMPLES.glob("*.yaml"):
        shutil.copy(example, pytester.path / example.name)
    user = pytester.path / "wa-user"
    user.mkdir()
    (user / "config.yaml").write_text(SCALED)
    monkeypatch.setenv("WA_USER_DIRECTORY", str(user))
    return pytester


def jobs_per_spec(output: RunOutput) -> dict[str, int]:
    counts: dict[str, int] = {}
    for job in output.jobs:
        assert job.status.name == "OK", f"{job.id}: {job.status}"
        counts[f"{job.id}-{job.label}"] = counts.get(f"{job.id}-{job.label}", 0) + 1
    return counts


# example -> jobs per spec, as the guide says each example runs
LOCAL = {
    "user_guide_01": {"wk1-dhrystone": 1, "wk2-memcpy": 1, "wk3-rt_app": 1},
    "user_guide_02": {"wk1-dhrystone": 5, "wk2-memcpy": 5, "wk3-cyclictest": 5},
    "user_guide_03": {"wk1-dhrystone": 5, "wk2-memcpy": 5, "wk3-cyclictest": 5},
    "user_guide_04": {"wk1-dhrystone": 5, "wk2-memcpy": 5, "wk3-cyclictest": 10},
    "user_guide_05": {"wk1-dhrystone": 5, "wk2-memcpy": 5, "wk3-cyclictest": 10},
}


@pytest.mark.parametrize("example", sorted(LOCAL))
def test_user_guide_example_runs_on_this_host(guide: pytest.Pytester, example: str) -> None:
    result = guide.runpytest("-p", "no:cacheprovider", f"{example}.yaml")
    total = sum(LOCAL[example].values())
    result.assert_outcomes(passed=total)
    result.stdout.fnmatch_lines([f"*Ran a total of {total} iterations: {total} OK*"])
    output = RunOutput(guide.path / "wa_output")
    assert jobs_per_spec(output) == LOCAL[example]
    for job in output.jobs:
        assert job.metrics, f"{job.id} has no metrics"
    if example == "user_guide_05":  # the agenda's own parameters beat the user config's
        dhrystone = output.job("wk1", 1)
        assert dhrystone.spec["workload_parameters"]["mloops"] == 15
        assert {m.name for m in dhrystone.metrics} >= {f"thread {n} DMIPS" for n in range(6)}


ON_DEVICE = {
    "user_guide_06": {"wk1-dhrystone": 5, "wk2-memcpy": 5},
    "user_guide_08": {"01_dhry-dhrystone_15over6": 5, "02_memc-memcpy": 5},
}


@pytest.mark.wa_simulated_device(abi="x86_64")
@pytest.mark.parametrize("example", sorted(ON_DEVICE))
def test_user_guide_governor_example_runs_on_a_rooted_phone(
        guide: pytest.Pytester, wa_simulated_device, monkeypatch, subtests, example: str
        ) -> None:
    device = wa_simulated_device
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(device.adb_port))
    guide.makeconftest(GOVERNOR_SEEN)
    guide.makefile(".yaml", lab=f"""\
        devices:
          phone: {{kind: adb, device: "{device.serial}", adb_port: {device.adb_port},
                   adb_as_root: true}}
        """)
    result = guide.runpytest_subprocess("-p", "no:cacheprovider", f"{example}.yaml",
                                        "--wa-config=lab.yaml", "--wa-device=phone",
                                        "-k", "not cyclictest")
    result.assert_outcomes(passed=10)
    output = RunOutput(guide.path / "wa_output")
    assert jobs_per_spec(output) == ON_DEVICE[example]
    seen = (guide.path / "governors.txt").read_text().split("\n")
    ids = {job.spec["workload_name"]: job.id for job in output.jobs}
    assert f"{ids['dhrystone']} performance" in seen  # set for the job that asks for it,
    assert f"{ids['memcpy']} schedutil" in seen  # and restored for the next one
    check_wa3_reads_the_same(subtests, output.path)


#: What the simulated phone needs besides WA3's user config: its trace-cmd program (the
#: host's) cannot record inside the simulation, so the trace is taken through tracefs.
INCLUDES_DEVICE = """
trace-cmd:
  method: tracefs
dhrystone:
  mloops: 1
"""


@pytest.mark.wa_simulated_device(abi="x86_64")
def test_wa3_includes_example_runs_with_cpufreq_and_trace_cmd(
        pytester: pytest.Pytester, device, monkeypatch, subtests) -> None:
    """WA3's own include# example: config, sections and workloads from other files, and
    a user config that enables execution_time, which the agenda disables again."""
    shutil.copytree(EXAMPLES / "includes", pytester.path / "includes")
    user = pytester.path / "includes" / "user"
    (user / "config.yaml").write_text((user / "config.yaml").read_text() + INCLUDES_DEVICE)
    monkeypatch.setenv("WA_USER_DIRECTORY", str(user))
    pytester.makefile(".yaml", lab=f"""\
        devices:
          phone: {{kind: adb, device: "{device.serial}", adb_port: {device.adb_port},
                   adb_as_root: true}}
        """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "includes/agenda.yaml",
                                           "--wa-config=lab.yaml", "--wa-device=phone")
    result.assert_outcomes(passed=4)
    output = RunOutput(pytester.path / "wa_output")
    assert sorted(f"{job.id}-{job.label}" for job in output.jobs) == [
        "s1-wk1-dhrystone", "s1-wk2-memcpy", "s2-wk1-dhrystone", "s2-wk2-memcpy"]
    for job in output.jobs:
        names = {metric.name for metric in job.metrics}
        assert "execution_time" not in names  # the agenda's ~execution_time wins
        assert any(name.startswith("cpu") or "frequency" in name for name in names), names
        assert {"trace-cmd-txt", "cpufreq"} <= {a.name for a in job.artifacts}
    memcpy = output.job("s2-wk2", 1)
    assert memcpy.metrics[0].classifiers | {"section": "two", "included": True,
                                            "memcpy": True} == memcpy.metrics[0].classifiers
    check_wa3_reads_the_same(subtests, output.path)


#: The guide's agendas that use the csv output processor, with sections setting cpu0's
#: governor: only the ``perf`` section's governor (performance) exists on a current
#: kernel (interactive and sched are gone), so that section runs, on the rooted
#: simulated phone as 06 and 08 do (its cyclictest left out for the same reason).
CSV_EXAMPLES = {
    "user_guide_csv_sections": {"perf-01_dhry-dhrystone_15over6": 5, "perf-02_memc-memcpy": 5},
    "user_guide_csv_config": {"perf-01_dhry-dhrystone_15over6": 5, "perf-02_memc-memcpy": 5},
}


@pytest.mark.wa_simulated_device(abi="x86_64")
@pytest.mark.parametrize("example", sorted(CSV_EXAMPLES))
def test_user_guide_csv_example_writes_wa3_columns(
        guide: pytest.Pytester, wa_simulated_device, monkeypatch, subtests, example: str
        ) -> None:
    device = wa_simulated_device
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(device.adb_port))
    guide.makefile(".yaml", lab=f"""\
        devices:
          phone: {{kind: adb, device: "{device.serial}", adb_port: {device.adb_port},
                   adb_as_root: true}}
        """)
    result = guide.runpytest_subprocess("-p", "no:cacheprovider", f"{example}.yaml",
                                        "--wa-config=lab.yaml", "--wa-device=phone",
                                        "-k", "perf and not cyclictest")
    result.assert_outcomes(passed=10)
    output = RunOutput(guide.path / "wa_output")
    assert jobs_per_spec(output) == CSV_EXAMPLES[example]
    rows = (guide.path / "wa_output" / "results.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert header[:4] == ["id", "workload", "iteration", "metric"]
    assert header[-2:] == ["value", "units"]
    metrics = sum(len(job.metrics) for job in output.jobs) + len(output.metrics)
    assert len(rows) == 1 + metrics
    classifiers = sorted({name for job in output.jobs for metric in job.metrics
                          for name in metric.classifiers})
    assert header[4:-2] == classifiers  # use_all_classifiers: every one, as columns
    memcpy, dhrystone = output.job("perf-02_memc", 1), output.job("perf-01_dhry", 1)
    assert any(a.name.startswith("/proc/meminfo") for a in memcpy.artifacts)  # its own
    assert not any(a.name.startswith("/proc/meminfo") for a in dhrystone.artifacts)
    check_wa3_reads_the_same(subtests, output.path)
