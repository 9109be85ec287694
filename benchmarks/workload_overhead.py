"""What does a program-running workload add to each job, beyond the program's own run?

Run from the repository root::

    python benchmarks/workload_overhead.py           # the local target, ~1 minute
    python benchmarks/workload_overhead.py --adb     # and the simulated Android device

The workload is ``dhrystone`` with ``mloops: 1, threads: 1`` (about 25 ms of
program). Each number is the wall time of a whole, fresh ``python -m pytest
AGENDA -q -p no:cacheprovider`` process, median of ``--reps`` runs:

- per dhrystone job = (T(1 + N jobs) - T(1 job)) / N: every job after the first
  (the first builds or pushes the program, once per run);
- per idle job = the same for ``idle`` with ``duration: 0``, which runs no
  command: the framework's own cost of a job (result.json, the item...);
- the program run directly = the median of N runs of the same command line,
  started the way the target starts it (``sh -c`` here; ``adb shell`` for the
  device: the adb CLI, so its own start-up is counted on the program's side);
- the workload's overhead = per dhrystone job - program - per idle job: what
  finding the installed program, building the command line, keeping the raw
  output and parsing it cost, compared with the targets (10 ms local, 30 ms adb);
- in-run overhead: the same seen from inside the runs, from their own records:
  the mean, over the same jobs, of a dhrystone job's time (run.log) minus its
  command's time (output.txt), minus an idle job's time. A loaded machine
  disturbs it much less, and it does not depend on the program running as fast
  in a job as in a loop of direct runs (caches, CPU migrations).

The runs of each repetition are interleaved (one job, N jobs, idle, direct), so
a load that comes and goes falls on all of them alike.

Only the standard library is used here; the simulated device and its private adb
server run in a helper child process (``pytest_wa.testing``). Exits 0 whether or
not a target is met, 2 when it could not measure.
"""

from __future__ import annotations

import argparse
import glob
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from wa3_runs import wa3_program

TARGET_MS = {"local": 10.0, "adb": 30.0}
DHRYSTONE = "  - {name: dhrystone, params: {mloops: 1, threads: 1}}\n"
IDLE = "  - {name: idle, params: {duration: 0}}\n"
ON_DEVICE = "/data/local/tmp/bin"
# Runs in a child: starts a private adb server and a simulated device with this
# host's ABI, prints "SERIAL PORT ADB", and stops both when its stdin closes.
DEVICE_HELPER = """
import platform, sys
from pytest_wa.targets.linux_facts import abi_of
from pytest_wa.testing.adb import AdbServer
from pytest_wa.testing.simdevice import SimulatedDevice

with AdbServer() as server, SimulatedDevice(abi=abi_of(platform.machine()),
                                            boot_time=0.2) as device:
    server.connect(device.address)
    server.wait_for(device.address)
    print(device.address, server.port, server.adb, flush=True)
    sys.stdin.read()
"""


class BenchmarkError(Exception):
    """A measurement could not be taken; the numbers would mean nothing."""


def write_agenda(workdir: str, name: str, entry: str, jobs: int, device_args: list[str]
                 ) -> tuple[list[str], str]:
    """A directory of its own (conftest + agenda): the argv that runs it, and where."""
    directory = os.path.join(workdir, name)
    os.makedirs(directory)
    with open(os.path.join(directory, "agenda.yaml"), "w") as handle:
        handle.write(f"config: {{iterations: {jobs}}}\nworkloads:\n{entry}")
    return [sys.executable, "-m", "pytest", "agenda.yaml", "-q", "-p", "no:cacheprovider",
            "--wa-force", *device_args], directory


def timed(argv: list[str], cwd: str | None = None, env: dict[str, str] | None = None,
          shell: bool = False) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv[0] if shell else argv, cwd=cwd, env=env, shell=shell,
                            capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchmarkError(f"{' '.join(argv)} failed ({result.returncode}):\n"
                             f"{(result.stdout + result.stderr)[-2000:]}")
    return wall


def direct_command(env: dict[str, str], device: tuple[str, str, str] | None) -> list[str]:
    """The command line a dhrystone job runs, started as the target starts it."""
    arguments = "-l 1 -t 1 -d 0"
    if device is None:
        built = glob.glob(os.path.join(env["XDG_CACHE_HOME"], "pytest-wa", "bin", "*",
                                       "dhrystone-*"))
        if not built:
            raise BenchmarkError("the dhrystone runs built no program")
        return [f"{built[0]} {arguments}"]
    serial, port, adb = device
    return [adb, "-P", port, "-s", serial, "shell", f"{ON_DEVICE}/dhrystone {arguments}"]


