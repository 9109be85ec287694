"""The meabo workload as users meet it: the command line WA3 meant (phase 10's CPU set as
``-0``, ``-r``/``-c`` passed), WA3's metric names, located mistakes, and no meabo left
behind on a timeout or Ctrl-C.

Debian has no meabo, so CI cannot install it. The recorded outputs under
tests/data/outputs/ come from meabo at upstream commit 8996427 (github.com/ARM-software/
meabo), built on an x86_64 Debian 12 host with gcc 12.2 as ``make CC="gcc -fcommon"``
(meabo.h as shipped: no PAPI), unedited:

- meabo-8996427-all-phases.txt: ``meabo -P 1023 -1 -1 -2 -1 -3 -1 -4 -1 -5 -1 -6 -1 -7 -1
  -8 -1 -9 -1 -0 -1 -s 65536 -B 1 -b 8 -l 65536 -c 1024 -r 1024 -C 2 -H 7 -i 100 -x 64
  -p 4096 -R 65536 -T 2``, the command pytest-wa builds for AGENDA_ALL below;
- meabo-8996427-phases-1-10-bound.txt: ``meabo -P 513 -1 1 -0 2 ... -B 0 ... -T 1``
  (phases 1 and 10 on CPUs 0 and 1: "Setting cpu 1" shows phase 10's ``-0`` taken).

meabo-8996427-papi-format.txt is written by hand (its first line says so) from meabo's
printf formats for a PAPI build, which cannot be built against Debian 12's PAPI 7.

The always-run tests replay a recorded output through a stand-in ``meabo`` (a script in
a --wa-resources directory that records its arguments), because Debian lacks the tool.
The real-run tests run a real meabo from the directory in ``PYTEST_WA_TOOLS``.
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
    metrics,
    run,
    session_cache,
    use_workloads,
)

from pytest_wa import RunOutput
from pytest_wa.model.errors import WorkloadError
from pytest_wa.workloads.meabo import parse_meabo, phase_option

REGISTER = "from pytest_wa.workloads.meabo import Meabo\n\nLAB_WORKLOADS.append(Meabo)\n"
TOOLS = os.environ.get("PYTEST_WA_TOOLS", "")
REAL_MEABO = Path(TOOLS, "meabo") if TOOLS else None
needs_meabo = pytest.mark.skipif(
    REAL_MEABO is None or not REAL_MEABO.is_file(),
    reason="no real meabo: build it from github.com/ARM-software/meabo "
           "(make CC='gcc -fcommon') and set PYTEST_WA_TOOLS to a directory holding it "
           "as 'meabo'")
#: Scaled down to well under a second: all ten phases, two threads.
SMALL = ("array_size: 65536, num_rows: 1024, num_cols: 1024, num_cpus: 2, loops: 100, "
         "llist_size: 65536, num_particles: 4096, num_palindromes: 64, "
         "num_randomloc: 65536, threads: 2")
AGENDA_ALL = f"workloads:\n  - {{id: all, name: meabo, params: {{{SMALL}}}}}\n"
#: What the stand-in prints after saving its arguments, one a line, to argv.txt.
STAND_IN = '#!/bin/sh\nprintf "%s\\n" "$@" > "{argv}"\ncat "{output}"\n'
DURATIONS_ALL = {1: 32708223, 2: 5116126, 3: 18083718, 4: 987067, 5: 25053631,
                 6: 19445253, 7: 39630935, 8: 337812, 9: 57105, 10: 121335488}


@pytest.fixture
def lab(pytester, monkeypatch, tmp_path_factory) -> pytest.Pytester:
    use_workloads(pytester, monkeypatch, session_cache(tmp_path_factory), REGISTER)
    return pytester


def readings(name: str) -> dict[str, tuple[int | float, str | None, bool]]:
    text = (DATA / name).read_text()
    return {r.name: (r.value, r.units, r.lower_is_better) for r in parse_meabo(text)}


def durations(values: dict[int, int], total: int) -> dict[str, tuple[int, str, bool]]:
    found = {f"phase_{phase}_duration": (ns, "ns", True) for phase, ns in values.items()}
    return {**found, "total_duration": (total, "ns", True)}


# --- the parser, on recorded outputs -------------------------------------------------

def test_every_phase_duration_from_a_recorded_run() -> None:
    assert readings("meabo-8996427-all-phases.txt") == durations(DURATIONS_ALL, 262755358)


def test_only_the_phases_that_ran() -> None:
    assert readings("meabo-8996427-phases-1-10-bound.txt") == durations(
        {1: 23374514, 10: 134052066}, 157426580)


def test_counters_of_a_papi_build_per_phase_and_thread() -> None:
    """WA3 3.3.1 reads only counter names made of word characters, so it drops
    ``perf::CPU-CYCLES`` (a name PAPI gives on x86_64); every name is read here."""
    found = readings("meabo-8996427-papi-format.txt")
    counters = {name: value for name, (value, units, lower) in found.items()
                if "_thread_" in name and units is None and not lower}
    assert counters == {
        "phase_1_thread_1_perf::CPU-CYCLES": 41230517, "phase_1_thread_1_INST_RETIRED": 60112044,
        "phase_1_thread_0_perf::CPU-CYCLES": 40988213, "phase_1_thread_0_INST_RETIRED": 60110932,
        "phase_9_thread_0_perf::CPU-CYCLES": 120448, "phase_9_thread_0_INST_RETIRED": 98302,
        "phase_9_thread_0_total_palindromes": 3, "phase_9_thread_0_from_zero": 1,
        "phase_9_thread_1_perf::CPU-CYCLES": 118775, "phase_9_thread_1_INST_RETIRED": 97120,
        "phase_9_thread_1_total_palindromes": 2, "phase_9_thread_1_from_zero": 0}
    assert len(found) == len(counters) + 3  # two phase durations and the total


def test_a_counter_outside_any_phase_is_an_error() -> None:
    with pytest.raises(WorkloadError, match="before any phase started"):
        list(parse_meabo("Thread 0 CPU_CYCLES value = 12\nStarting phase 1...\n"))


def test_phase_options_are_one_character() -> None:
    """getopt reads WA3's ``-10 -1`` as ``-1 0`` and then ``-1`` taking the next word."""
    assert [phase_option(p) for p in (1, 9, 10)] == ["-1", "-9", "-0"]


