"""The lmbench workload as users meet it: lat_mem_rd's latencies and bw_mem's bandwidths
as metrics (WA3 3.3.1 reports none), the command lines built from WA3's parameters, only
the program the job needs looked for, and nothing left running after a timeout or Ctrl-C.

lmbench is not in Debian, so CI cannot install it. The outputs under tests/data/outputs/
are lmbench 3 (https://github.com/intel/lmbench at 941a0dc, version.h 3 alpha 4), built
with its own scripts/build (``CFLAGS='-O -I/usr/include/tirpc'``) on a Debian 12 x86_64
host (gcc 12.2, a busy 2-core VM): what each command printed on stderr, unedited (both
programs print their results there; stdout stayed empty):

- ``lat_mem_rd -t 1 128`` (``...-lat_mem_rd-t-1-128.txt``);
- ``lat_mem_rd -P 2 -N 3 1 16k 256k`` (``...-lat_mem_rd-P2-N3-1-16k-256k.txt``);
- ``lat_mem_rd -N 1 -t 1 8192`` (``...-lat_mem_rd-N1-t-1-8192.txt``: a stride over the
  4 KiB page size with -t; the 8 KiB array is not walked and prints 0.000);
- ``for c in rd wr rdwr cp frd fwr fcp bzero bcopy; do bw_mem 4m $c; done``
  (``...-bw_mem-4m-categories.txt``, one line per category in that order);
- ``bw_mem -P 2 -W 1 -N 3 512k fcp`` (``...-bw_mem-P2-W1-N3-512k-fcp.txt``).

The expected metrics below are written by hand from those files. The replay tests put a
small script under each program's name in a --wa-resources directory: it records its
argv and prints a recorded output, because Debian lacks the tool. The real-run tests run
the real programs from the directory in ``PYTEST_WA_TOOLS`` (skipped without it), with
lmbench's own ENOUGH, TIMING_O and LOOP_O set so each run skips its timer calibration.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from test_workload_resources import (
    assert_job_timeout_kills,
    assert_none_left,
    executable,
    processes,
    run,
    session_cache,
    use_workloads,
)

from pytest_wa import RunOutput
from pytest_wa.workloads.lmbench import Lmbench, size_problem
from pytest_wa.workloads.lmbench_results import (
    bw_mem_readings,
    lat_mem_rd_readings,
    marker,
    parse_lmbench,
)
from pytest_wa.workloads.tool import Reading

OUTPUTS = Path(__file__).resolve().parent / "data" / "outputs"
PREFIX = "lmbench-3-intel-941a0dc-"
LAT = OUTPUTS / f"{PREFIX}lat_mem_rd-t-1-128.txt"
LAT_STRIDES = OUTPUTS / f"{PREFIX}lat_mem_rd-P2-N3-1-16k-256k.txt"
LAT_UNWALKED = OUTPUTS / f"{PREFIX}lat_mem_rd-N1-t-1-8192.txt"
BW = OUTPUTS / f"{PREFIX}bw_mem-4m-categories.txt"
BW_FCP = OUTPUTS / f"{PREFIX}bw_mem-P2-W1-N3-512k-fcp.txt"
RECORDED_ORDER = ("rd", "wr", "rdwr", "cp", "frd", "fwr", "fcp", "bzero", "bcopy")
WA3_CATEGORIES = ("rd", "wr", "cp", "frd", "fwr", "fcp", "bzero", "bcopy")
REGISTER = """
from pytest_wa.workloads.lmbench import Lmbench

