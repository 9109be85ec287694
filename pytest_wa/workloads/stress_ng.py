"""``stress-ng`` (alias ``stress_ng``): WA3's stress-ng workload, bogo-ops per stressor.

stress-ng writes its results with ``--yaml FILE``; the file is written on the
target, in the run's working directory, and printed back with ``cat`` by the
same command, so the raw output artifact holds the numbers every metric comes
from and no file transfer is needed. One metric per stressor that ran, named
after it as WA3 names it (WA3 reads only the first; ``extra_args`` can add more).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import yaml

from ..model.errors import WorkloadError
from ..model.parameters import Parameter, integer, string
from .resources import Tool
from .tool import BINARY, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

#: WA3's list (the stable release 0.01.32's stressors); others can go in extra_args.
STRESSORS = ("cpu", "io", "fork", "switch", "vm", "pipe", "yield", "hdd", "cache", "sock",
             "fallocate", "flock", "affinity", "timer", "dentry", "urandom", "sem", "open",
             "sigq", "poll")
#: Seconds stress-ng may take past ``duration`` to stop its workers (WA3's margin).
STOP_MARGIN = 10
RESULTS_FILE = "stress_ng_results.yaml"

DOCUMENT = re.compile(r"^---[ \t]*\n(?P<body>.*?)^\.\.\.[ \t]*$", re.M | re.S)
METRICS = re.compile(r"^metrics:[ \t]*\n(?P<entries>(?:(?:[ \t]+.*)?\n)*)", re.M)


def results_document(output: str) -> str | None:
    """The YAML document stress-ng wrote (``---`` to ``...``), as printed by ``cat``."""
    found = DOCUMENT.search(output)
    return found.group(0) + "\n" if found else None


def parse_results(output: str) -> Iterator[Reading]:
    """One reading per stressor in the YAML's ``metrics`` list: its bogo-ops, in ops.

    Only that list is read as YAML: the ``system-info`` mapping above it holds
    free text (kernel version, compiler) that some releases do not quote.
    """
    document = results_document(output)
    found = METRICS.search(document) if document else None
    if found is None:
        return
    try:
        entries = yaml.safe_load("metrics:\n" + found["entries"])["metrics"] or []
    except (yaml.YAMLError, TypeError) as exc:
        raise WorkloadError(f"stress-ng's YAML metrics cannot be read: {exc}") from None
    for entry in entries:
        value = entry.get("bogo-ops") if isinstance(entry, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            yield Reading(str(entry.get("stressor")), value, "ops")


class StressNg(ToolWorkload):
    name = "stress-ng"
    aliases = ("stress_ng",)
    description = """
        Run stress-ng stressors for a while; report the bogo-ops each completed.

        stress-ng exercises the CPU, memory, I/O and many kernel interfaces. Its
        bogo-ops show throughput changes between kernels or machines; stress-ng is not
        meant as a precise benchmark (https://github.com/ColinIanKing/stress-ng).
        """
    tool = Tool("stress-ng", debian="stress-ng")
    parameters = (
        Parameter("stressor", string, "cpu", "The stressor to run (see man stress-ng).",
                  allowed_values=STRESSORS),
        Parameter("extra_args", string, "",
                  "More stress-ng arguments, passed as written (not checked)."),
        Parameter("threads", integer, 0,
                  "How many workers; 0 or less: one per online CPU."),
        Parameter("duration", integer, 60, "Seconds the stressor runs (--timeout)."),
        BINARY,
    )

    stressor: str
    extra_args: str
    threads: int
    duration: int

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.results_path = ""

    def validate(self) -> None:
        if self.duration < 1:
            raise ValueError(f"duration must be at least 1 second, got {self.duration}")
        if self.stressor == "vm" and self.duration < 60:  # WA3's rule: vm reports nothing before
            raise ValueError("the vm stressor needs a duration of 60 s or more")

    def setup(self, context: JobContext) -> None:
        """The YAML file's place on the target: the job's own name in the working directory."""
        self.results_path = posixpath.join(
            context.target.working_directory,
            f"stress_ng_results-{context.output_id}-{context.iteration}.yaml")

    def command_line(self, context: JobContext) -> str:
        results = shlex.quote(self.results_path)
        words = [shlex.quote(self.program), f"--{self.stressor}", str(self.threads),
                 self.extra_args.strip(), f"--timeout {self.duration}s", f"--yaml {results}",
                 "--metrics-brief"]
        stress = " ".join(word for word in words if word)
        return f"{stress}; status=$?; cat {results} 2>/dev/null; exit $status"

    def time_limit(self) -> float:
        return float(self.duration + STOP_MARGIN)

    def parse(self, output: str) -> list[Reading]:
        return list(parse_results(output))

    def extract_results(self, context: JobContext) -> None:
        """WA3's ``stress_ng_results`` artifact (the YAML file), then the metrics."""
        document = results_document(self.result.stdout) if self.result is not None else None
        if document and context.output_directory is not None:
            (context.output_directory / RESULTS_FILE).write_text(document, encoding="utf-8")
            context.add_artifact("stress_ng_results", RESULTS_FILE, "raw",
                                 "stress-ng's results (its --yaml file)")
        super().extract_results(context)

    def teardown(self, context: JobContext) -> None:
        if self.results_path:
            context.target.execute(f"rm -f {shlex.quote(self.results_path)}", timeout=60,
                                   check=True)
