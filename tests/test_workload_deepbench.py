"""The deepbench workload as users meet it: the program its test picks (deep-gemm,
deep-conv and deep-sparse preset it), WA3's metric names from both the table of
upstream's Arm benchmarks and the CSV of Arm's modernized ones, and no benchmark left
behind on a timeout or Ctrl-C.

Debian has none of these programs, so CI cannot install them. Outputs under
tests/data/outputs/, all on an x86_64 Debian 12 host with g++ 12.2:

- deepbench-da81ba7-gemm-table.txt: recorded, unedited: ``gemm_bench`` of DeepBench
  da81ba7 (upstream master, code/arm/gemm_bench.cc) built with gemmlowp 16e8662 as
  ``g++ -O3 --std=c++11 -I code/kernels -I <gemmlowp's parent> gemm_bench.cc -lpthread``
  (the Makefile's ``-mfpu=neon-fp-armv8`` is for Arm), run without arguments (~3 min).
- deepbench-pr102-0843d86-gemm-csv.txt and ...-gemm-csv-device.txt: recorded, unedited:
  ``gemm_bench`` of DeepBench pull request #102 (Arm's branch, 0843d86) built the same
  way, run without arguments (one 128x128x128 problem) and with ``--device``.
- deepbench-da81ba7-sparse-table.txt: recorded, unedited: ``sparse_bench`` of da81ba7
  built with Debian's Eigen 3.4.0 (``g++ -O3 -std=c++11 -I /usr/include/eigen3
  -I code/kernels sparse_bench.cpp``), run without arguments (~18 min).
- deepbench-da81ba7-conv-table-format.txt and deepbench-pr102-0843d86-conv-csv-format.txt:
  the documented format, written by hand from convolution.cpp's output statements (their
  first line says so): conv_bench needs the Arm Compute Library's NEON functions, which
  cannot be built on an x86_64 host. Their expected metrics below were worked out by hand.

The always-run tests replay those outputs through stand-in programs (scripts in a
--wa-resources directory that record their arguments), because Debian lacks the tools.
The real-run tests run the programs in the directory ``PYTEST_WA_TOOLS`` names.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_workload_resources import (
    DATA,
    assert_ctrl_c_kills,
    assert_job_timeout_kills,
    executable,
    run,
    session_cache,
    use_workloads,
)

from pytest_wa import RunOutput
from pytest_wa.workloads.deepbench_parse import parse_deepbench

REGISTER = """
from pytest_wa.workloads.deepbench import Deepbench, DeepConv, DeepGemm, DeepSparse