LAB_WORKLOADS.append(Lmbench)
"""
#: lmbench's own knobs (its scripts/lmbench exports them): no timing calibration at each
#: start, which takes up to a minute per program run on a busy host.
NO_CALIBRATION = {"ENOUGH": "5000", "TIMING_O": "0", "LOOP_O": "0"}

# Read off the recorded files by hand.
LAT_POINTS = 59  # array sizes 0.00049 (512 bytes) to 1 MB
LAT_FIRST, LAT_LAST = 1.098, 21.754  # ns at 0.00049 MB and at 1 MB
LAT_AT_0_125 = 34  # "0.12500 4.230", the 35th size
STRIDES_FIRST = {16384: ("latency_0.01562MB_stride_16384", 1.371, 49),
                 262144: ("latency_0.25MB_stride_262144", 1.456, 17)}
BW_VALUES = {"bandwidth_rd_4m": 69335.09, "bandwidth_wr_4m": 78556.51,
             "bandwidth_rdwr_4m": 55806.57, "bandwidth_cp_4m": 35286.01,
             "bandwidth_frd_4m": 15632.42, "bandwidth_fwr_4m": 19077.91,
             "bandwidth_fcp_4m": 12422.47, "bandwidth_bzero_4m": 59451.08,
             "bandwidth_bcopy_4m": 46661.99}
BW_FCP_READING = ("bandwidth_fcp_512k", 24147.59, 0.524288)


@pytest.fixture
def lab(pytester, monkeypatch, tmp_path_factory) -> pytest.Pytester:
    use_workloads(pytester, monkeypatch, session_cache(tmp_path_factory), REGISTER)
    return pytester


# --- the parser, on recorded outputs --------------------------------------------------

def test_lat_mem_rd_latencies_from_the_recorded_output() -> None:
    readings = list(lat_mem_rd_readings(LAT.read_text().splitlines(), "1"))
    assert readings[0] == Reading("latency_0.00049MB_stride_128", LAT_FIRST, "ns", True,
                                  {"size": "1", "array_mb": 0.00049, "stride": 128})
    assert readings[-1] == Reading("latency_1MB_stride_128", LAT_LAST, "ns", True,
                                   {"size": "1", "array_mb": 1.0, "stride": 128})
    assert len(readings) == LAT_POINTS == len({r.name for r in readings})
    assert (readings[LAT_AT_0_125].name, readings[LAT_AT_0_125].value) == (
        "latency_0.125MB_stride_128", 4.23)


def test_lat_mem_rd_gives_one_curve_per_stride() -> None:
    readings = list(lat_mem_rd_readings(LAT_STRIDES.read_text().splitlines(), "1"))
    by_stride = {stride: [r for r in readings if r.classifiers["stride"] == stride]
                 for stride in (16384, 262144)}
    assert len(readings) == sum(len(curve) for curve in by_stride.values())
    assert {stride: (curve[0].name, curve[0].value, len(curve))
            for stride, curve in by_stride.items()} == STRIDES_FIRST


def test_an_array_lat_mem_rd_did_not_walk_gives_no_metric() -> None:
    """Its line says 0.000 ns; the other 52 array sizes are measured."""
    readings = list(lat_mem_rd_readings(LAT_UNWALKED.read_text().splitlines(), "1"))
    assert len(readings) == 52 and all(r.value > 0 for r in readings)
    assert readings[0] == Reading("latency_0.00977MB_stride_8192", 1.759, "ns", True,
                                  {"size": "1", "array_mb": 0.00977, "stride": 8192})


def test_bw_mem_bandwidth_of_each_category() -> None:
    lines = BW.read_text().splitlines()
    assert len(lines) == len(RECORDED_ORDER)
    readings = [next(bw_mem_readings([line], "4m", category))
                for line, category in zip(lines, RECORDED_ORDER, strict=True)]
    assert {r.name: r.value for r in readings} == BW_VALUES
    assert {(r.units, r.lower_is_better) for r in readings} == {("MB/s", False)}
    assert readings[0].classifiers == {"size": "4m", "size_mb": 4.19, "category": "rd"}
    [fcp] = bw_mem_readings(BW_FCP.read_text().splitlines(), "512k", "fcp")
    assert (fcp.name, fcp.value, fcp.classifiers["size_mb"]) == BW_FCP_READING


def test_runs_are_told_apart_by_the_markers() -> None:
    """What the workload's command prints: a marker before each run, repeated per loop;
    a run that printed only its usage adds nothing."""
    bw_line = BW.read_text().splitlines()[0]
    text = "\n".join([marker("bw_mem", "4m", "rd"), bw_line,
                      marker("bw_mem", "4m", "wr"), "Usage: bw_mem [-P <parallelism>] ...",
                      marker("bw_mem", "4m", "rd"), bw_line])
    assert [(r.name, r.value) for r in parse_lmbench(text)] == [
        ("bandwidth_rd_4m", BW_VALUES["bandwidth_rd_4m"])] * 2
    lat = parse_lmbench(marker("lat_mem_rd", "1m", "128") + "\n" + LAT.read_text())
    assert len(lat) == LAT_POINTS and lat[0].classifiers["size"] == "1m"
    assert parse_lmbench(LAT.read_text()) == []  # no marker: not the workload's command


@pytest.mark.parametrize(("test", "size", "problem"), [
    ("lat_mem_rd", "4m", None), ("lat_mem_rd", "4", None), ("lat_mem_rd", "8M", None),
    ("lat_mem_rd", "512k", "lat_mem_rd takes whole megabytes ('4m' or 4), got '512k'"),
    ("lat_mem_rd", "0", "lat_mem_rd takes whole megabytes ('4m' or 4), got '0'"),
    ("lat_mem_rd", "1g", "lat_mem_rd takes whole megabytes ('4m' or 4), got '1g'"),
    ("bw_mem", "512k", None), ("bw_mem", "4m", None), ("bw_mem", "512", None),
    ("bw_mem", "4", "bw_mem needs at least 512 bytes, got '4' (bytes without k or m)"),
    ("bw_mem", "4 m", "bw_mem takes bytes, or k or m for KiB or MiB ('4m'), got '4 m'"),
])
def test_sizes_each_program_reads_as_meant(test: str, size: str, problem: str | None) -> None:
    assert size_problem(test, size) == problem


# --- the command line -----------------------------------------------------------------

def command_of(**given: object) -> str:
    values, problems = Lmbench.resolve(given)
    assert problems == []
    workload = Lmbench(**values)
    workload.validate()
    workload.program = "/opt/lm/bin/prog"
    return workload.command_line(None)  # type: ignore[arg-type]


def test_one_run_per_size_and_stride_in_wa3_order() -> None:
    assert command_of(size=["1", "2m"], stride=[64, 4096], thrash=False, taskset_mask="0-1") == (
        "echo 'lmbench: lat_mem_rd size=1 stride=64' && taskset 0x3 /opt/lm/bin/prog 1 64 2>&1"
        " && echo 'lmbench: lat_mem_rd size=1 stride=4096' && taskset 0x3 /opt/lm/bin/prog 1 "
        "4096 2>&1 && echo 'lmbench: lat_mem_rd size=2m stride=64' && taskset 0x3 "
        "/opt/lm/bin/prog 2m 64 2>&1 && echo 'lmbench: lat_mem_rd size=2m stride=4096' && "
        "taskset 0x3 /opt/lm/bin/prog 2m 4096 2>&1")


def test_loops_repeat_the_whole_sequence_in_one_shell_loop() -> None:
    assert command_of(test="bw_mem", size=1024, mem_category=["rd", "bzero"], loops=3,
                      warmup=0, parallelism=2) == (
        "i=0; while [ $i -lt 3 ]; do i=$((i + 1)); { "
        "echo 'lmbench: bw_mem size=1024 category=rd' && /opt/lm/bin/prog -P 2 -W 0 1024 rd "
        "2>&1 && echo 'lmbench: bw_mem size=1024 category=bzero' && /opt/lm/bin/prog -P 2 "
        "-W 0 1024 bzero 2>&1; } || exit; done")


def test_only_the_program_the_test_needs_is_looked_for() -> None:
    assert [t.name for t in Lmbench.tools_for({})] == ["lat_mem_rd"]
    assert [t.name for t in Lmbench.tools_for({"test": "bw_mem"})] == ["bw_mem"]
    [tool] = Lmbench.tools_for({"test": "lat_mem_rd", "size": "8m"})
    assert tool.debian is None and "../scripts/build ../bin/$(../scripts/os)/lat_mem_rd" in (
        tool.hint())


# --- replayed runs (the always-run part) ----------------------------------------------

#: A stand-in for an lmbench program: it records its argv and prints a recorded output
#: on stderr, as the real one does (bw_mem: the recorded line of its category).
FAKE = """#!/bin/sh
echo "$*" >> "{argv}"
for last; do :; done
{body}
"""
FAKE_LAT = 'cat "{recorded}" >&2'
FAKE_BW = ('line=$(printf "%s\\n" {order} | grep -nx "$last" | cut -d: -f1)\n'
           '[ "$last" = "{fail}" ] && {{ echo "bw_mem: cannot map memory" >&2; exit 3; }}\n'
           'sed -n "${{line}}p" "{recorded}" >&2')


def fake_programs(lab: pytest.Pytester, fail: str = "none") -> Path:
    """Both stand-ins in res/; their calls go to argv.txt."""
    argv = lab.path / "argv.txt"
    executable(lab.path / "res" / "lat_mem_rd",
               FAKE.format(argv=argv, body=FAKE_LAT.format(recorded=LAT)))
    bw_body = FAKE_BW.format(order=" ".join(RECORDED_ORDER), fail=fail, recorded=BW)
    executable(lab.path / "res" / "bw_mem", FAKE.format(argv=argv, body=bw_body))
    return argv


def test_replayed_lat_mem_rd_every_size_and_loop_reaches_result_json(lab) -> None:
    argv = fake_programs(lab)
    lab.makefile(".yaml", agenda="workloads:\n  - {id: lat, name: lmbench, params: "
                                 "{size: [1, 1m], loops: 2, repetitions: 3, parallelism: 2, "
                                 "warmup: 100}}\n")
    run(lab, "agenda.yaml", "--wa-resources=res").assert_outcomes(passed=1)
    assert argv.read_text().splitlines() == ["-P 2 -W 100 -N 3 -t 1 128",
                                             "-P 2 -W 100 -N 3 -t 1m 128"] * 2
    job = RunOutput(lab.path / "wa_output").job("lat", 1)
    assert len(job.metrics) == 4 * LAT_POINTS
    first = [m for m in job.metrics if m.name == "latency_0.00049MB_stride_128"]
    assert [(m.value, m.units, m.lower_is_better, m.classifiers["size"]) for m in first] == [
        (LAT_FIRST, "ns", True, size) for size in ("1", "1m", "1", "1m")]
    assert first[0].classifiers["array_mb"] == 0.00049 and first[0].classifiers["stride"] == 128
    output = job.artifact_path("lmbench_output").read_text()
    assert output.count("lmbench: lat_mem_rd size=1m stride=128") == 2


def test_replayed_bw_mem_pinned_with_wa3_categories(lab) -> None:
    argv = fake_programs(lab)
    lab.makefile(".yaml", agenda="workloads:\n  - {id: bw, name: lmbench, params: "
                                 "{test: bw_mem, cpus: '0'}}\n")
    run(lab, "agenda.yaml", "--wa-resources=res").assert_outcomes(passed=1)
    assert argv.read_text().splitlines() == [f"4m {c}" for c in WA3_CATEGORIES]
    job = RunOutput(lab.path / "wa_output").job("bw", 1)
    assert {m.name: (m.value, m.units, m.lower_is_better) for m in job.metrics} == {
        name: (value, "MB/s", False) for name, value in BW_VALUES.items()
        if name != "bandwidth_rdwr_4m"}
    assert job.metric("bandwidth_bcopy_4m").classifiers["category"] == "bcopy"
    assert "taskset 0x1 " in (job.path / "output.txt").read_text()


def test_a_failed_run_stops_the_sequence_and_fails_the_job(lab) -> None:
    argv = fake_programs(lab, fail="cp")
    lab.makefile(".yaml", agenda="workloads:\n  - {id: bw, name: lmbench, params: "
                                 "{test: bw_mem, loops: 2}}\n")
    result = run(lab, "agenda.yaml", "--wa-resources=res", "--wa-max-retries=0")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bw_mem exited with code 3*", "*cannot map memory*"])
    assert argv.read_text().splitlines() == ["4m rd", "4m wr", "4m cp"]  # no second loop


def test_only_the_missing_program_is_named_with_how_to_build_it(lab) -> None:
    fake_programs(lab)
    (lab.path / "res" / "bw_mem").unlink()
    lab.makefile(".yaml", agenda="workloads:\n  - {id: lat, name: lmbench}\n"
                                 "  - {id: bw, name: lmbench, params: {test: bw_mem}}\n")
    result = run(lab, "agenda.yaml", "--wa-resources=res")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = result.stderr.str()
    assert "bw (lmbench): workload 'lmbench' needs 'bw_mem'" in errors
    assert "lmbench is not packaged by Debian: build it from lmbench 3's sources" in errors
    assert "needs 'lat_mem_rd'" not in errors and "apt-get" not in errors


def test_mistakes_are_located_at_collection(lab) -> None:
    lab.makefile(".yaml", agenda="""\
        workloads:
          - {name: lmbench, params: {size: 512k}}
          - {name: lmbench, params: {test: bw_mem, mem_category: [rd, read]}}
          - {name: lmbench, params: {force_abi: armeabi}}
          - {name: lmbench, params: {stride: [128, 0]}}
        """)
    result = lab.runpytest("--co", "-q", "-p", "no:cacheprovider", "agenda.yaml")
    result.stdout.fnmatch_lines([
        "*agenda.yaml:2: *workload 'lmbench': lat_mem_rd takes whole megabytes*'512k'",
        "*agenda.yaml:3: *mem_category: workload 'lmbench': 'read' is not allowed; *",
        "*agenda.yaml:4: *force_abi 'armeabi': *give the path of the armeabi lat_mem_rd*",
        "*agenda.yaml:5: *stride must be at least 1, got 0",
    ])


def test_shown_with_wa3_parameters(lab) -> None:
    result = lab.runpytest("--wa-show", "lmbench")
    result.stdout.fnmatch_lines([
        "lmbench (workload)", "parameters:",
        "  test (string, default: 'lat_mem_rd'; one of 'lat_mem_rd', 'bw_mem')",
        "  stride (integer or list of integers, default: [[]128[]])",
        "  loops (integer, default: 1)", "  cpus (cpu mask, default: 0)", "*taskset_mask*"])


# --- real runs (PYTEST_WA_TOOLS: a directory with lat_mem_rd and bw_mem) ---------------

def tools_directory() -> Path:
    directory = os.environ.get("PYTEST_WA_TOOLS")
    if not directory or not all((Path(directory) / p).is_file()
                                for p in ("lat_mem_rd", "bw_mem")):
        pytest.skip("lmbench is not in Debian: build lat_mem_rd and bw_mem from lmbench 3 "
                    "(github.com/intel/lmbench: cd src && CFLAGS='-O -I/usr/include/tirpc' "
                    "../scripts/build ../bin/$(../scripts/os)/lat_mem_rd ...) and set "
                    "PYTEST_WA_TOOLS to their directory")
    return Path(directory)


@pytest.fixture
def real(lab, monkeypatch) -> pytest.Pytester:
    """The lab with the real programs; lmbench's calibration skipped (its own knobs)."""
    tools = tools_directory()
    for name, value in NO_CALIBRATION.items():
        monkeypatch.setenv(name, value)
    lab.makeini(f"[pytest]\naddopts = --wa-resources={tools}\n")
    return lab


