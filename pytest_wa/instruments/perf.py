"""``perf``: hardware and software counters (``perf stat``) or samples (``perf record``)
of the device while each job's workload runs (WA3's instrument).

One ``perf`` runs in the background for each option string, started before
the workload and interrupted (SIGINT, to that process only) after it, when it
prints its counts. It is known to be counting before the workload starts: the
start waits until the process has its perf_event descriptors open. Counts
become metrics ``<label>_<event>`` with perf's units; a counter that was not
counted makes the job PARTIAL, and an event the device cannot count refuses
the run before its first job.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..model.errors import CommandTimeoutError, ConfigError, InstrumentError, TargetError
from ..model.parameters import Parameter, boolean, list_of_strings, string
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .perf_parse import NOT_SUPPORTED, parse_report, parse_stat, separator

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import BackgroundCommand, Target

DEFAULT_EVENTS = ["cpu-migrations", "context-switches"]
#: Options that give perf something to watch without a command of its own to run.
TARGET_OPTIONS = re.compile(r"^(-a|--all-cpus|-C|--cpu(=.*)?|-p|--pid(=.*)?|-t|--tid(=.*)?|"
                            r"-u|--uid(=.*)?|-[a-zA-Z]*a[a-zA-Z]*|-[Cptu]\S+)$")
#: Seconds perf may take to show it counts, and to exit after SIGINT.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 60.0
REPORT_TIMEOUT = 300.0


class Perf(Instrument):
    name = "perf"
    description = """
    Counts (perf stat) or samples (perf record) events while the workload runs.

    Runs perf on the device while each workload runs: perf stat counts the
    events (metrics <label>_<event>, with perf's units), or perf record samples
    them (its perf report is kept, each line a <label>_<event>_Overhead metric).
    One perf per option string (WA3's default: -a, the whole system); it is
    stopped with SIGINT, and only that process is signalled.
    """
    priority = Priority.NORMAL
    parameters = [
        Parameter("perf_type", string, "perf", allowed_values=["perf", "simpleperf"],
                  description="Which program: perf (simpleperf, Android's, is not supported "
                  "yet and is refused before the first job)."),
        Parameter("command", string, "stat", allowed_values=["stat", "record"],
                  description="perf stat (counts) or perf record (samples, reported with "
                  "perf report)."),
        Parameter("events", list_of_strings, None,
                  "Events to count (perf list names them); default: cpu-migrations and "
                  "context-switches."),
        Parameter("optionstring", list_of_strings, ["-a"],
                  "perf's options; a list runs one perf per string, each under its label. "
                  "Each must name what to watch (-a, -C, -p, -t or -u)."),
        Parameter("report_option_string", string, None,
                  "Options of perf report (command: record only)."),
        Parameter("run_report_sample", boolean, False,
                  "WA3's report-sample run (command: record); report-sample is a simpleperf "
                  "command that perf does not have, so true is refused before the first job."),
        Parameter("report_sample_options", string, None,
                  "Options of report-sample; refused like run_report_sample."),
        Parameter("labels", list_of_strings, None,
                  "A name for each option string (default perf_0, perf_1...): the prefix "
                  "of its metrics and the name of its output file."),
        Parameter("force_install", boolean, False,
                  "Accepted for WA3 agendas: pytest-wa ships no perf, it uses the device's."),
        OPTIONAL,
    ]

    perf_type: str
    command: str
    events: list[str] | None
    optionstring: list[str]
    report_option_string: str | None
    run_report_sample: bool
    report_sample_options: str | None
    labels: list[str] | None

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.program = ""
        self._runs: list[_Run] = []
        self._live = False  # whether perf of the current job may still run
        self._outputs: dict[str, str] = {}

    @property
    def options(self) -> list[str]:
        given = self.optionstring
        return [given] if isinstance(given, str) else list(given or ["-a"])

    @property
    def label_names(self) -> list[str]:
        return list(self.labels or [f"perf_{index}" for index in range(len(self.options))])

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Each option string with its label (``validate`` made their numbers equal)."""
        return list(zip(self.options, self.label_names, strict=True))

    @property
    def event_words(self) -> str:
        return " ".join(f"-e {shlex.quote(event)}" for event in self.events or DEFAULT_EVENTS)

    # --- before the first job ---

    def validate(self) -> None:
        """The parameters together, as WA3 checks them (and what pytest-wa cannot do)."""
        if self.perf_type != "perf":
            raise ValueError("perf_type: simpleperf is not supported by pytest-wa yet; "
                             "use perf")
        if self.run_report_sample or self.report_sample_options:
            raise ValueError("run_report_sample/report_sample_options: perf has no "
                             "report-sample command (it is simpleperf's)")
        if self.report_option_string and self.command != "record":
            raise ValueError("report_option_string only works with command: record")
        labels = self.label_names
        if len(labels) != len(self.options):
            raise ValueError(f"{len(labels)} labels for {len(self.options)} option strings; "
                             "give one label per option string")
        if len(set(labels)) < len(labels):
            raise ValueError(f"labels must differ from each other, got {labels}")
        for label in labels:
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", label):
                raise ValueError(f"labels: {label!r} must be a plain file name")
        for options in self.options:
            if not any(TARGET_OPTIONS.match(word) for word in shlex.split(options)):
                raise ValueError(f"optionstring {options!r} names nothing to watch: add -a "
                                 "(the whole system, WA3's default), -C, -p, -t or -u")

    def check(self, target: Target) -> None:
        """perf on the device, root, and every event countable: one trial run of each
        option string (``perf ... -- true``) before the first job."""
        try:
            self.validate()
        except ValueError as exc:
            raise ConfigError(f"instrument 'perf': {exc}") from None
        trials = "\n".join(self._trial(options, label, target.working_directory)
                           for options, label in self.pairs)
        try:
            result = target.execute(f'P=$(command -v perf) || exit 127; echo "$P"\n{trials}',
                                    as_root=True, timeout=120)
        except TargetError as exc:
            raise InstrumentUnavailable(f"perf needs root, and running as root failed: "
                                        f"{exc}") from exc
        if result.exit_code == 127:
            raise InstrumentUnavailable("the device has no perf program (install it, e.g. "
                                        "apt-get install linux-perf)")
        self.program, _, output = result.stdout.partition("\n")
        for options, label in self.pairs:
            self._judge_trial(options, output.split(f"@@{label}\n", 1)[-1].split("@@end")[0])

    def _trial(self, options: str, label: str, workdir: str) -> str:
        """``options`` and the events tried on ``true``; its output between two lines."""
        data = shlex.quote(f"{workdir}/{label}-trial.data")
        run = (f"record {options} {self.event_words} -o {data}" if self.command == "record"
               else f"stat {options} {self.event_words}")
        return (f'echo @@{label}; LC_ALL=C "$P" {run} -- true 2>&1 || echo "@@failed $?"; '
                f"rm -f {data} {data}.old; echo @@end")

    def _judge_trial(self, options: str, output: str) -> None:
        if "@@failed" in output:
            said = output.split("@@failed")[0].split(" Usage:")[0]
            lines = "; ".join(line.strip() for line in said.splitlines() if line.strip())
            raise InstrumentUnavailable(f"perf {self.command} {options} {self.event_words} "
                                        f"failed in a trial run: {lines[-600:]}")
        if self.command != "stat":
            return
        unsupported = sorted({count.event for count in parse_stat(output, separator(options))
                              if count.missing == NOT_SUPPORTED})
        if unsupported:
            raise InstrumentUnavailable(
                f"perf cannot count {', '.join(unsupported)} here ({NOT_SUPPORTED}; "
                "a VM or a CPU without those counters): leave them out")

    # --- each job ---

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        self._outputs = {}
        self._start(job)
        try:
            return (yield)
        finally:
            if self._live:
                self._outputs = self._stop(job)

    def pytest_wa_job_teardown(self, job: JobContext) -> None:
        """Ctrl-C passes the execute wrapper by: its ``finally`` runs only once Python drops
        it, maybe at exit; so teardown (which runs then too) stops a perf still running."""
        if self._live:
            self._stop(job)

    def _start(self, job: JobContext) -> None:
        target = job.target
        workdir = target.working_directory
        self._runs = []
        try:
            for options, label in self.pairs:
                run = _Run(label, options, workdir)
                run.process = target.background(self._command_line(run), as_root=True)
                self._runs.append(run)
                self._live = True
            ready = target.execute(_readiness_script(self._runs), as_root=True,
                                   timeout=START_TIMEOUT + 30)
        except BaseException:
            self._kill_all()
            raise
        if not ready.ok:
            outputs = self._kill_all()
            raise InstrumentError(f"perf did not start counting: {ready.stderr.strip()} "
                                  f"{' '.join(outputs.values()).strip()[-600:]}")

    def _command_line(self, run: _Run) -> str:
        program = shlex.quote(self.program or "perf")
        start = f"echo $$ > {shlex.quote(run.pidfile)} && export LC_ALL=C && exec {program}"
        if self.command == "record":
            data = shlex.quote(run.data)
            return (f"rm -f {data} {data}.old {shlex.quote(run.report)} && {start} record "
                    f"{run.options} {self.event_words} -o {data} 2>&1")
        return f"{start} stat {run.options} {self.event_words} 2>&1"

    def _kill_all(self) -> dict[str, str]:
        """Stop every perf started so far (their process groups only)."""
        self._live = False
        return {run.label: run.process.stop().stdout for run in self._runs
                if run.process is not None}

    def _stop(self, job: JobContext) -> dict[str, str]:
        """SIGINT to each perf still running (by its own pid), then its output. Through the
        run's target, not the job's, so that perf is stopped after a job_timeout too."""
        self._live = False
        running = [run for run in self._runs if run.process and run.process.poll() is None]
        pidfiles = " ".join(shlex.quote(run.pidfile) for run in self._runs)
        signal = "".join(f'kill -INT "$(cat {shlex.quote(run.pidfile)})"; ' for run in running)
        try:
            job.run.target.execute(f"{signal}rm -f {pidfiles}", as_root=True, timeout=30)
        except TargetError:
            self._kill_all()
            raise
        outputs = {}
        for run in self._runs:
            assert run.process is not None
            try:
                outputs[run.label] = run.process.wait(timeout=STOP_TIMEOUT).stdout
            except CommandTimeoutError:  # wait() has killed it
                raise InstrumentError(f"perf ({run.label}) did not stop within "
                                      f"{STOP_TIMEOUT:g} s of SIGINT; it was killed") from None
        return outputs

    def pytest_wa_job_extract_results(self, job: JobContext) -> None:
        outputs, self._outputs = self._outputs, {}
        if not outputs:  # perf failed to start or stop: already reported
            return
        directory = job.output_directory
        assert directory is not None
        (directory / "perf").mkdir(exist_ok=True)
        if self.command == "record":
            self._record_results(job, directory, outputs)
        else:
            self._stat_results(job, directory, outputs)

    def _stat_results(self, job: JobContext, directory: Path, outputs: dict[str, str]
                      ) -> None:
        missing = []
        for run in self._runs:
            text = outputs.get(run.label, "")
            path = directory / "perf" / f"{run.label}.out"
            path.write_text(text, encoding="utf-8")
            job.add_artifact(run.label, path, "raw", f"perf stat {run.options}")
            counts = parse_stat(text, separator(run.options))
            for count in counts:
                if count.value is None:
                    missing.append(f"{run.label}: {count.event} {count.missing}")
                    continue
                job.add_metric(f"{run.label}_{count.event}", count.value, count.units,
                               classifiers={} if count.cpu is None else {"cpu": count.cpu})
            if not counts:
                missing.append(f"{run.label}: perf printed no counts: {text.strip()[-300:]}")
        if missing:
            raise InstrumentError("perf stat did not count everything: " + "; ".join(missing))

    def _record_results(self, job: JobContext, directory: Path, outputs: dict[str, str]
                        ) -> None:
        program = shlex.quote(self.program or "perf")
        options = self.report_option_string or ""
        script = "; ".join(f"LC_ALL=C {program} report {options} -i {shlex.quote(run.data)} "
                           f"> {shlex.quote(run.report)} 2>&1" for run in self._runs)
        result = job.target.execute(script, as_root=True, timeout=REPORT_TIMEOUT)
        for run in self._runs:
            path = directory / "perf" / f"{run.label}.rpt"
            job.target.pull(run.report, str(path), timeout=REPORT_TIMEOUT)
            job.add_artifact(run.label, path, "raw", f"perf report of perf record "
                                                     f"{run.options}")
            rows = parse_report(path.read_text(encoding="utf-8", errors="replace"))
            for row in rows:
                job.add_metric(f"{run.label}_{row.event}_Overhead", row.percent, "percent",
                               classifiers=row.columns)
            if not result.ok or not rows:
                raise InstrumentError(f"perf record ({run.label}) left no report: "
                                      f"{outputs.get(run.label, '').strip()[-300:]} "
                                      f"{path.read_text(errors='replace').strip()[-300:]}")


@dataclass
class _Run:
    """One perf of a job: its label, options and files in the target's working directory."""

    label: str
    options: str
    workdir: str
    process: BackgroundCommand | None = None

    @property
    def pidfile(self) -> str:
        return f"{self.workdir}/{self.label}.pid"

    @property
    def data(self) -> str:
        return f"{self.workdir}/{self.label}.data"

    @property
    def report(self) -> str:
        return f"{self.workdir}/{self.label}.rpt"


def _readiness_script(runs: Sequence[_Run]) -> str:
    """Wait until each perf has its counters open (its perf_event descriptors), so that
    the workload starts counted; fail when one exited or took too long."""
    tries = int(START_TIMEOUT / 0.01)
    return "\n".join([
        f"for f in {' '.join(shlex.quote(run.pidfile) for run in runs)}; do n=0",
        '  until p=$(cat "$f" 2>/dev/null) && [ -n "$p" ] && '
        'ls -l "/proc/$p/fd" 2>/dev/null | grep -q perf_event; do',
        '    if [ -n "$p" ] && [ ! -e "/proc/$p/exe" ]; then echo "perf exited" >&2; exit 1; fi',
        f'    n=$((n + 1)); [ "$n" -le {tries} ] || '
        f'{{ echo "perf did not open its counters within {START_TIMEOUT:g} s" >&2; exit 1; }}',
        "    sleep 0.01", "  done", "done"])