LAB_WORKLOADS.extend([Deepbench, DeepGemm, DeepConv, DeepSparse])
"""
TOOLS = os.environ.get("PYTEST_WA_TOOLS", "")
#: A stand-in program: saves its name and arguments to calls.txt, prints a recorded output.
STAND_IN = '#!/bin/sh\necho "$(basename "$0") $*" >> "{calls}"\ncat "{output}"\n'
GEMM_SIZES = ("m", "n", "k", "a_t", "b_t")
CONV_TABLE = ("w", "h", "c", "n", "k", "f_w", "f_h", "pad_w", "pad_h", "stride_w",
              "stride_h", "precision")


def real(program: str) -> Path | None:
    path = Path(TOOLS, program) if TOOLS else None
    return path if path is not None and path.is_file() else None


def needs(program: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        real(program) is None,
        reason=f"no real {program}: build it from github.com/baidu-research/DeepBench "
               f"code/arm (see docs/benchmarks.md) and set PYTEST_WA_TOOLS to a directory "
               f"holding it")


@pytest.fixture
def lab(pytester, monkeypatch, tmp_path_factory) -> pytest.Pytester:
    use_workloads(pytester, monkeypatch, session_cache(tmp_path_factory), REGISTER)
    return pytester


def rows(name: str, test: str) -> list[tuple[str, float, str | None, bool, dict]]:
    text = (DATA / name).read_text()
    return [(r.name, r.value, r.units, r.lower_is_better, r.classifiers)
            for r in parse_deepbench(text, test)]


# --- the parser: upstream's tables ------------------------------------------------------

def test_gemm_table_gives_time_and_gops_per_problem() -> None:
    found = rows("deepbench-da81ba7-gemm-table.txt", "gemm")
    assert len(found) == 26  # 13 problems
    sizes = {"m": 5124, "n": 700, "k": 2048, "a_t": "n", "b_t": "n"}
    assert found[:2] == [("time (msec)", 683.07, "msec", True, sizes),
                         ("GOPS", 21.5081, "GOP/s", False, sizes)]
    last = {"m": 4224, "n": 1, "k": 128, "a_t": "n", "b_t": "n"}
    assert found[-2:] == [("time (msec)", 1.10978, "msec", True, last),
                          ("GOPS", 0.974377, "GOP/s", False, last)]
    assert all(tuple(classifiers) == GEMM_SIZES for *_, classifiers in found)


def test_sparse_table_reads_transposition_as_t_or_n() -> None:
    """sparse_bench prints a_t and b_t as 0/1 (``<< a_t ? "t" : "n"`` binds as
    ``(<< a_t) ? ...``); the classifiers say n, as gemm's table does."""
    found = rows("deepbench-da81ba7-sparse-table.txt", "sparse")
    first = {"m": 7680, "n": 1, "k": 2560, "a_t": "n", "b_t": "n", "sparsity": 0.95,
             "precision": "uint8_t"}
    assert found[:3] == [("sparse time (usec)", 1746, "usec", True, first),
                         ("dense time (usec)", 2750, "usec", True, first),
                         ("speedup", 1.57503, None, False, first)]
    assert len(found) == 3 * 16  # 8 problems, uint8_t and float
    assert {c["precision"] for *_, c in found} == {"uint8_t", "float"}


def test_conv_table_in_the_documented_format() -> None:
    found = rows("deepbench-da81ba7-conv-table-format.txt", "conv")
    assert [(name, value, units, lower) for name, value, units, lower, _ in found] == [
        ("fwd_time (usec)", 9874, "usec", True), ("fwd_time (usec)", 3120, "usec", True),
        ("fwd_time (usec)", 11032, "usec", True)]
    assert found[2][4] == dict(zip(CONV_TABLE, (7, 7, 512, 1, 512, 3, 3, 1, 1, 1, 1,
                                                "float"), strict=True))


# --- the parser: the CSV of Arm's modernized benchmarks -----------------------------------

def test_gemm_csv_time_is_read_in_msec() -> None:
    """The CSV gives microseconds (USEC); WA3's metric is 'time (msec)'."""
    [time, gops] = rows("deepbench-pr102-0843d86-gemm-csv.txt", "gemm")
    sizes = {"op": "GEMMLOWP", "a_t": "n", "b_t": "n", "m": 128, "n": 128, "k": 128}
    assert time == ("time (msec)", pytest.approx(1.75714), "msec", True, sizes)
    assert gops == ("GOPS", 2.387, "GOP/s", False, sizes)


def test_gemm_csv_of_the_device_set() -> None:
    found = rows("deepbench-pr102-0843d86-gemm-csv-device.txt", "gemm")
    assert len(found) == 26
    assert found[0][:2] == ("time (msec)", pytest.approx(1605.63))  # 1.60563e+06 usec
    assert found[1][:2] == ("GOPS", 9.15001)
    assert found[0][4] == {"op": "GEMMLOWP", "a_t": "n", "b_t": "n", "m": 5124, "n": 700,
                           "k": 2048}


def test_conv_csv_in_the_documented_format() -> None:
    found = rows("deepbench-pr102-0843d86-conv-csv-format.txt", "conv")
    assert [(name, value) for name, value, *_ in found] == [
        ("fwd_time (usec)", 812.345), ("GOPS", 3.89194), ("fwd_time (usec)", 9874.52),
        ("GOPS", 10.4066), ("fwd_time (usec)", 10503.1), ("GOPS", 9.78382)]
    assert found[0][4] == {"op": "FWD", "w": 151, "h": 40, "c": 1, "n": 1, "k": 32,
                           "f_w": 20, "f_h": 5, "pad_w": 8, "pad_h": 8, "stride_w": 8,
                           "stride_h": 2}


