"""The base of workloads that run one program on the target and read its output.

Each such workload (sysbench, stress-ng, dhrystone...) says which program it
needs (``tool``), builds its command line and parses what the program printed
into WA3's metrics. The base does the rest the same way for all of them: the
program is found and installed once per run (resources.py), its command runs
within the job's limits (a timeout or Ctrl-C kills it and everything it
started, on the target), its raw output is kept as an artifact so every metric
can be re-derived from the run directory, and a program that failed or
printed no result fails the job with its own words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..model.errors import WorkloadError
from ..model.parameters import Parameter, string
from .base import Workload
from .resources import Tool, install

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.base import CommandResult

#: Every tool workload takes it: a program of the user's instead of the one found.
BINARY = Parameter("binary", string, None,
                   "path on this host of the program to run instead of the one pytest-wa "
                   "finds (it is pushed to the device); a pytest-wa addition to WA3's "
                   "parameters")

DEFAULT_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Reading:
    """One metric as a parser read it from a program's output."""

    name: str
    value: int | float
    units: str | None = None
    lower_is_better: bool = False
    classifiers: dict[str, Any] = field(default_factory=dict)


class ToolWorkload(Workload):
    """Runs ``tool`` once per job; subclasses give the command line and the parser."""

    tool: ClassVar[Tool]
    #: Whether the program must run as root (e.g. real-time priorities).
    needs_root: ClassVar[bool] = False

    binary: str | None
    program: str  # the program's path on the target, once installed
    programs: dict[str, str]  # every program's path on the target, by tool name

    @property
    def running(self) -> Tool:
        """The program the job runs: ``tool``, or the one ``tools_for`` put first."""
        return getattr(self, "_running", self.tool)

    @classmethod
    def tools_for(cls, parameters: Mapping[str, Any]) -> tuple[Tool, ...]:
        """Every program a job with these agenda parameters runs, ``tool`` first (the one
        ``binary`` replaces). A workload that runs several programs, or one chosen by a
        parameter, says so here, so the check before the first job looks for each."""
        return (cls.tool,)

    def initialize(self, context: JobContext) -> None:
        """Find the programs and put them on the target (once per run and device)."""
        tools = self.tools_for(self.values)
        self._running = tools[0]
        binary = self.values.get("binary")
        self.programs = {
            tool.name: install(tool, self.name, context.target, context.run.config,
                               context.run.device, binary if tool is tools[0] else None)
            for tool in tools}
        self.program = self.programs[tools[0].name]

    def command_line(self, context: JobContext) -> str:
        """The shell command that runs the benchmark once (``self.program`` is installed)."""
        raise NotImplementedError

    def parse(self, output: str) -> Iterable[Reading]:
        """The metrics in the program's output (stdout, then stderr)."""
        raise NotImplementedError

    def time_limit(self) -> float:
        """Seconds the run may take before it is killed (a bound, not a target)."""
        return DEFAULT_TIMEOUT

    def run(self, context: JobContext) -> None:
        self.result: CommandResult | None = None
        result = context.target.execute(self.command_line(context), timeout=self.time_limit(),
                                        as_root=self.needs_root)
        self.result = result
        context.add_output(result)
        self._keep_raw_output(context, result)
        if not result.ok:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise WorkloadError(f"{self.running.name} exited with code {result.exit_code}"
                                + ("\n" + "\n".join(tail) if tail else ""))

    def _keep_raw_output(self, context: JobContext, result: CommandResult) -> None:
        """``<workload>.out``: what the program printed, the source of every metric."""
        if context.output_directory is None:
            return
        path = context.output_directory / f"{self.name}.out"
        text = result.stdout + (f"\n--- stderr ---\n{result.stderr}" if result.stderr else "")
        path.write_text(text, encoding="utf-8")
        context.add_artifact(f"{self.name}_output", path.name, "raw",
                             f"What {self.running.name} printed (every metric comes from it).")

    def results_text(self, context: JobContext) -> str:
        """What ``parse`` reads: the program's output, and whatever else a workload pulls
        from the target for its results (e.g. a histogram file's summary)."""
        assert self.result is not None
        return self.result.stdout + "\n" + self.result.stderr

    def extract_results(self, context: JobContext) -> None:
        if self.result is None:
            return
        readings = list(self.parse(self.results_text(context)))
        if not readings:
            raise WorkloadError(f"no results found in {self.running.name}'s output "
                                f"(kept as {self.name}.out)")
        for reading in readings:
            context.add_metric(reading.name, reading.value, reading.units,
                               lower_is_better=reading.lower_is_better,
                               classifiers=reading.classifiers or None)
