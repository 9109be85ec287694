"""How much does pytest-wa itself cost? Framework overhead on the local target.

Run from the repository root::

    python benchmarks/overhead.py            # about 2-3 minutes
    python benchmarks/overhead.py --quick    # fewer repetitions, under a minute

Every number is the wall time (or peak RSS) of a whole, fresh
``python -m pytest AGENDA -q -p no:cacheprovider`` process, because that is
what a user waits for. The workload is ``idle`` with ``duration: 0``, which
runs no command at all, so whatever time a job takes is the framework's.

Measured, and compared with the targets of issue 2:

- per-job overhead = (T(201 jobs) - T(1 job)) / 200, from the medians;
- T(1 job), the median time of a complete one-job run;
- collection (``--co -q``) time and peak RSS of a 10,000-job agenda, written
  two ways: 10,000 distinct entries in 4 sections, and 1,000 entries x 10
  iterations.

Each number comes with the child's CPU time (user + system), which a busy
machine disturbs much less than wall time. For scale, pytest alone is timed on
1 and 201 empty test functions.

Each measurement runs under a tiny launcher process (``python -S``) that starts
pytest, reaps it with ``os.wait4`` and reports that child's own ``ru_maxrss``.
The launcher matters: on Linux a child's peak RSS includes the RSS of the
process that spawned it (exec keeps the old hiwater mark), so spawning pytest
from this script directly would report this script's memory as a floor.

The numbers are printed for three plugin setups: ``plugin only``
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 -p pytest_wa.plugin``, the framework's own
cost), ``with deps`` (plus the pytest plugins of pytest-wa's declared
dependencies, i.e. pytest-xdist: what a clean ``pip install pytest-wa`` gives)
and ``autoload`` (every pytest plugin installed on this machine, e.g.
hypothesis or pytest-benchmark).

The script reports; it does not assert. It exits 0 whether or not a target is
met, and 2 only when it could not measure (a child failed, or the plugin was
not active). Only the standard library is used; agendas are generated in a
temporary directory that is removed at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata

PLUGIN = "pytest_wa.plugin"
DISTRIBUTION = "pytest-wa"
PYTEST_ARGS = ("-q", "-p", "no:cacheprovider")

# Targets from issue 2 ("Done means").
TARGET_OVERHEAD_MS = 3.0
TARGET_ONE_JOB_S = 0.6
TARGET_COLLECT_S = 5.0
TARGET_COLLECT_MB = 250.0

# Runs in a fresh ``python -S``: starts pytest, reaps it, reports its wall time
# and its own peak RSS (ru_maxrss is in KiB on Linux).
LAUNCHER = r"""
import json, os, resource, subprocess, sys, time

def hiwater_kib():  # this process's own peak RSS, not inherited through exec
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

argv, cwd, log = json.loads(sys.argv[1])
floor = hiwater_kib()
with open(log, "wb") as out:
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "rc": os.waitstatus_to_exitcode(status),
                  "maxrss_kib": usage.ru_maxrss, "launcher_kib": floor}))