def test_rows_cut_short_and_other_tests_columns_give_nothing() -> None:
    table = (DATA / "deepbench-da81ba7-gemm-table.txt").read_text().splitlines()
    cut = "\n".join(table[:4] + ["   35    700   2048      n"])
    assert [r.value for r in parse_deepbench(cut, "gemm")] == [683.07, 21.5081]
    assert list(parse_deepbench("\n".join(table), "sparse")) == []
    conv = (DATA / "deepbench-da81ba7-conv-table-format.txt").read_text()
    assert list(parse_deepbench(conv, "gemm")) == []
    assert list(parse_deepbench("GEMMOP,TA,TB,M,N,K,USEC,GOP/s\nGEMMLOWP,false,false,"
                                "1,1,1,inf,nan\n", "gemm")) == []


# --- which program runs, and result.json, with stand-in programs (CI) --------------------

def stand_ins(lab: pytest.Pytester, **outputs: str) -> Path:
    """Stand-in programs in res/, e.g. ``conv_bench=<recorded output>``; returns the file
    each call is appended to."""
    calls = lab.path / "calls.txt"
    for program, recorded in outputs.items():
        executable(lab.path / "res" / program, STAND_IN.format(calls=calls, output=DATA / recorded))
    return calls


def test_deep_conv_runs_conv_bench_alone(lab) -> None:
    """The alias presets test: conv, so only conv_bench is needed (res/ has no gemm_bench)."""
    calls = stand_ins(lab, conv_bench="deepbench-da81ba7-conv-table-format.txt")
    lab.makefile(".yaml", agenda="workloads:\n  - {id: conv, name: deep-conv}\n")
    run(lab, "agenda.yaml", "--wa-resources=res").assert_outcomes(passed=1)
    assert calls.read_text() == "conv_bench \n"
    job = RunOutput(lab.path / "wa_output").job("conv", 1)
    assert [(m.name, m.value, m.units, m.lower_is_better) for m in job.metrics] == [
        ("fwd_time (usec)", 9874, "usec", True), ("fwd_time (usec)", 3120, "usec", True),
        ("fwd_time (usec)", 11032, "usec", True)]
    assert job.metrics[1].classifiers["stride_w"] == 2
    assert "fwd_time (usec)" in job.artifact_path("deep-conv_output").read_text()


def test_test_parameter_and_extra_params(lab) -> None:
    calls = stand_ins(lab, sparse_bench="deepbench-da81ba7-sparse-table.txt",
                      gemm_bench="deepbench-pr102-0843d86-gemm-csv-device.txt")
    lab.makefile(".yaml", agenda="""\
        workloads:
          - {id: sparse, name: deepbench, params: {test: sparse}}
          - {id: gemm, name: deep_gemm, params: {extra_params: --device --num-threads 2}}
          - {id: both, name: deep-sparse, params: {test: gemm}}
        """)
    run(lab, "agenda.yaml", "--wa-resources=res").assert_outcomes(passed=3)
    assert calls.read_text().splitlines() == [
        "sparse_bench ", "gemm_bench --device --num-threads 2", "gemm_bench "]
    output = RunOutput(lab.path / "wa_output")
    assert {m.name for m in output.job("sparse", 1).metrics} == {
        "sparse time (usec)", "dense time (usec)", "speedup"}
    gemm = output.job("gemm", 1)
    assert gemm.metrics[0].value == pytest.approx(1605.63)
    assert gemm.metrics[0].classifiers == {"op": "GEMMLOWP", "a_t": "n", "b_t": "n",
                                           "m": 5124, "n": 700, "k": 2048}
    assert len(output.job("both", 1).metrics) == 26


def test_a_failing_program_is_named_in_the_failure(lab) -> None:
    """The job's own program, though deepbench's default test is gemm."""
    executable(lab.path / "res" / "conv_bench", "#!/bin/sh\necho 'no NEON here' >&2\nexit 3\n")
    lab.makefile(".yaml", agenda="workloads:\n  - {name: deepbench, params: {test: conv}}\n")
    result = run(lab, "agenda.yaml", "--wa-resources=res", "--wa-max-retries=0")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*conv_bench exited with code 3*", "*no NEON here*"])


