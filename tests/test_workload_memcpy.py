"""memcpy as users meet it: pytest-wa's own program built and run on this host, WA3's
metrics and parameters (with the ``iterations`` alias), CPU pinning, the job limits,
and the parser on recorded outputs."""

from __future__ import annotations

import pytest
from test_workload_resources import (
    DATA,
    assert_ctrl_c_kills,
    assert_job_timeout_kills,
    metrics,
    run,
    session_cache,
    use_workloads,
)

from pytest_wa import RunOutput
from pytest_wa.workloads.memcpy import parse_memcpy
from pytest_wa.workloads.tool import Reading

MIB = 1024 * 1024


@pytest.fixture
def lab(pytester, monkeypatch, tmp_path_factory) -> pytest.Pytester:
    use_workloads(pytester, monkeypatch, session_cache(tmp_path_factory))
    return pytester


def test_time_and_bandwidth_under_wa3s_names(lab) -> None:
    lab.makefile(".yaml", agenda=f"""\
        workloads:
          - {{id: pinned, name: memcpy, params: {{buffer_size: {MIB}, loops: 200, cpus: "0"}}}}
          - {{id: alias, name: memcpy, params: {{buffer_size: {MIB}, iterations: 100}}}}
        """)
    run(lab, "agenda.yaml").assert_outcomes(passed=2)
    output = RunOutput(lab.path / "wa_output")
    for job, loops in ((output.job("pinned", 1), 200), (output.job("alias", 1), 100)):
        found = metrics(job)
        assert set(found) == {"time", "bandwidth"}
        seconds, units, lower = found["time"]
        assert 0 < seconds < 30 and units == "seconds" and lower
        bandwidth, units, lower = found["bandwidth"]
        assert units == "MB/s" and not lower
        assert bandwidth == pytest.approx(MIB * loops / seconds / 1e6, rel=0.01)
        assert "Bandwidth:" in job.artifact_path("memcpy_output").read_text()
        command = (job.path / "output.txt").read_text().splitlines()[0]
        assert f"-i {loops} -s {MIB}" in command
    assert (output.job("pinned", 1).path / "output.txt").read_text().split("\n")[0].endswith(
        " -c 0")


def test_mistakes_are_located_at_collection(lab) -> None:
    lab.makefile(".yaml", agenda="workloads:\n  - {name: memcpy, params: {buffer_size: 0}}\n")
    run(lab, "--co", "agenda.yaml").stdout.fnmatch_lines([
        "*agenda.yaml:2: workloads[[]0[]]: workload 'memcpy': buffer_size and loops must be "
        "1 or more, got 0 and 1000"])


def test_job_timeout_leaves_no_memcpy_running(lab) -> None:
    lab.makefile(".yaml", agenda=f"workloads:\n  - {{name: memcpy, params: "
                                 f"{{buffer_size: {MIB}, loops: 100000007}}}}\n")
    assert_job_timeout_kills(lab, "memcpy.* -i 100000007 ")


def test_ctrl_c_leaves_no_memcpy_running(lab) -> None:
    lab.makefile(".yaml", agenda=f"workloads:\n  - {{name: memcpy, params: "
                                 f"{{buffer_size: {MIB}, loops: 100000009}}}}\n")
    assert_ctrl_c_kills(lab, "memcpy.* -i 100000009 ")


def test_wa_show_documents_it(lab) -> None:
    result = run(lab, "--wa-show", "memcpy")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "memcpy (workload)", "*Copy a buffer in memory with memcpy*", "parameters:",
        "  buffer_size (integer, default: 5242880)", "  loops (integer, default: 1000)",
        "*Alias: iterations.", "  cpus (cpu mask, default: 0)",
        "  uninstall (boolean, default: False)", "  binary (string, default: None)"])


# --- the parser, on outputs recorded here ------------------------------------------

@pytest.mark.parametrize(("recorded", "expected"), [
    ("memcpy-pytest-wa-1MiB.txt", (0.003865, 27131.68145)),
    ("memcpy-wa3-format.txt", (0.412345, 12717.345678)),
])
def test_parser_reads_recorded_outputs(recorded, expected) -> None:
    seconds, bandwidth = expected
    assert parse_memcpy((DATA / recorded).read_text()) == [
        Reading("time", seconds, "seconds", lower_is_better=True),
        Reading("bandwidth", bandwidth, "MB/s")]
