"""``file_poller``: files of the target read every ``sample_interval`` ms, as one CSV.

WA3 pushes a C program (``poller``) for this. Here a shell loop on the target
(``BackgroundSampler``) reads every file with one ``grep`` per sample (one
process, however many files), from just before the workload starts until it
ends, also when it fails or runs past ``job_timeout``. A job over before the
loop took its first sample gets one taken as it ends. Globs in ``files`` are
expanded once, before the first job, where every file is also checked to be
readable.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from ..model.errors import ConfigError, InstrumentError, TargetError
from ..model.parameters import Parameter, boolean, integer, list_of_strings
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .jobfiles import (
    GREP,
    READ_TIMEOUT,
    after_target,
    epoch_seconds,
    gives_root,
    glob_word,
    split_grep,
    write_job_file,
)
from .reading import BackgroundSampler

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

MARKER = "POLLER_START"
TRACING = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
_MARKER_LINE = re.compile(r"\s(\d+\.\d+):.*\bPOLLER_START\b")


def generate_labels(paths: Sequence[str]) -> list[str]:
    """WA3's labels: the parts of the paths that differ between them, and the file name."""
    parts = [path.split("/") for path in paths]
    differs = [len(set(column)) > 1 for column in zip(*parts, strict=False)]
    return ["-".join([p for i, p in enumerate(pieces[:-1])
                      if i >= len(differs) or differs[i]] + [pieces[-1]])
            for pieces in parts]


def read_command(paths: Sequence[str]) -> str:
    """One command printing every file's lines as ``PATH:LINE`` (and grep's complaints)."""
    return f"{GREP} {' '.join(shlex.quote(path) for path in dict.fromkeys(paths))} 2>&1"


def parse_values(text: str, paths: Sequence[str]) -> list[str | None]:
    """One sample's values by file, each on one line without commas; None where the file
    could not be read."""
    found = split_grep(text, list(dict.fromkeys(paths)))
    return [None if (value := found[path]) is None else
            " ".join(value.replace("\0", " ").split("\n")).replace(",", "").strip()
            for path in paths]