def test_a_missing_program_is_named_before_the_first_job(lab) -> None:
    stand_ins(lab, gemm_bench="deepbench-da81ba7-gemm-table.txt")
    lab.makefile(".yaml", agenda="workloads:\n  - deep-gemm\n  - deep-sparse\n")
    result = run(lab, "agenda.yaml", "--wa-resources=res")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*agenda.yaml:3: wk2 (deep-sparse): workload 'deep-sparse' "
                                 "needs 'sparse_bench', which device 'local' does not have*"])
    assert "gemm_bench'" not in result.stderr.str()


def test_mistakes_are_located_at_collection(lab) -> None:
    lab.makefile(".yaml", agenda="workloads:\n  - {name: deepbench, params: {test: rnn}}\n")
    run(lab, "--co", "agenda.yaml").stdout.fnmatch_lines([
        "*agenda.yaml:2: workloads[[]0[]].params.test: workload 'deepbench': 'rnn' is not "
        "allowed; choose from 'gemm', 'conv', 'sparse'"])


def test_aliases_shown_with_their_preset(lab) -> None:
    run(lab, "--wa-show", "deep-sparse").stdout.fnmatch_lines([
        "deep-sparse (workload)", "*WA3's alias deep-sparse*", "parameters:",
        "  test (string, default: 'sparse'; one of 'gemm', 'conv', 'sparse')"])
    run(lab, "--wa-show", "deepbench").stdout.fnmatch_lines([
        "  test (string, default: 'gemm'; one of 'gemm', 'conv', 'sparse')",
        "  extra_params (string, default: '')"])


# --- the real programs (PYTEST_WA_TOOLS) -----------------------------------------------

@needs("gemm_bench")
def test_real_gemm_bench(lab) -> None:
    """A CSV build runs the one problem extra_params gives (well under a second); a table
    build ignores arguments and runs its whole set (about 3 minutes on a 2-core x86_64)."""
    lab.makefile(".yaml", agenda="workloads:\n  - {id: g, name: deep-gemm, params: "
                                 "{extra_params: --m 256 --n 128 --k 512 --repeat 5}}\n")
    run(lab, "agenda.yaml", f"--wa-resources={TOOLS}").assert_outcomes(passed=1)
    job = RunOutput(lab.path / "wa_output").job("g", 1)
    times = [m for m in job.metrics if m.name == "time (msec)"]
    gops = [m for m in job.metrics if m.name == "GOPS"]
    assert times and len(times) == len(gops)
    assert all(m.value > 0 and m.units == "msec" and m.lower_is_better for m in times)
    assert all(m.value > 0 and m.units == "GOP/s" and not m.lower_is_better for m in gops)
    for time, rate in zip(times, gops, strict=True):
        sizes = time.classifiers
        assert sizes["a_t"] in ("t", "n") and sizes == rate.classifiers
        ops = 2 * sizes["m"] * sizes["n"] * sizes["k"]  # the program's own GOPS, from time
        assert rate.value == pytest.approx(ops / time.value / 1e6, rel=1e-3)
    assert job.artifact_path("deep-gemm_output").read_text().strip()


def long_run(lab: pytest.Pytester, test: str) -> None:
    """A job that runs far longer than the tests wait: --training where it is understood
    (Arm's CSV builds), the whole built-in set where arguments are ignored."""
    lab.makefile(".yaml", agenda=f"workloads:\n  - {{name: deepbench, params: {{test: {test}, "
                                 f"binary: {real(f'{test}_bench')}, extra_params: --training}}}}\n")


@needs("gemm_bench")
def test_job_timeout_leaves_no_gemm_bench_running(lab) -> None:
    long_run(lab, "gemm")
    assert_job_timeout_kills(lab, "gemm_bench --training")


@needs("gemm_bench")
def test_ctrl_c_leaves_no_gemm_bench_running(lab) -> None:
    long_run(lab, "gemm")
    assert_ctrl_c_kills(lab, "gemm_bench --training")


@needs("sparse_bench")
def test_job_timeout_leaves_no_sparse_bench_running(lab) -> None:
    long_run(lab, "sparse")
    assert_job_timeout_kills(lab, "sparse_bench --training")