def in_run_time(directory: str) -> float:
    """Mean over the jobs after the first of (job time - its command's time, if it ran
    one), from the run's own records (run.log, output.txt): unaffected by pytest's start-up
    and by how fast the program happened to run."""
    output = pathlib.Path(directory, "wa_output")
    jobs = [float(line.split(" in ")[-1].split()[0])
            for line in (output / "run.log").read_text().splitlines() if "completed with" in line]
    ran = [float(line.split(", ")[-1].split()[0])
           for path in sorted(output.glob("*/output.txt"))  # the first job's comes first
           for line in path.read_text().splitlines() if line.startswith("--- exit code")]
    if len(jobs) < 2 or len(ran) not in (0, len(jobs)):
        raise BenchmarkError(f"{directory}: {len(jobs)} jobs but {len(ran)} commands")
    return statistics.mean(jobs[1:]) - (statistics.mean(ran[1:]) if ran else 0.0)


def measure(target: str, workdir: str, env: dict[str, str], args: argparse.Namespace,
            device: tuple[str, str, str] | None) -> dict[str, float]:
    """Each repetition times every run once, interleaved, so a load that comes and goes
    on the machine falls on all of them alike; the medians are compared."""
    device_args = []
    if device is not None:
        serial, port, _ = device
        with open(os.path.join(workdir, f"{target}-lab.yaml"), "w") as handle:
            handle.write(f"devices:\n  phone: {{kind: adb, device: '{serial}', adb_port: "
                         f"{port}, executables_directory: {ON_DEVICE}}}\n")
        device_args = [f"--wa-config={os.path.join(workdir, f'{target}-lab.yaml')}",
                       "--wa-device=phone"]
    runs = {f"{kind}-{jobs}": write_agenda(workdir, f"{target}-{kind}-{jobs}", entry, jobs,
                                           device_args)
            for kind, entry in (("dhrystone", DHRYSTONE), ("idle", IDLE))
            for jobs in (1, args.jobs + 1)}
    timed(*runs["dhrystone-1"], env)  # warm-up: build and push the program
    numbers = _medians(runs, env, args, direct_command(env, device), shell=device is None)
    many = args.jobs + 1
    numbers["in_run"] = (in_run_time(runs[f"dhrystone-{many}"][1])
                         - in_run_time(runs[f"idle-{many}"][1]))
    return numbers


WA3_AGENDA = """\
config: {{device: generic_local, augmentations: [~~], iterations: {jobs}}}
workloads:
{entry}"""


def measure_wa3(wa: str, workdir: str, env: dict[str, str], args: argparse.Namespace
                ) -> dict[str, float]:
    """The same numbers for WA3 3.3.1 on this host (generic_local), running the same
    dhrystone program, found where WA3 finds a user's binaries."""
    user = os.path.join(workdir, "wa3_user")
    built = direct_command(env, None)[0].split()[0]
    binary = os.path.join(user, "dependencies", "dhrystone", "bin", os.uname().machine)
    os.makedirs(binary)
    shutil.copy(built, os.path.join(binary, "dhrystone"))
    # A config.yaml of our own: the one WA3 writes on first use sets user_directory
    # back to ~/.workload_automation, where it would not find the program.
    pathlib.Path(user, "config.yaml").write_text("device: generic_local\n")
    wa3_env = {**env, "WA_USER_DIRECTORY": user}
    runs = {}
    for kind, entry in (("dhrystone", DHRYSTONE), ("idle", IDLE)):
        for jobs in (1, args.jobs + 1):
            directory = os.path.join(workdir, f"wa3-{kind}-{jobs}")
            os.makedirs(directory)
            pathlib.Path(directory, "agenda.yaml").write_text(
                WA3_AGENDA.format(jobs=jobs, entry=entry))
            runs[f"{kind}-{jobs}"] = ([wa, "run", "agenda.yaml", "-d", "out", "-f"], directory)
    timed(*runs["dhrystone-1"], wa3_env)  # warm-up: WA3 writes its user directory
    return _medians(runs, wa3_env, args, [built + " -l 1 -t 1 -d 0"], shell=True)