# --- the command line and result.json, with a stand-in meabo (CI) -----------------------

def stand_in(lab: pytest.Pytester, recorded: str) -> Path:
    """A 'meabo' in res/ that saves its arguments and prints a recorded output."""
    argv = lab.path / "argv.txt"
    executable(lab.path / "res" / "meabo",
               STAND_IN.format(argv=argv, output=DATA / recorded))
    return argv


def test_default_command_passes_phase_10_and_the_matrix(lab) -> None:
    argv = stand_in(lab, "meabo-8996427-all-phases.txt")
    lab.makefile(".yaml", agenda="workloads:\n  - meabo\n")
    run(lab, "agenda.yaml", "--wa-resources=res").assert_outcomes(passed=1)
    cpu_sets = [word for phase in range(1, 10) for word in (f"-{phase}", "-1")]
    assert argv.read_text().split("\n")[:-1] == [
        "-P", "1023", *cpu_sets, "-0", "-1", "-s", "1048576", "-B", "1", "-b", "8",
        "-l", "16777216", "-c", "16384", "-r", "16384", "-C", "6", "-H", "7",
        "-i", "1000", "-x", "1024", "-p", "1048576", "-R", "2097152", "-T", "0"]


def test_recorded_run_reaches_result_json(lab) -> None:
    argv = stand_in(lab, "meabo-8996427-all-phases.txt")
    lab.makefile(".yaml", agenda=AGENDA_ALL)
    run(lab, "agenda.yaml", "--wa-resources=res").assert_outcomes(passed=1)
    words = argv.read_text().split()
    assert words[words.index("-s"):] == [
        "-s", "65536", "-B", "1", "-b", "8", "-l", "65536", "-c", "1024", "-r", "1024",
        "-C", "2", "-H", "7", "-i", "100", "-x", "64", "-p", "4096", "-R", "65536", "-T", "2"]
    job = RunOutput(lab.path / "wa_output").job("all", 1)
    assert metrics(job) == durations(DURATIONS_ALL, 262755358)
    assert "Phase 10 duration (ns)" in job.artifact_path("meabo_output").read_text()


