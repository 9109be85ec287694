"""``rt-app`` (alias ``rt_app``): rt-app runs a use case of simulated periodic tasks.

WA3 3.3.1's parameters and metrics. Each job gets its own directory in the
run's working directory on the target; the use case goes there with its
``logdir`` pointing at it, rt-app runs there, and after the run every file
rt-app wrote comes back into the job's output directory (``rt-app-logs/``),
where the per-task statistics are read from. The directory is removed in
teardown, also after a timeout or Ctrl-C.
"""

from __future__ import annotations

import json
import posixpath
import shlex
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.errors import WorkloadError
from ..model.parameters import Parameter, boolean, integer, string
from ..targets.protocols import ExecutablesDirectory
from .common import cpu_mask
from .resources import Tool, locate
from .rt_app_results import log_owner, read_log, read_output, task_readings
from .rt_app_use_case import (
    bundled_use_cases,
    duration_of,
    find_use_case,
    for_this_job,
    read_use_case,
    task_count,
)
from .tool import BINARY, DEFAULT_TIMEOUT, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

LOG_BASENAME = "rt-app"
USE_CASE_FILE = "use-case.json"
LOGS = "rt-app-logs"  # in the job's output directory
#: Seconds rt-app may take beyond the use case's duration (calibration, start, logs).
TIME_BUFFER = 60




