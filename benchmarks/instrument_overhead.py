"""What does each instrument cost a job? And WA3's, on the same machine?

Run from the repository root::

    python benchmarks/instrument_overhead.py            # the local target, a few minutes
    python benchmarks/instrument_overhead.py --adb      # and the simulated Android device

Every run is a fresh ``python -m pytest agenda.yaml`` of ``--jobs`` jobs of the
``idle`` workload with ``duration: 0`` (no command: the job is nothing but
its instruments and the framework). A job's time is read from the run's own
records (run.log: "completed ... in X s"), so pytest's start-up does not count
and a loaded machine disturbs it little. Per instrument:

    cost = mean job time with the instrument - mean job time with none

(the first job of each run is left out: it pays one-off work such as
``check``). The set the issue names (cpufreq + interrupts + dmesg +
execution_time) is measured together, against its target of 15 ms per job on
the local target. An instrument this device cannot serve (this VM has no
cpufreq) is reported as such, not measured.

WA3 3.3.1 (when installed: $WA3_PYTHON, or the venv .ci/run makes) runs the
same agendas on this host (generic_local); its per-job cost is measured from
whole-process wall times, (T(1 + N jobs) - T(1 job)) / N, with and without the
instruments, since its logs do not time jobs to the millisecond.

Only the standard library is used here. Exits 0 whether or not the target is met,
2 when it could not measure.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from wa3_runs import wa3_program

TARGET_MS = 15.0
THE_SET = ("cpufreq", "interrupts", "dmesg", "execution_time")
SINGLES = ("execution_time", "interrupts", "dmesg", "cpufreq", "cpuidle", "proc_stat",
           "thermal", "sysfs_extractor")
IDLE = "  - {name: idle, params: {duration: 0}}\n"
# Runs in a child: a private adb server and a rooted simulated device; prints
# "SERIAL PORT", stops both when its stdin closes.
DEVICE_HELPER = """
import sys
from pytest_wa.testing.adb import AdbServer
from pytest_wa.testing.simdevice import SimulatedDevice

with AdbServer() as server, SimulatedDevice(boot_time=0.2) as device:
    server.connect(device.address)
    server.wait_for(device.address)
    print(device.address, server.port, flush=True)
    sys.stdin.read()
"""


class BenchmarkError(Exception):
    """A measurement could not be taken; the numbers would mean nothing."""


def run_pytest(workdir: str, name: str, instruments: tuple[str, ...], jobs: int,
               device_args: list[str], env: dict[str, str]) -> list[float] | str:
    """Job times (s) of one run, or why the run refused an instrument."""
    directory = pathlib.Path(workdir, name)
    directory.mkdir()
    settings = "".join(f"  {name}: {{paths: [/proc/meminfo]}}\n" for name in instruments
                       if name == "sysfs_extractor")
    enabled = ", ".join(("~~", *instruments))
    (directory / "agenda.yaml").write_text(
        f"config:\n  iterations: {jobs}\n  augmentations: [{enabled}]\n"
        f"{settings}workloads:\n{IDLE}")
    result = subprocess.run([sys.executable, "-m", "pytest", "agenda.yaml", "-q", "-p",
                             "no:cacheprovider", *device_args], cwd=directory, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        text = result.stdout + result.stderr
        if "cannot work on device" in text:
            return text.split("cannot work on device", 1)[1].split(". To run", 1)[0].strip()
        raise BenchmarkError(f"{name} failed ({result.returncode}):\n{text[-2000:]}")
    log = (directory / "wa_output" / "run.log").read_text()
    return [float(line.split(" in ")[-1].split()[0])
            for line in log.splitlines() if "completed with status" in line]


def measure(workdir: str, label: str, jobs: int, reps: int, device_args: list[str],
            env: dict[str, str]) -> dict[str, float | str]:
    """Median over ``reps`` of each instrument's (and the set's) per-job cost. Where the
    device cannot serve one of the set (this VM has no cpufreq), the set is measured
    without it, under a label that says so."""
    cases: dict[str, tuple[str, ...]] = {"none": ()} | {name: (name,) for name in SINGLES}
    times: dict[str, list[float]] = {}
    refused: dict[str, str] = {}
    for rep in range(reps):
        for case, instruments in list(cases.items()):
            if case not in refused:
                found = run_pytest(workdir, f"{label}-{case.replace(' ', '_')}-{rep}",
                                   instruments, jobs, device_args, env)
                if isinstance(found, str):
                    refused[case] = found
                else:
                    times.setdefault(case, []).append(statistics.mean(found[1:]))
            if case == SINGLES[-1]:  # the singles are done: the set, without any refused
                left_out = [name for name in THE_SET if name in refused]
                cases["the set" + (f" without {', '.join(left_out)}" if left_out else "")] = \
                    tuple(name for name in THE_SET if name not in refused)
    base = statistics.median(times["none"])
    costs: dict[str, float | str] = {case: refused[case] if case in refused else
                                     statistics.median(times[case]) - base
                                     for case in cases if case != "none"}
    costs["job without instruments"] = base
    return costs


WA3_AGENDA = """\
config: {{device: generic_local, augmentations: [~~{instruments}], iterations: {jobs}}}
workloads:
  - {{name: idle, params: {{duration: 0}}}}