def test_phases_with_cpu_sets_and_wa3_aliases(lab) -> None:
    argv = stand_in(lab, "meabo-8996427-phases-1-10-bound.txt")
    lab.makefile(".yaml", agenda="""\
        workloads:
          - name: meabo
            params: {run_phases: [1, 10], per_phase_cpu_ids: [1, 2], bind_to_cpu_set: 0,
                     nrow: 1024, ncol: 512, num_iterations: 100, num_threads: 1,
                     run_timeout: 30}
        """)
    run(lab, "agenda.yaml", "--wa-resources=res").assert_outcomes(passed=1)
    words = argv.read_text().split()
    assert words[:6] == ["-P", "513", "-1", "1", "-0", "2"]
    assert " -B 0 " in f" {' '.join(words)} " and " -c 512 -r 1024 " in f" {' '.join(words)} "
    assert words[words.index("-i") + 1] == "100" and words[-2:] == ["-T", "1"]
    job = RunOutput(lab.path / "wa_output").jobs[0]
    assert set(metrics(job)) == {"phase_1_duration", "phase_10_duration", "total_duration"}


def test_a_phase_list_without_cpu_sets_leaves_each_unbound(lab) -> None:
    """WA3 3.3.1 refuses run_phases: [2, 7] unless per_phase_cpu_ids has two entries too."""
    argv = stand_in(lab, "meabo-8996427-phases-1-10-bound.txt")
    lab.makefile(".yaml", agenda="workloads:\n  - {name: meabo, params: {run_phases: [2, 7]}}\n")
    run(lab, "agenda.yaml", "--wa-resources=res").assert_outcomes(passed=1)
    assert argv.read_text().split()[:6] == ["-P", "66", "-2", "-1", "-7", "-1"]


def test_mistakes_are_located_at_collection(lab) -> None:
    lab.makefile(".yaml", agenda="""\
        workloads:
          - {name: meabo, params: {run_phases: [1, 11]}}
          - {name: meabo, params: {run_phases: [1, 2], per_phase_cpu_ids: [3]}}
          - {name: meabo, params: {num_rows: 0}}
          - {name: meabo, params: {bind_to_cpu_set: 2}}
        """)
    run(lab, "--co", "agenda.yaml").stdout.fnmatch_lines([
        "*agenda.yaml:2: workloads[[]0[]].params.run_phases: workload 'meabo': 11 is not "
        "allowed; choose from 1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
        "*agenda.yaml:3: workloads[[]1[]]: workload 'meabo': per_phase_cpu_ids has 1 CPU sets "
        "for 2 phases in run_phases: give one per phase",
        "*agenda.yaml:4: workloads[[]2[]]: workload 'meabo': num_rows must be at least 1, got 0",
        "*agenda.yaml:5: workloads[[]3[]].params.bind_to_cpu_set: workload 'meabo': 2 is not "
        "allowed; choose from 0, 1"])


def test_shown_with_its_parameters(lab) -> None:
    run(lab, "--wa-show", "meabo").stdout.fnmatch_lines([
        "meabo (workload)", "parameters:",
        "  run_phases (list of integers, default: [[]1, 2, 3, 4, 5, 6, 7, 8, 9, 10[]]; *",
        "  num_rows (integer, default: 16384)", "  timeout (integer, default: 2700)"])


# --- a real meabo (PYTEST_WA_TOOLS) ----------------------------------------------------

@needs_meabo
def test_real_meabo_reports_every_phase(lab) -> None:
    lab.makefile(".yaml", agenda=AGENDA_ALL)
    run(lab, "agenda.yaml", f"--wa-resources={TOOLS}").assert_outcomes(passed=1)
    job = RunOutput(lab.path / "wa_output").job("all", 1)
    found = metrics(job)
    assert set(found) == {f"phase_{p}_duration" for p in range(1, 11)} | {"total_duration"}
    for value, units, lower in found.values():
        assert isinstance(value, int) and value > 0 and units == "ns" and lower
    raw = job.artifact_path("meabo_output").read_text()
    assert "Number of rows 1024" in raw and "Array size 65536" in raw


LONG_RUN = ("workloads:\n  - {{name: meabo, params: {{binary: {binary}, run_phases: [10], "
            "num_randomloc: 65536, loops: 9999991, num_cpus: 2}}}}\n")


@needs_meabo
def test_job_timeout_leaves_no_meabo_running(lab) -> None:
    lab.makefile(".yaml", agenda=LONG_RUN.format(binary=REAL_MEABO))
    assert_job_timeout_kills(lab, "meabo.* -i 9999991")


@needs_meabo
def test_ctrl_c_leaves_no_meabo_running(lab) -> None:
    lab.makefile(".yaml", agenda=LONG_RUN.format(binary=REAL_MEABO))
    assert_ctrl_c_kills(lab, "meabo.* -i 9999991")