"""

class BenchmarkError(Exception):
    """A measurement could not be taken; the numbers would mean nothing."""


# --- agendas -------------------------------------------------------------------------


def idle_entries(count: int, indent: str, start: int = 1) -> list[str]:
    """``count`` distinct idle entries with some variety: ids, labels, classifiers."""
    lines = []
    for n in range(start, start + count):
        fields = ["name: idle"]
        if n % 7 == 0:
            fields.insert(0, f"id: job{n}")
        if n % 3 == 0:
            fields.append(f"label: idle{n}")
        fields.append("params: {duration: 0}" if n % 2 else "workload_parameters: {duration: 0}")
        if n % 5 == 0:
            fields.append(f"classifiers: {{batch: {n // 100}, kind: idle}}")
        lines.append(f"{indent}- {{{', '.join(fields)}}}\n")
    return lines


def flat_agenda(count: int, iterations: int = 1) -> str:
    head = f"config:\n  iterations: {iterations}\n" if iterations > 1 else ""
    return head + "workloads:\n" + "".join(idle_entries(count, "  "))


def sectioned_agenda(sections: int, per_section: int) -> str:
    """Sections with their own workload lists: sections * per_section distinct jobs."""
    lines = ["# generated by benchmarks/overhead.py\n", "config:\n  execution_order: by_workload\n",
             "sections:\n"]
    for s in range(sections):
        lines.append(f"  - id: sec{s}\n    classifiers: {{section: sec{s}}}\n    workloads:\n")
        lines += idle_entries(per_section, "      ", start=1 + s * per_section)
    return "".join(lines)


def write_agendas(directory: str) -> dict[str, str]:
    texts = {
        "one": flat_agenda(1),  # its only item is wk1-idle[1]
        "jobs201": flat_agenda(201),
        "iter201": "workloads:\n  - {name: idle, iterations: 201, params: {duration: 0}}\n",
        "big_distinct": sectioned_agenda(4, 2500),
        "big_iterations": flat_agenda(1000, iterations=10),
    }
    # pytest's own floor, for comparison: empty test functions, no agenda
    texts["plain1"] = "def test_0():\n    pass\n"
    texts["plain201"] = "".join(f"def test_{n}():\n    pass\n" for n in range(201))
    # Each file in a directory of its own, which is also the child's cwd: pytest offers
    # every file of the directories it walks to pytest_collect_file, so siblings would
    # add their cost (pytest-wa reads every YAML file it is offered) to each run.
    paths = {}
    for name, text in texts.items():
        os.mkdir(os.path.join(directory, name))
        file_name = f"test_{name}.py" if name.startswith("plain") else f"{name}.yaml"
        paths[name] = os.path.join(directory, name, file_name)
        with open(paths[name], "w", encoding="utf-8") as handle:
            handle.write(text)
    return paths


# --- running pytest ------------------------------------------------------------------


@dataclass
class Mode:
    """A plugin setup: environment and extra ``-p`` options."""

    name: str
    description: str
    env: dict[str, str]
    plugin_args: tuple[str, ...]


def dependency_plugins() -> tuple[str, ...]:
    """Modules of the pytest11 entry points of pytest-wa's declared dependencies."""
    required = set()
    for requirement in metadata.requires(DISTRIBUTION) or ():
        if ";" in requirement:  # extras and markers: not installed for every user
            continue
        required.add(re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0].lower()
                     .replace("_", "-"))
    modules = []
    for entry in metadata.entry_points(group="pytest11"):
        dist = entry.dist.name.lower().replace("_", "-") if entry.dist else ""
        if dist in required:
            modules.append(entry.value)
    return tuple(sorted(modules))