"""
#: WA3's own spelling of the set (its dmesg, interrupts and cpufreq instruments).
WA3_SET = ("interrupts", "dmesg", "execution_time")


def wa3_wall(wa: str, workdir: str, name: str, instruments: tuple[str, ...], jobs: int,
             env: dict[str, str]) -> float:
    directory = pathlib.Path(workdir, name)
    directory.mkdir()
    enabled = "".join(f", {name}" for name in instruments)
    (directory / "agenda.yaml").write_text(WA3_AGENDA.format(instruments=enabled, jobs=jobs))
    started = time.perf_counter()
    result = subprocess.run([wa, "run", "agenda.yaml", "-d", "out", "-f"], cwd=directory,
                            env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchmarkError(f"WA3 {name} failed ({result.returncode}):\n"
                             f"{(result.stdout + result.stderr)[-2000:]}")
    return wall


def measure_wa3(wa: str, workdir: str, jobs: int, reps: int, env: dict[str, str]
                ) -> dict[str, float]:
    """Per-job cost of WA3's interrupts + dmesg + execution_time on this host."""
    user = os.path.join(workdir, "wa3_user")
    os.makedirs(user, exist_ok=True)
    # Our own config.yaml: the one WA3 writes on first use resets user_directory.
    pathlib.Path(user, "config.yaml").write_text("device: generic_local\n")
    wa3_env = {**env, "WA_USER_DIRECTORY": user}
    wa3_wall(wa, workdir, "wa3-warmup", (), 1, wa3_env)
    walls: dict[tuple[str, int], list[float]] = {}
    for rep in range(reps):
        for case, instruments in (("none", ()), ("set", WA3_SET)):
            for count in (1, jobs + 1):
                walls.setdefault((case, count), []).append(wa3_wall(
                    wa, workdir, f"wa3-{case}-{count}-{rep}", instruments, count, wa3_env))
    per_job = {case: (statistics.median(walls[(case, jobs + 1)])
                      - statistics.median(walls[(case, 1)])) / jobs for case in ("none", "set")}
    return {"job without instruments": per_job["none"],
            "interrupts + dmesg + execution_time": per_job["set"] - per_job["none"]}


def report(label: str, costs: dict[str, float | str], jobs: int, reps: int) -> None:
    print(f"\n{label}: {jobs} idle jobs a run (the first left out), medians of {reps} runs")
    for case, cost in costs.items():
        if isinstance(cost, str):
            print(f"  {case:<26} cannot work here: {cost}")
            continue
        line = f"  {case:<26} {cost * 1000:8.2f} ms"
        if case.startswith("the set"):
            line += (f"   target <= {TARGET_MS:g} ms   ratio {cost * 1000 / TARGET_MS:5.2f}   "
                     f"{'PASS' if cost * 1000 <= TARGET_MS else 'FAIL'}")
        print(line)


def report_wa3(wa3: dict[str, float], ours: dict[str, float | str]) -> None:
    print("\nWA3 3.3.1 on this host (generic_local), whole-process times")
    for case, cost in wa3.items():
        print(f"  {case:<36} {cost * 1000:8.2f} ms")
    mine = [ours.get(name) for name in WA3_SET]
    if all(isinstance(cost, float) for cost in mine):
        total = sum(cost for cost in mine if isinstance(cost, float))
        ratio = total / wa3["interrupts + dmesg + execution_time"]
        print(f"  pytest-wa's same three, one by one: {total * 1000:.2f} ms   "
              f"pytest-wa / WA3: {ratio:5.2f}")


def start_device(env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    helper = subprocess.Popen([sys.executable, "-c", DEVICE_HELPER], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert helper.stdout is not None
    line = helper.stdout.readline().split()
    if len(line) != 2:
        helper.kill()
        raise BenchmarkError("the simulated device did not start")
    serial, port = line
    return helper, [serial, port]


def device_arguments(workdir: str, serial: str, port: str) -> list[str]:
    lab = os.path.join(workdir, "lab.yaml")
    pathlib.Path(lab).write_text(f"devices:\n  phone: {{kind: adb, device: '{serial}', "
                                 f"adb_port: {port}, adb_as_root: true}}\n")
    return [f"--wa-config={lab}", "--wa-device=phone"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20, help="jobs a run (20)")
    parser.add_argument("--reps", type=int, default=3, help="runs per median (3)")
    parser.add_argument("--adb", action="store_true", help="also the simulated device")
    parser.add_argument("--no-wa3", action="store_true", help="leave WA3 out")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="pytest-wa-instrument-overhead-")
    env = {**os.environ, "PYTHONPYCACHEPREFIX": os.path.join(workdir, "pycache")}
    helper = None
    try:
        local = measure(workdir, "local", args.jobs, args.reps, [], env)
        report("local", local, args.jobs, args.reps)
        wa = None if args.no_wa3 else wa3_program()
        if wa is not None:
            report_wa3(measure_wa3(wa, workdir, args.jobs, args.reps, env), local)
        elif not args.no_wa3:
            print("\nWA3: not installed (set WA3_PYTHON, or run .ci/run once): not compared")
        if args.adb:
            helper, (serial, port) = start_device(env)
            phone = measure(workdir, "adb", args.jobs, args.reps,
                            device_arguments(workdir, serial, port), env)
            report("simulated phone over adb", phone, args.jobs, args.reps)
    except BenchmarkError as exc:
        print(f"cannot measure: {exc}", file=sys.stderr)
        return 2
    finally:
        if helper is not None:
            helper.communicate(input="", timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
