"""``meabo``: WA3's meabo workload, ARM's multi-phase micro-benchmark.

Meabo runs up to ten small kernels ("phases", from compute-bound to random
memory access) one after the other, each bound to a CPU set of its own, and
prints how long each phase took (and, in builds with PAPI, per-thread counter
values). WA3 3.3.1 builds the command line wrongly in two ways that this
module fixes: phase 10's CPU set is given as ``-10`` (meabo reads that as
``-1 0``: phase 1 on no CPU, and the next option swallowed), where meabo's
option is ``-0``; and ``num_rows``/``num_cols`` are looked up under other
names, so ``-r``/``-c`` were never passed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..model.errors import WorkloadError
from ..model.parameters import Kind, Parameter, integer
from .resources import Tool
from .tool import BINARY, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

PHASES = tuple(range(1, 11))

_PHASE_START = re.compile(r"^Starting phase\s+(\d+)")
_COUNTER = re.compile(r"^Thread\s+(\d+)\s+(\S+)\s+value\s*=\s*(-?\d+)")
_DURATION = re.compile(r"^Phase\s+(\d+)\s+duration\s+\(ns\):\s*(\d+)")
_TOTAL = re.compile(r"^Total execution time\s+\(ns\):\s*(\d+)")


def _list_of_integers(value: Any) -> list[int]:
    """WA3's ``list_of_ints``: a YAML list (or one number) of integers."""
    items = value if isinstance(value, list | tuple) else [value]
    return [integer(item) for item in items]


list_of_integers = Kind("list of integers", _list_of_integers)


def phase_option(phase: int) -> str:
    """Meabo's option for a phase's CPU set: ``-1`` ... ``-9``, and ``-0`` for phase 10
    (getopt options are one character; WA3 writes ``-10``)."""
    return f"-{phase % 10}"


def parse_meabo(output: str) -> Iterator[Reading]:
    """WA3's metrics: ``phase_<N>_duration`` (ns) for each phase that ran, and
    ``phase_<N>_thread_<T>_<counter>`` for each counter a PAPI build prints; plus
    ``total_duration``, meabo's own sum of the phases."""
    phase: str | None = None
    for line in output.splitlines():
        line = line.strip()
        if found := _PHASE_START.match(line):
            phase = found.group(1)
        elif found := _COUNTER.match(line):
            if phase is None:
                raise WorkloadError(f"meabo printed a counter before any phase started: {line!r}")
            thread, counter, value = found.groups()
            yield Reading(f"phase_{phase}_thread_{thread}_{counter}", int(value))
        elif found := _DURATION.match(line):
            yield Reading(f"phase_{found.group(1)}_duration", int(found.group(2)), "ns",
                          lower_is_better=True)
        elif found := _TOTAL.match(line):
            yield Reading("total_duration", int(found.group(1)), "ns", lower_is_better=True)


#: Parameter -> meabo's option, in WA3's order (``-P`` and the CPU sets come first).
OPTIONS = (
    ("array_size", "-s"), ("bind_to_cpu_set", "-B"), ("block_size", "-b"),
    ("llist_size", "-l"), ("num_cols", "-c"), ("num_rows", "-r"), ("num_cpus", "-C"),
    ("num_hwcntrs", "-H"), ("loops", "-i"), ("num_palindromes", "-x"),
    ("num_particles", "-p"), ("num_randomloc", "-R"), ("threads", "-T"),
)
POSITIVE = ("array_size", "num_rows", "num_cols", "loops", "block_size", "num_cpus",
            "llist_size", "num_particles", "num_palindromes", "num_randomloc", "timeout")