def make_modes(workdir: str) -> list[Mode]:
    # A user's Python caches bytecode; this machine may not (PYTHONDONTWRITEBYTECODE).
    # The children cache theirs under the temporary directory, never in the repository.
    dropped = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
               "PYTHONDONTWRITEBYTECODE")
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base["PYTHONPYCACHEPREFIX"] = os.path.join(workdir, "pycache")
    isolated = {**base, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    deps = dependency_plugins()
    dep_args = tuple(arg for module in deps for arg in ("-p", module))
    return [
        Mode("plugin only", f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 -p {PLUGIN}",
             isolated, ("-p", PLUGIN)),
        Mode("with deps", f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 -p {PLUGIN} "
             + " ".join(f"-p {m}" for m in deps), isolated, ("-p", PLUGIN, *dep_args)),
        Mode("autoload", "every installed pytest plugin (entry points autoloaded)", base, ()),
    ]


@dataclass
class Sample:
    wall: float
    cpu: float
    maxrss_mb: float
    launcher_mb: float
    output: str


def run_pytest(mode: Mode, path: str, workdir: str, extra: tuple[str, ...] = (),
               plugin: bool = True) -> Sample:
    """One fresh pytest process, under the launcher; ``plugin=False`` leaves pytest-wa out."""
    plugin_args = mode.plugin_args if plugin else ()
    argv = [sys.executable, "-m", "pytest", path, *PYTEST_ARGS, *plugin_args, *extra]
    log = os.path.join(workdir, "last-output.txt")
    # cwd: the file's own directory, as pytest also looks at the files of the cwd
    launched = subprocess.run([sys.executable, "-S", "-c", LAUNCHER,
                               json.dumps([argv, os.path.dirname(path), log])],
                              env=mode.env, capture_output=True, text=True, check=False)
    if launched.returncode != 0:
        raise BenchmarkError(f"the launcher failed: {launched.stderr.strip()}")
    result = json.loads(launched.stdout)
    with open(log, encoding="utf-8", errors="replace") as handle:
        output = handle.read()
    if result["rc"] != 0:
        tail = "\n".join(output.splitlines()[-15:])
        raise BenchmarkError(f"[{mode.name}] {' '.join(argv[1:])} exited {result['rc']}:\n"
                             f"{tail}")
    return Sample(result["wall"], result["cpu"], result["maxrss_kib"] / 1024,
                  result["launcher_kib"] / 1024, output)


def expect(sample: Sample, pattern: str, what: str) -> None:
    if not re.search(pattern, sample.output):
        tail = "\n".join(sample.output.splitlines()[-10:])
        raise BenchmarkError(f"expected {what} in the output of pytest, got:\n{tail}")


def check_plugin_active(mode: Mode, paths: dict[str, str], workdir: str) -> None:
    """The one-job agenda must collect its JobItem; else the plugin is not loaded."""
    sample = run_pytest(mode, paths["one"], workdir, ("--co",))
    expect(sample, r"wk1-idle\[1\]", f"the item wk1-idle[1] (is {PLUGIN} active?)")


# --- measurements --------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


@dataclass
class Runs:
    """Samples of one kind of run: wall and CPU seconds, peak RSS in MB."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    inside: list[float] = field(default_factory=list)  # pytest's own "in X s"

    def add(self, sample: Sample) -> None:
        self.wall.append(sample.wall)
        self.cpu.append(sample.cpu)
        self.rss.append(sample.maxrss_mb)
        found = re.search(r" in ([0-9.]+)s\b", sample.output)
        if found:
            self.inside.append(float(found.group(1)))


# Runs: (agenda, expected output, extra pytest args, with pytest-wa?)
RUNS = {
    "one": (r"\b1 passed\b", (), True),
    "jobs201": (r"\b201 passed\b", (), True),
    "iter201": (r"\b201 passed\b", (), True),
    "plain1": (r"\b1 passed\b", (), False),
    "plain201": (r"\b201 passed\b", (), False),
    "big_distinct": (r"\b10000 tests collected\b", ("--co",), True),
    "big_iterations": (r"\b10000 tests collected\b", ("--co",), True),
}


@dataclass
class ModeResult:
    mode: Mode
    runs: dict[str, Runs] = field(default_factory=dict)
    pair_overheads: list[float] = field(default_factory=list)
    launcher_mb: float = 0.0

    def measure(self, name: str, paths: dict[str, str], workdir: str) -> Sample:
        pattern, extra, plugin = RUNS[name]
        sample = run_pytest(self.mode, paths[name], workdir, extra, plugin)
        expect(sample, pattern, repr(pattern))
        self.runs.setdefault(name, Runs()).add(sample)
        self.launcher_mb = max(self.launcher_mb, sample.launcher_mb)
        return sample

    def per_job_ms(self, many: str, one: str, what: str = "wall") -> float:
        return (median(getattr(self.runs[many], what)) - median(getattr(self.runs[one], what))) \
            / 200 * 1000


def measure(result: ModeResult, paths: dict[str, str], workdir: str, reps: int,
            collect_reps: int, extras: bool) -> None:
    """Interleave the runs, so that changes in the machine's load hit all of them alike.

    ``extras`` adds the informational runs: one spec of 201 iterations, and pytest
    alone on 1 and 201 empty test functions (its own floor).
    """
    for _ in range(reps):
        one = result.measure("one", paths, workdir)
        many = result.measure("jobs201", paths, workdir)
        result.pair_overheads.append((many.wall - one.wall) / 200 * 1000)
        if extras:
            for name in ("iter201", "plain1", "plain201"):
                result.measure(name, paths, workdir)
    for _ in range(collect_reps):
        for name in ("big_distinct", "big_iterations"):
            result.measure(name, paths, workdir)


# --- report --------------------------------------------------------------------------


def spread(values: list[float], unit: str, scale: float = 1.0, digits: int = 3) -> str:
    low, high = min(values) * scale, max(values) * scale
    return (f"median {median(values) * scale:.{digits}f} {unit}, range {low:.{digits}f}.."
            f"{high:.{digits}f} (spread {high - low:.{digits}f}), n={len(values)}")


def describe(runs: Runs, rss: bool = False) -> list[str]:
    lines = [f"wall {spread(runs.wall, 's')}",
             f"cpu  {spread(runs.cpu, 's')}"]
    if runs.inside:
        lines.append(f"pytest's own clock {spread(runs.inside, 's', digits=2)}")
    if rss:
        lines.append(f"peak RSS {spread(runs.rss, 'MB', digits=1)}")
    return lines


def verdict(label: str, measured: float, target: float, unit: str, digits: int) -> str:
    ratio = measured / target
    word = "PASS" if measured <= target else "FAIL"
    return (f"  {label:<34} {measured:>9.{digits}f} {unit:<3} target <= {target:<5g}{unit:<3}"
            f" ratio {ratio:5.2f}  {word}")


LABELS = {
    "one": "T(1 job)",
    "jobs201": "T(201 jobs, distinct entries)",
    "iter201": "T(1 entry x 201 iterations)",
    "plain1": "pytest alone, 1 empty test",
    "plain201": "pytest alone, 201 empty tests",
    "big_distinct": "--co 10,000 distinct entries, 4 sections",
    "big_iterations": "--co 1,000 entries x 10 iterations",
}


def report(result: ModeResult) -> None:
    mode, runs = result.mode, result.runs
    print(f"\n== {mode.name}: {mode.description}")
    for name, label in LABELS.items():
        if name in runs:
            lines = describe(runs[name], rss=name.startswith("big"))
            print(f"  {label}:")
            for line in lines:
                print(f"      {line}")
    pairs = result.pair_overheads
    print(f"  per-job overhead of each (1, 201) pair: {spread(pairs, 'ms', digits=2)}")
    print(f"  per-job overhead in CPU time: {result.per_job_ms('jobs201', 'one', 'cpu'):.2f} ms")
    if "iter201" in runs:
        print(f"  per-iteration overhead, 1 entry x 201 iterations: "
              f"{result.per_job_ms('iter201', 'one'):.2f} ms wall, "
              f"{result.per_job_ms('iter201', 'one', 'cpu'):.2f} ms CPU")
    if "plain201" in runs:
        floor = {what: result.per_job_ms("plain201", "plain1", what) for what in ("wall", "cpu")}
        added = {what: result.per_job_ms("jobs201", "one", what) - floor[what]
                 for what in ("wall", "cpu")}
        fixed = {what: median(getattr(runs["one"], what)) - median(getattr(runs["plain1"], what))
                 for what in ("wall", "cpu")}
        print(f"  pytest alone: {floor['wall']:.2f} ms wall ({floor['cpu']:.2f} ms CPU) per "
              f"empty test; pytest-wa adds {added['wall']:.2f} ms wall ({added['cpu']:.2f} ms "
              f"CPU) per job and {fixed['wall']:+.3f} s wall ({fixed['cpu']:+.3f} s CPU) to a "
              "1-job run")
    print(f"  (peak RSS is the pytest process's own ru_maxrss; the launcher that started it "
          f"peaked at {result.launcher_mb:.1f} MB)")
    print("  verdicts (wall-time medians; peak RSS is the maximum over the reps):")
    print(verdict("per-job overhead", result.per_job_ms("jobs201", "one"), TARGET_OVERHEAD_MS,
                  "ms", 2))
    print(verdict("1-job run", median(runs["one"].wall), TARGET_ONE_JOB_S, "s", 3))
    for name, short in (("big_distinct", "distinct"), ("big_iterations", "1000x10")):
        print(verdict(f"collect 10k ({short}) time", median(runs[name].wall), TARGET_COLLECT_S,
                      "s", 3))
        print(verdict(f"collect 10k ({short}) peak RSS", max(runs[name].rss), TARGET_COLLECT_MB,
                      "MB", 1))


def compare(results: list[ModeResult]) -> None:
    """How the other setups differ from plugin-only, for the headline numbers."""
    base = results[0]
    print("\n== difference from 'plugin only' (the cost of the other installed plugins)")
    for other in results[1:]:
        one = median(other.runs["one"].wall) - median(base.runs["one"].wall)
        per_job = other.per_job_ms("jobs201", "one") - base.per_job_ms("jobs201", "one")
        parts = [f"1-job run {one:+.3f} s", f"overhead {per_job:+.2f} ms/job"]
        for name, short in (("big_distinct", "distinct"), ("big_iterations", "1000x10")):
            wall = median(other.runs[name].wall) - median(base.runs[name].wall)
            rss = max(other.runs[name].rss) - max(base.runs[name].rss)
            parts.append(f"collect {short} {wall:+.2f} s, {rss:+.1f} MB")
        print(f"  {other.mode.name:<11} " + "; ".join(parts))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (~1 minute)")
    parser.add_argument("--reps", type=int, help="repetitions of the 1- and 201-job runs")
    parser.add_argument("--collect-reps", type=int, help="repetitions of the 10k collections")
    parser.add_argument("--mode", action="append",
                        choices=("plugin only", "with deps", "autoload"),
                        help="only these plugin setups (repeatable; default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the generated agendas")
    args = parser.parse_args(argv)
    reps = args.reps or (2 if args.quick else 5)
    collect_reps = args.collect_reps or (1 if args.quick else 3)
    workdir = tempfile.mkdtemp(prefix="pytest-wa-bench-")
    modes = [m for m in make_modes(workdir) if not args.mode or m.name in args.mode]

    print(f"pytest-wa overhead benchmark: {sys.executable} (Python {sys.version.split()[0]}), "
          f"{os.cpu_count()} CPUs, load average {load()}")
    print(f"agendas in {workdir}; {reps} reps of each run, {collect_reps} of each collection; "
          "workload idle, duration 0; bytecode cached")
    started = time.perf_counter()
    try:
        paths = write_agendas(workdir)
        results: list[ModeResult] = []
        for mode in modes:
            check_plugin_active(mode, paths, workdir)
            run_pytest(mode, paths["jobs201"], workdir)  # warm-up: bytecode, page cache
            result = ModeResult(mode)
            measure(result, paths, workdir, reps, collect_reps, extras=not results)
            results.append(result)
            report(result)
        if len(results) > 1 and results[0].mode.name == "plugin only":
            compare(results)
    except BenchmarkError as exc:
        print(f"\nERROR: cannot measure: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"\nkept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n(targets are judged on wall time; took {time.perf_counter() - started:.0f} s; "
          f"load average now {load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