def shift_to_marker(csv_text: str, trace_text: str) -> str:
    """The CSV with its times moved so that the first sample is at the trace's marker."""
    found = next((m for m in map(_MARKER_LINE.search, trace_text.splitlines()) if m), None)
    if found is None:
        raise InstrumentError(f"file_poller: no {MARKER} marker in the trace "
                              "(align_with_ftrace)")
    rows = list(csv.reader(io.StringIO(csv_text)))
    if len(rows) < 2:
        return csv_text
    offset = float(found.group(1)) - float(rows[1][0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows[0])
    writer.writerows([f"{float(row[0]) + offset:.6f}", *row[1:]] for row in rows[1:])
    return out.getvalue()


class FilePoller(Instrument):
    name = "file_poller"
    description = """
    Given files read every sample_interval ms during the workload, as a CSV.

    Reads the given files every sample_interval milliseconds while the workload runs, into
    poller.csv: a column time (seconds since the epoch on the target) and one column per
    file, each value on one line without commas.
    """
    parameters = (
        Parameter("sample_interval", integer, 1000,
                  description="Milliseconds between samples."),
        Parameter("files", list_of_strings, mandatory=True, description=(
            "The files to read (globs are expanded on the target before the first job).")),
        Parameter("labels", list_of_strings, None, description=(
            "Column names for the files, in order (not with globs); by default the parts "
            "of the paths that differ, and the file name.")),
        Parameter("align_with_ftrace", boolean, False, description=(
            "Write POLLER_START into ftrace's trace_marker at the first sample and shift "
            "the times so that it is at the marker's time in the trace-cmd-txt artifact "
            "(the trace_cmd instrument's text report).")),
        Parameter("as_root", boolean, False, description="Read the files as root."),
        Parameter("reopen", boolean, False, description=(
            "WA3 after 3.3.1: re-open the files at each sample. Every sample opens them "
            "anew here, so this changes nothing.")),
        OPTIONAL,
    )
    priority = Priority.NORMAL

    sample_interval: int
    files: list[str]
    labels: list[str]
    align_with_ftrace: bool
    as_root: bool

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.paths: list[str] = []
        self.marker: str | None = None

    def validate(self) -> None:
        """The values together (at collection, and again before the first job)."""
        if self.sample_interval <= 0:
            raise ValueError(f"sample_interval must be above 0 (ms), got {self.sample_interval}")
        if self.labels and any("*" in path for path in self.files):
            raise ValueError("labels cannot be given when files has globs (*): how many "
                             "files they match is known only on the device")
        if self.labels and len(self.labels) != len(self.files):
            raise ValueError(f"{len(self.labels)} labels for {len(self.files)} files: give "
                             "one label per file")

    def check(self, target: Target) -> None:
        if not getattr(self, "files", None):  # an agenda that enables it without config
            raise ConfigError("instrument 'file_poller': files is mandatory (e.g. config: "
                              "{file_poller: {files: [/proc/loadavg]}})")
        try:
            self.validate()
        except ValueError as exc:
            raise ConfigError(f"instrument 'file_poller': {exc}") from None
        if self.as_root and not gives_root(target):
            raise InstrumentUnavailable("as_root is set, and commands cannot run as root on "
                                        "this device")
        self.paths = self._expand(target)
        self.labels = self.labels or generate_labels(self.paths)
        if self.align_with_ftrace:
            self.marker = self._trace_marker(target)

    def _expand(self, target: Target) -> list[str]:
        """Every file the globs match, each checked readable (one command)."""
        words = " ".join(glob_word(path) for path in self.files)
        script = (f"for f in {words}; do if [ -r \"$f\" ] && [ -f \"$f\" ]; then echo \"+$f\"; "
                  f"else echo \"-$f\"; fi; done")
        try:
            result = target.execute(script, timeout=READ_TIMEOUT, as_root=self.as_root)
        except TargetError as exc:
            raise InstrumentUnavailable(f"cannot look for the files: {exc}") from None
        lines = result.stdout.splitlines()
        missing = [line[1:] for line in lines if line.startswith("-")]
        if missing or not lines:
            raise InstrumentUnavailable(
                f"no readable file at {', '.join(missing or self.files)}"
                + ("" if self.as_root else " (as_root: true reads them as root)"))
        return [line[1:] for line in lines if line.startswith("+")]

    def _trace_marker(self, target: Target) -> str:
        paths = " ".join(f"{directory}/trace_marker" for directory in TRACING)
        try:
            found = target.execute(f"for m in {paths}; do [ -w \"$m\" ] && echo \"$m\" && "
                                   "break; done", timeout=READ_TIMEOUT,
                                   as_root=self.as_root).stdout.strip()
        except TargetError as exc:
            raise InstrumentUnavailable(f"cannot look for ftrace's trace_marker: {exc}") from None
        if not found:
            raise InstrumentUnavailable(
                "align_with_ftrace needs a writable trace_marker (tracefs at "
                f"{' or '.join(TRACING)}) and there is none"
                + ("" if self.as_root else "; it usually takes as_root: true"))
        return found

    def _command(self) -> str:
        command = read_command(self.paths)
        if self.marker:
            command = (f"[ -n \"$marked\" ] || {{ echo {MARKER} > {shlex.quote(self.marker)}; "
                       f"marked=1; }}; {command}")
        return command

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        sampler = BackgroundSampler(job.target, self._command(), self.sample_interval / 1000,
                                    as_root=self.as_root)
        try:
            return (yield)
        finally:
            self._record(job, sampler.stop() or self._sample_now(job))

    def _sample_now(self, job: JobContext) -> list[tuple[float, str]]:
        """One sample as the job ends: for a job over before the loop took its first."""
        result = after_target(job).execute(f"date +%s.%N; {read_command(self.paths)}",
                                           timeout=READ_TIMEOUT, as_root=self.as_root)
        stamp, _, text = result.stdout.partition("\n")
        return [(epoch_seconds(stamp), text)]

    def _record(self, job: JobContext, samples: list[tuple[float, str]]) -> None:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["time", *self.labels])
        unread = [0] * len(self.paths)
        for timestamp, text in samples:
            values = parse_values(text, self.paths)
            for index, value in enumerate(values):
                unread[index] += value is None
            writer.writerow([f"{timestamp:.6f}", *("" if v is None else v for v in values)])
        job.add_artifact("poller-output", write_job_file(job, "poller.csv", out.getvalue()),
                         "data", "The files' values at each sample.")
        log = "".join(f"WARNING: Read nothing from \"{path}\" in {count} of {len(samples)} "
                      "samples\n" for path, count in zip(self.paths, unread, strict=True)
                      if count)
        job.add_artifact("poller-log", write_job_file(job, "poller.log", log), "log",
                         "Files that could not be read at some samples.")
        if not samples:
            raise InstrumentError("file_poller: no sample was taken")
        for path, count in zip(self.paths, unread, strict=True):
            if count == len(samples):
                raise InstrumentError(f"file_poller: {path} could not be read at any sample")
            if count:
                job.add_event(f"file_poller: {path} could not be read at {count} of "
                              f"{len(samples)} samples")

    def pytest_wa_job_output(self, job: JobContext) -> None:
        if not self.align_with_ftrace:
            return
        if job.output_directory is None or not (job.output_directory / "poller.csv").exists():
            return
        trace = next((a for a in job.artifacts if a.name == "trace-cmd-txt"), None)
        if trace is None:
            raise InstrumentError("file_poller: align_with_ftrace needs the trace-cmd-txt "
                                  "artifact (enable trace_cmd, with its text report)")
        path = job.output_directory / "poller.csv"
        trace_text = (job.output_directory / trace.path).read_text(errors="replace")
        path.write_text(shift_to_marker(path.read_text(), trace_text))