def test_real_lat_mem_rd_and_bw_mem(real) -> None:
    """lat_mem_rd with thrash (-t, a page-sized stride) and without (a large stride)."""
    real.makefile(".yaml", agenda="workloads:\n"
                  "  - {id: lat, name: lmbench, params: {size: 1, stride: 4096, "
                  "repetitions: 1}}\n"
                  "  - {id: plain, name: lmbench, params: {size: 1, stride: 262144, "
                  "thrash: false}}\n"
                  "  - {id: bw, name: lmbench, params: {test: bw_mem, size: 1m, "
                  "mem_category: [rd, fcp], repetitions: 1}}\n")
    run(real, "agenda.yaml").assert_outcomes(passed=3)
    output = RunOutput(real.path / "wa_output")
    for job_id, stride in (("lat", 4096), ("plain", 262144)):
        lat = output.job(job_id, 1)
        assert len(lat.metrics) > 10 and all(
            m.units == "ns" and m.lower_is_better and m.value > 0
            and m.classifiers["stride"] == stride for m in lat.metrics)
        assert lat.metric(f"latency_1MB_stride_{stride}").classifiers["array_mb"] == 1.0
        assert f'"stride={stride}' in lat.artifact_path("lmbench_output").read_text()
    bw = output.job("bw", 1)
    assert sorted(m.name for m in bw.metrics) == ["bandwidth_fcp_1m", "bandwidth_rd_1m"]
    assert all(m.units == "MB/s" and m.value > 0 and m.classifiers["size_mb"] == 1.05
               for m in bw.metrics)


def long_run(real: pytest.Pytester) -> str:
    """lat_mem_rd under a name no other process has, for far longer than the test waits,
    in WA3's loop: the shell loop and lat_mem_rd's own children must all go."""
    link = real.path / f"lat_mem_rd-{uuid.uuid4().hex[:8]}"
    link.symlink_to(tools_directory() / "lat_mem_rd")
    real.makefile(".yaml", agenda=f"workloads:\n  - {{id: long, name: lmbench, params: "
                                  f"{{size: 64, loops: 5, parallelism: 2, binary: {link}}}}}\n")
    return link.name


def test_job_timeout_kills_the_loop_and_lat_mem_rd(real) -> None:
    assert_job_timeout_kills(real, long_run(real))


def test_ctrl_c_kills_the_loop_and_lat_mem_rd(real) -> None:
    """Ctrl-C once the shell loop, lat_mem_rd and its two -P children all run."""
    pattern = long_run(real)
    process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                "agenda.yaml"], cwd=real.path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while len(processes(pattern)) < 4:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert RunOutput(real.path / "wa_output").jobs[0].status.name == "ABORTED"
    assert_none_left(pattern)