class RtApp(ToolWorkload):
    name = "rt-app"
    aliases = ("rt_app",)
    description = """
        Simulate a set of periodic real-time tasks with rt-app; per-task statistics.

        The tasks are an rt-app use case (JSON): one pytest-wa bundles, or a file of
        yours. Metrics: pLoad and calib_cpu (rt-app's calibration), error_count and
        crit_count (its <error> and <crit> messages), and from each thread's log
        task_activations, task_run_mean, task_period_mean, and for timer-driven tasks
        task_slack_mean, task_slack_min, task_overruns, task_wu_lat_mean and
        task_wu_lat_max, classified by task and thread.
        """
    tool = Tool("rt-app", debian="rt-app")
    parameters = (
        Parameter("config", string, default="taskset",
                  description="The use case: a JSON file (relative to the agenda; '.json' "
                              "implied) or one pytest-wa bundles: "
                              f"{', '.join(bundled_use_cases())}."),
        Parameter("duration", integer,
                  description="Seconds to run, instead of the use case's own duration (-1: "
                              "until the tasks end)."),
        Parameter("cpus", cpu_mask, default=0, aliases=("taskset_mask",),
                  description="Run rt-app on these CPUs only (taskset): a mask (0x3), a list "
                              "of CPU numbers or ranges ('0-1'); 0: all CPUs. Also called "
                              "taskset_mask."),
        Parameter("uninstall", boolean, default=False, aliases=("uninstall_on_exit",),
                  description="At the end of the run, remove the rt-app pytest-wa pushed to "
                              "the device. Also called uninstall_on_exit."),
        Parameter("force_install", boolean, default=False,
                  description="Push rt-app from this host (--wa-resources, WA3's dependencies "
                              "directory or 'binary') even if the device has one."),
        BINARY,
    )

    config: str
    duration: int | None
    cpus: int
    uninstall: bool
    force_install: bool

    def validate(self) -> None:
        if self.duration is not None and self.duration != -1 and self.duration < 1:
            raise ValueError(f"duration must be at least 1 second, or -1 (until the tasks "
                             f"end), got {self.duration}")
        self.use_case_path = find_use_case(self.config, self.source_directory)
        read_use_case(self.use_case_path)  # a broken file is reported at collection

    def initialize(self, context: JobContext) -> None:
        if self.force_install:
            self._check_host_copy(context)
        super().initialize(context)

    def _check_host_copy(self, context: JobContext) -> None:
        """force_install: the device's own rt-app will not do; one from this host will."""
        if not isinstance(context.target, ExecutablesDirectory):
            return  # this host runs programs where they are: its rt-app is the host's
        found = locate(self.tool, self.name, context.target, context.run.config,
                       self.values.get("binary"))
        if found is None or not found.on_host:
            raise WorkloadError(
                f"workload 'rt-app': force_install needs an rt-app on this host for device "
                f"{context.run.device!r} (in a --wa-resources directory, WA3's dependencies "
                "directory, or given as 'binary'); found only the device's own")

    def setup(self, context: JobContext) -> None:
        if context.output_directory is None:
            raise WorkloadError("rt-app needs the job's output directory for its use case "
                                "and logs")
        self.job_directory = posixpath.join(
            context.target.working_directory, f"rt-app-{context.output_id}-{context.iteration}")
        use_case = for_this_job(read_use_case(self.use_case_path), logdir=self.job_directory,
                                log_basename=LOG_BASENAME, duration=self.duration)
        self.use_case_seconds = duration_of(use_case)
        context.classifiers.update(duration=self.use_case_seconds,
                                   task_count=task_count(use_case))
        host_file = context.output_directory / USE_CASE_FILE
        host_file.write_text(json.dumps(use_case, indent=4) + "\n", encoding="utf-8")
        context.add_artifact("rt-app_use_case", USE_CASE_FILE, "meta",
                             f"The use case rt-app ran ({self.use_case_path.name}, made "
                             "this job's).")
        context.target.execute(f"mkdir -p {shlex.quote(self.job_directory)}", timeout=60,
                               check=True)
        context.target.push(str(host_file), f"{self.job_directory}/{USE_CASE_FILE}")

    def command_line(self, context: JobContext) -> str:
        taskset = f"taskset {self.cpus:#x} " if self.cpus else ""
        return (f"cd {shlex.quote(self.job_directory)} && "
                f"{taskset}{shlex.quote(self.program)} {USE_CASE_FILE}")

    def time_limit(self) -> float:
        if self.use_case_seconds > 0:
            return self.use_case_seconds + TIME_BUFFER
        return DEFAULT_TIMEOUT

    def parse(self, output: str) -> Iterable[Reading]:
        return read_output(output)

    def extract_results(self, context: JobContext) -> None:
        """Bring rt-app's logs back (even after a failed run, unless the job's time is
        up), then WA3's metrics, then each thread's statistics."""
        time_is_up = context.deadline is not None and time.monotonic() >= context.deadline
        logs = [] if time_is_up else self._pull_logs(context)
        super().extract_results(context)
        for path in logs:
            owner = log_owner(path.name, LOG_BASENAME)
            if owner is None:
                continue
            rows = read_log(path.read_text(encoding="utf-8", errors="replace"))
            for reading in task_readings(*owner, rows):
                context.add_metric(reading.name, reading.value, reading.units,
                                   lower_is_better=reading.lower_is_better,
                                   classifiers=reading.classifiers)

    def _pull_logs(self, context: JobContext) -> list[Path]:
        """Every file rt-app wrote in the job's directory, as artifacts under rt-app-logs/."""
        assert context.output_directory is not None  # setup made sure
        listing = context.target.execute(f"ls -1 {shlex.quote(self.job_directory)}",
                                         timeout=60)
        names = [name for name in listing.stdout.splitlines()
                 if name and name != USE_CASE_FILE] if listing.ok else []
        local = context.output_directory / LOGS
        local.mkdir(exist_ok=True)
        pulled = []
        for name in names:
            context.target.pull(f"{self.job_directory}/{name}", str(local / name))
            owner = log_owner(name, LOG_BASENAME)
            what = ("A thread's rt-app log (one row per phase it completed)." if owner
                    else "A file rt-app wrote (e.g. for gnuplot).")
            context.add_artifact(name, f"{LOGS}/{name}", "raw", what,
                                 dict(zip(("task", "thread"), owner, strict=True))
                                 if owner else None)
            pulled.append(local / name)
        return pulled

    def teardown(self, context: JobContext) -> None:
        context.target.execute(f"rm -rf {shlex.quote(self.job_directory)}", timeout=60)

    def finalize(self, context: JobContext) -> None:
        """uninstall: remove the rt-app this run pushed (never the device's own)."""
        target = context.target
        if (self.uninstall and isinstance(target, ExecutablesDirectory)
                and self.program.startswith(f"{target.executables_directory}/")):
            target.execute(f"rm -f {shlex.quote(self.program)}", timeout=60)
