"""``cpustates``: how long each CPU spent at each frequency and in each idle state, and how
many CPUs ran at once, from each job's ftrace trace (WA3's processor).

It reads the text trace the ``trace-cmd`` instrument saves (the job's
``trace-cmd-txt`` artifact; the trace needs the ``power:cpu_idle`` and/or
``power:cpu_frequency`` events, which WA3's default ``power*`` includes) and
writes, in the job's ``power-states/`` directory, WA3's five files:
power-state-stats.csv, parallel-stats.csv, power-state-timeline.csv,
state-transitions-timeline.csv and utilization-timeline.csv, each a job
artifact under WA3's name. When the run ends, the jobs' power-state-stats and
parallel-stats rows are gathered in the run directory's own two files.
A job without a text trace is skipped with an event; no failure of this
processor fails the job (see ``guard.py``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.parameters import Parameter, boolean
from ..model.runlog import RUN_LOGGER
from ..output.atomic import write_atomic
from . import cpulayout, cpustats
from .base import OutputProcessor
from .ftrace_text import Transition, power_events, trace_cpus
from .powerstates import Cpu, Timeline, timeline

if TYPE_CHECKING:
    from ..plugins.context import JobContext, RunView

DIRECTORY = "power-states"
#: Job artifact name -> file, as WA3 names them.
FILES = {"power-state-stats": "power-state-stats.csv", "parallel-stats": "parallel-stats.csv",
         "state-timeline": "power-state-timeline.csv",
         "transitions-timeline": "state-transitions-timeline.csv",
         "utilization-timeline": "utilization-timeline.csv"}
PARALLEL_HEADER = ["cluster", "number_of_cores", "total_time", "%time", "%running_time"]
JOB_KEYS = ["id", "workload", "iteration"]


class CpuStates(OutputProcessor):
    name = "cpustates"
    description = """
    Per-CPU frequency and idle-state residency, and parallelism, from each job's trace.

    Reads the job's text trace (the trace-cmd instrument's trace.txt, with the power
    events cpu_idle and cpu_frequency) between its TRACE_MARKER_START and
    TRACE_MARKER_STOP lines, and writes in the job's power-states/ directory:
    power-state-stats.csv (the share of the time each CPU spent in each power state),
    parallel-stats.csv (for each frequency domain and for all CPUs, how long exactly
    N of them were running), power-state-timeline.csv (every CPU's state at each
    transition), state-transitions-timeline.csv (the transitions as traced) and
    utilization-timeline.csv (a running CPU's frequency over its highest). When the
    run ends, the jobs' power-state-stats and parallel-stats rows are gathered in
    power-state-stats.csv and parallel-stats.csv of the run directory.
    """
    parameters = [
        Parameter("use_ratios", boolean, False, description=(
            "Report shares of time as ratios (0 to 1, three decimals) instead of "
            "percentages (one decimal).")),
        Parameter("no_idle", boolean, False, description=(
            "The trace has no idle transitions (cpuidle off, or all its states disabled): "
            "CPUs are taken to be running from the start, so their frequency is known from "
            "their first cpu_frequency event. By default a CPU's state is unknown until "
            "its first cpu_idle event.")),
        Parameter("split_wfi_states", boolean, False, description=(
            "Count the time in idle state 0 (WFI, whose power depends on the frequency) "
            "per frequency, as <state>-<frequency>KHz rows.")),
    ]

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.layouts: dict[str, str | None] = {}  # device -> its probe's output
        #: (id, workload, iteration) -> the job's figures and CPUs (a retry replaces them)
        self.reports: dict[tuple[str, str, Any], tuple[cpustats.Stats, list[Cpu]]] = {}

    def pytest_wa_job_output(self, job: JobContext) -> None:
        trace = next((a for a in job.artifacts if a.name == "trace-cmd-txt"), None)
        if trace is None or job.output_directory is None:
            _skip(job, "the job has no text trace (artifact trace-cmd-txt): enable the "
                       "trace-cmd instrument, with its report")
            return
        path = job.output_directory / trace.path
        with open(path, encoding="utf-8", errors="replace") as handle:
            cpus = self._cpus(job, trace_cpus(handle))
            handle.seek(0)
            line = timeline(power_events(handle), cpus, no_idle=bool(self.values.get("no_idle")),
                            split_wfi=bool(self.values.get("split_wfi_states")))
        for problem, count in line.problems.items():
            job.add_event(f"cpustates: {problem}" + (f" ({count} times)" if count > 1 else ""))
        figures = cpustats.stats(line, cpus)
        if figures is None:
            _skip(job, f"{trace.path} holds no cpu_idle or cpu_frequency event in the "
                       "traced span (trace the power:cpu_idle and power:cpu_frequency events)")
            return
        self._write_job(job, job.output_directory / DIRECTORY, line, figures, cpus)
        self.reports[(job.output_id, job.label, job.iteration)] = (figures, cpus)

    def _cpus(self, job: JobContext, traced: int | None) -> list[Cpu]:
        """The device's CPUs, asked once a run per device."""
        device = job.run.device
        if device not in self.layouts:
            self.layouts[device] = cpulayout.probe(job.target)
        return cpulayout.layout(self.layouts[device], traced or 0)

    def _write_job(self, job: JobContext, directory: Path, line: Timeline,
                   figures: cpustats.Stats, cpus: list[Cpu]) -> None:
        directory.mkdir(exist_ok=True)
        texts = {"power-state-stats": self._residency_csv(figures, cpus),
                 "parallel-stats": csv_text([PARALLEL_HEADER, *self._parallel_rows(figures)]),
                 "state-timeline": _timeline_csv(line, cpus, cpustats.timeline_cell),
                 "transitions-timeline": _transitions_csv(line.transitions),
                 "utilization-timeline": _timeline_csv(line, cpus, cpustats.utilization_cell)}
        for name, text in texts.items():
            write_atomic(directory / FILES[name], text)
            job.add_artifact(name, f"{DIRECTORY}/{FILES[name]}", "data")

    def _share(self, fraction: float) -> str:
        if self.values.get("use_ratios"):
            return f"{fraction:.3f}"
        return f"{fraction * 100:.1f}"

    def _residency_csv(self, figures: cpustats.Stats, cpus: list[Cpu]) -> str:
        rows: list[list[Any]] = [["state", *(cpu.column for cpu in cpus)]]
        rows += [[state, *(self._share(f) for f in shares)]
                 for state, shares in figures.residency.items()]
        return csv_text(rows)

    def _parallel_rows(self, figures: cpustats.Stats) -> list[list[Any]]:
        return [[cluster, number, f"{seconds:.6f}", self._share(of_span),
                 self._share(of_running)]
                for cluster, number, seconds, of_span, of_running in figures.parallel]

    def pytest_wa_run_output(self, run: RunView) -> None:
        writer = run.output
        assert writer is not None
        if not self.reports:
            RUN_LOGGER.warning("cpustates: no job had a trace to report power states of")
            return
        parallel: list[list[Any]] = [[*JOB_KEYS, *PARALLEL_HEADER]]
        states: list[list[Any]] = []
        for key, (figures, _) in self.reports.items():
            parallel += [[*key, *row] for row in self._parallel_rows(figures)]
            states += [[*key, state, *(self._run_share(f) for f in shares)]
                       for state, shares in figures.residency.items()]
        cpus = list(self.reports.values())[-1][1]
        header = [*JOB_KEYS, "state", *(cpu.column for cpu in cpus)]
        write_atomic(writer.directory / "parallel-stats.csv", csv_text(parallel))
        write_atomic(writer.directory / "power-state-stats.csv", csv_text([header, *states]))
        run.add_artifact("run-parallel-stats", "parallel-stats.csv", "export")
        run.add_artifact("run-power-state-stats", "power-state-stats.csv", "export")

    def _run_share(self, fraction: float) -> str:
        """The run file's shares have three decimals, percentages too (WA3's)."""
        ratios = self.values.get('use_ratios')
        return f'{fraction if ratios else fraction * 100:.3f}'


def _skip(job: JobContext, why: str) -> None:
    RUN_LOGGER.warning("cpustates: job %s skipped: %s", job.output_id, why)
    job.add_event(f"cpustates: skipped: {why}")


def _timeline_csv(line: Timeline, cpus: list[Cpu], cell: Any) -> str:
    rows: list[list[Any]] = [["ts", *(cpu.column for cpu in cpus)]]
    for snapshot in line.snapshots:
        rows.append([snapshot.timestamp, *(cell(cpu, state)
                                           for cpu, state in zip(cpus, snapshot.states,
                                                                 strict=True))])
    return csv_text(rows)


def _transitions_csv(transitions: list[Transition]) -> str:
    return csv_text([["timestamp", "cpu_id", "frequency", "idle_state"],
                     *([t.timestamp, t.cpu, t.frequency, t.idle_state] for t in transitions)])


def csv_text(rows: list[list[Any]]) -> str:
    """Rows as Python's csv module writes them (CRLF, as WA3's files), None as empty."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