class Meabo(ToolWorkload):
    name = "meabo"
    description = """
        Run meabo (ARM): up to ten phases of kernels; report each phase's time.

        The phases go from compute-bound to random memory access, each on a CPU
        set of its own.

        Phases: 1 floating-point and integer work with good locality, 2 vector
        multiply-add with one indirection, 3 vector scalar add and reductions, 4
        vector add, 5 vector add with indirection in both sources, 6 sparse
        matrix-vector multiply, 7 linked-list traversal, 8 electrostatic forces, 9
        palindromes, 10 random memory accesses. A meabo built with PAPI also prints
        per-thread counters for each phase.
        """
    tool = Tool("meabo")
    parameters = (
        Parameter("run_phases", list_of_integers, list(PHASES),
                  "Phases to run, 1 to 10 (-P, as a bit mask).", allowed_values=PHASES),
        Parameter("per_phase_cpu_ids", list_of_integers, None,
                  "CPU set of each phase in run_phases, in the same order: a bit mask of "
                  "CPUs as a decimal number, -1 for no binding (meabo's -1 ... -9, -0 for "
                  "phase 10). Default: -1 for every phase."),
        Parameter("array_size", integer, 1048576, "Array length in phases 1 to 5 (-s)."),
        Parameter("num_rows", integer, 16384, "Rows of phase 6's sparse matrix (-r).",
                  aliases=("nrow",)),
        Parameter("num_cols", integer, 16384, "Columns of phase 6's sparse matrix (-c).",
                  aliases=("ncol",)),
        Parameter("loops", integer, 1000, "Iterations of each phase's core loop (-i; "
                  "phase 6 runs a fifth of them, phase 9 a tenth).",
                  aliases=("num_iterations",)),
        Parameter("block_size", integer, 8, "Block size in phase 1 (-b)."),
        Parameter("num_cpus", integer, 6, "CPUs threads may be bound to (-C)."),
        Parameter("num_hwcntrs", integer, 7,
                  "Hardware counters PAPI may use (-H; only meabo built with PAPI reads it)."),
        Parameter("threads", integer, 0, "Threads per phase (-T); 0: one per CPU of the "
                  "phase's CPU set (num_cpus when unbound).", aliases=("num_threads",)),
        Parameter("bind_to_cpu_set", integer, 1, "1: each thread may run on any CPU of the "
                  "phase's set; 0: each thread is bound to one CPU of it (-B).",
                  allowed_values=(0, 1)),
        Parameter("llist_size", integer, 16777216,
                  "Linked-list length per thread in phase 7 (-l)."),
        Parameter("num_particles", integer, 1048576, "Particles in phase 8 (-p)."),
        Parameter("num_palindromes", integer, 1024, "Palindromes in phase 9 (-x)."),
        Parameter("num_randomloc", integer, 2097152,
                  "Random memory locations in phase 10 (-R)."),
        Parameter("timeout", integer, 2700, "Seconds meabo may run before it is killed.",
                  aliases=("run_timeout",)),
        BINARY,
    )

    run_phases: list[int]
    per_phase_cpu_ids: list[int] | None
    timeout: int

    def validate(self) -> None:
        for name in POSITIVE:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("threads", "num_hwcntrs"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if not self.run_phases:
            raise ValueError("run_phases is empty: give at least one phase (1 to 10)")
        if len(set(self.run_phases)) != len(self.run_phases):
            raise ValueError(f"run_phases names a phase twice: {self.run_phases}")
        cpu_ids = self.per_phase_cpu_ids
        if cpu_ids is not None and len(cpu_ids) != len(self.run_phases):
            raise ValueError(f"per_phase_cpu_ids has {len(cpu_ids)} CPU sets for "
                             f"{len(self.run_phases)} phases in run_phases: give one per phase")
        if cpu_ids is not None and any(cpu < -1 for cpu in cpu_ids):
            raise ValueError(f"per_phase_cpu_ids: a CPU set is a bit mask or -1, got {cpu_ids}")

    def phase_arguments(self) -> list[str]:
        """``-P MASK`` and each phase's CPU set."""
        mask = sum(1 << (phase - 1) for phase in self.run_phases)
        cpu_ids = self.per_phase_cpu_ids or [-1] * len(self.run_phases)
        arguments = ["-P", str(mask)]
        for phase, cpu in zip(self.run_phases, cpu_ids, strict=True):
            arguments += [phase_option(phase), str(cpu)]
        return arguments

    def command_line(self, context: JobContext) -> str:
        arguments = self.phase_arguments()
        for name, option in OPTIONS:
            arguments += [option, str(getattr(self, name))]
        return shlex.join([self.program, *arguments])

    def time_limit(self) -> float:
        return float(self.timeout)

    def parse(self, output: str) -> list[Reading]:
        return list(parse_meabo(output))