def _medians(runs: dict[str, tuple[list[str], str]], env: dict[str, str],
             args: argparse.Namespace, command: list[str], shell: bool) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in (*runs, "program")}
    for _ in range(args.reps):
        for name, (argv, cwd) in runs.items():
            times[name].append(timed(argv, cwd, env))
        times["program"] += [timed(command, env=env, shell=shell) for _ in range(args.jobs)]
    medians = {name: statistics.median(values) for name, values in times.items()}
    many = args.jobs + 1
    numbers = {kind: (medians[f"{kind}-{many}"] - medians[f"{kind}-1"]) / args.jobs
               for kind in ("dhrystone", "idle")}
    numbers["program"] = medians["program"]
    numbers["overhead"] = numbers["dhrystone"] - numbers["program"] - numbers["idle"]
    return numbers


def report_wa3(numbers: dict[str, float], ours: dict[str, float], jobs: int,
               reps: int) -> None:
    ms = {key: value * 1000 for key, value in numbers.items()}
    print(f"\nWA3 3.3.1, local (generic_local), the same program: {jobs} jobs after the "
          f"first, medians of {reps} runs")
    print(f"  per dhrystone job        {ms['dhrystone']:8.2f} ms")
    print(f"  per idle job (framework) {ms['idle']:8.2f} ms   pytest-wa / WA3: "
          f"{ours['idle'] / numbers['idle']:5.2f}")
    print(f"  workload overhead        {ms['overhead']:8.2f} ms   pytest-wa: "
          f"{ours['overhead'] * 1000:.2f} ms")
    print(f"  whole job (dhrystone)    pytest-wa / WA3: "
          f"{ours['dhrystone'] / numbers['dhrystone']:5.2f}")


def report(target: str, numbers: dict[str, float], jobs: int, reps: int) -> None:
    ms = {key: value * 1000 for key, value in numbers.items()}
    goal = TARGET_MS[target]
    verdict = "PASS" if ms["overhead"] <= goal else "FAIL"
    print(f"\n{target}: {jobs} jobs after the first, medians of {reps} runs")
    print(f"  per dhrystone job        {ms['dhrystone']:8.2f} ms")
    print(f"  program run directly     {ms['program']:8.2f} ms")
    print(f"  per idle job (framework) {ms['idle']:8.2f} ms")
    print(f"  workload overhead        {ms['overhead']:8.2f} ms   target <= {goal:g} ms   "
          f"ratio {ms['overhead'] / goal:5.2f}   {verdict}")
    print(f"  in-run overhead          {ms['in_run']:8.2f} ms   target <= {goal:g} ms   "
          f"ratio {ms['in_run'] / goal:5.2f}   (run.log, output.txt)")


def start_device(env: dict[str, str]) -> tuple[subprocess.Popen[str], tuple[str, str, str]]:
    helper = subprocess.Popen([sys.executable, "-c", DEVICE_HELPER], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert helper.stdout is not None
    line = helper.stdout.readline().split()
    if len(line) != 3:
        helper.kill()
        raise BenchmarkError("the simulated device did not start")
    serial, port, adb = line
    return helper, (serial, port, adb)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40, help="jobs after the first (40)")
    parser.add_argument("--reps", type=int, default=5, help="runs per median (5)")
    parser.add_argument("--adb", action="store_true", help="also the simulated device")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="pytest-wa-workload-overhead-")
    env = {**os.environ, "XDG_CACHE_HOME": os.path.join(workdir, "cache"),
           "WA_USER_DIRECTORY": os.path.join(workdir, "wa_user"),
           "PYTHONPYCACHEPREFIX": os.path.join(workdir, "pycache")}
    helper = None
    try:
        local = measure("local", workdir, env, args, None)
        report("local", local, args.jobs, args.reps)
        wa = wa3_program()
        if wa is None:
            print("\nWA3: not installed (set WA3_PYTHON, or run .ci/run once): not compared")
        else:
            report_wa3(measure_wa3(wa, workdir, env, args), local, args.jobs, args.reps)
        if args.adb:
            helper, device = start_device(env)
            report("adb", measure("adb", workdir, env, args, device), args.jobs, args.reps)
    except BenchmarkError as exc:
        print(f"cannot measure: {exc}", file=sys.stderr)
        return 2
    finally:
        if helper is not None:
            helper.communicate(input="", timeout=60)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
