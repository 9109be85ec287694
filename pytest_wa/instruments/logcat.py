"""``logcat``: the job's Android log, from the buffers and with the filters the agenda chooses.

WA3 has no instrument of this name: it keeps every Android job's log as
``logcat.log`` as a device behaviour, as pytest-wa does (the device setting
``logcat``). This instrument is that same capture, configured per agenda or
job: which buffers (``logcat -b``), which tags at which priority (logcat's
filterspecs) and which lines (``regexps``, devlib's LogcatCollector's name);
and it detects a log that wrapped. A job that enables it has its
``logcat.log`` written here instead of by the device's default capture.

At job start one command clears the buffers and writes a marker line
(``log -t pytest-wa``); after teardown one command dumps them. If the
marker is gone, the ring buffer overflowed during the job and lost its first
lines: the log is kept and the job is PARTIAL (WA3 only warns). Filters are
applied on this host, to the ``threadtime`` lines, so the marker is seen
whatever they keep and every Android version filters alike.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from ..model.errors import ConfigError, InstrumentError
from ..model.parameters import Parameter, list_of_strings
from ..targets.protocols import Logcat as LogcatAbility
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

BUFFERS = ("main", "system", "radio", "events", "crash", "kernel", "security", "stats",
           "default", "all")
#: The buffers the marker is written to: a dump of any of them must show it.
MARKED = {"main", "default", "all"}
PRIORITIES = "VDIWEFS"
TAG = "pytest-wa"
#: A threadtime line: date, time, pid, tid, priority, tag, message.
_ENTRY = re.compile(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+\d+\s+\d+ ([VDIWEFA]) (.*?)\s*: ")
_FILTERSPEC = re.compile(r"^([^:\s]+)(?::([VDIWEFS*]))?$")


class Logcat(Instrument):
    name = "logcat"
    description = """The job's Android log (logcat.log), from chosen buffers, filtered.

    Clears the log at job start, dumps it after teardown; a log that wrapped during
    the job (its start lost) makes the job PARTIAL."""
    priority = Priority.NORMAL
    parameters = (
        Parameter("buffers", list_of_strings, None,
                  "The log buffers to keep (logcat -b); default: logcat's own (main, system, "
                  "crash).", allowed_values=BUFFERS),
        Parameter("filters", list_of_strings, None,
                  "logcat filterspecs, TAG:PRIORITY (V D I W E F S), e.g. [ActivityManager:I, "
                  "'*:S']: a line is kept when its tag's priority is reached; tags not named "
                  "follow '*' (default V)."),
        Parameter("regexps", list_of_strings, None,
                  "Keep only the lines a regular expression (Python's) finds a match in; "
                  "any of them."),
        OPTIONAL,
    )

    buffers: list[str] | None
    filters: list[str] | None
    regexps: list[str] | None

    def check(self, target: Target) -> None:
        self._levels = self._parse_filters()
        self._patterns = self._compile_regexps()
        if not isinstance(target, LogcatAbility):
            raise InstrumentUnavailable(
                "it keeps the device's Android log, and this device has no logcat (it lacks "
                "the Logcat ability of an Android device)")
        result = target.execute("command -v logcat && command -v log", timeout=30)
        if not result.ok:
            raise InstrumentUnavailable("it runs logcat and log, and this device lacks "
                                        f"{'logcat' if not result.stdout.strip() else 'log'}")

    def pytest_wa_job_start(self, job: JobContext) -> None:
        self._marker: str | None = None
        marker = f"job {job.output_id} iteration {job.iteration} starts ({secrets.token_hex(4)})"
        result = job.target.execute(
            f"logcat -c{self._buffer_options()}; log -t {TAG} {shlex.quote(marker)}",
            timeout=30)
        if not result.ok:
            raise InstrumentError(f"the log could not be marked (log -t {TAG}): exit code "
                                  f"{result.exit_code}: {result.stderr.strip()}")
        self._marker = marker

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_teardown(self, job: JobContext) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            self._save(job)

    def pytest_wa_job_end(self, job: JobContext) -> None:
        """A job whose setup failed has no teardown: its log (the most useful) is kept here."""
        if getattr(self, "_marker", None) is not None:
            self._save(job)

    def _save(self, job: JobContext) -> None:
        marker, self._marker = self._marker, None
        if marker is None or job.output_directory is None:
            return
        text = job.target.execute(f"logcat -d -v threadtime{self._buffer_options()}",
                                  timeout=60, check=True).stdout
        kept = self._kept(text)
        (job.output_directory / "logcat.log").write_text(kept, encoding="utf-8")
        job.add_artifact("logcat", "logcat.log", "log", self._describe())
        if self._marks_dump() and marker not in text:
            raise InstrumentError(
                "the log buffer wrapped during the job: its first lines are lost (make the "
                "device's buffers bigger, e.g. logcat -G 16M, or log less)")

    def _buffer_options(self) -> str:
        return "".join(f" -b {name}" for name in self.buffers or ())

    def _marks_dump(self) -> bool:
        """Whether the dumped buffers hold the marker (``log`` writes to main)."""
        return not self.buffers or bool(MARKED & set(self.buffers))

    def _describe(self) -> str:
        parts = [f"buffers {', '.join(self.buffers)}" if self.buffers else "",
                 f"filters {' '.join(self.filters)}" if self.filters else "",
                 f"regexps {' | '.join(self.regexps)}" if self.regexps else ""]
        chosen = "; ".join(part for part in parts if part)
        return "the device's logcat during the job" + (f" ({chosen})" if chosen else "")

    # --- filtering, on this host ---

    def _parse_filters(self) -> dict[str, int]:
        """Each tag's lowest priority kept (an index in PRIORITIES); '*' for the others."""
        levels: dict[str, int] = {}
        for spec in self.filters or ():
            match = _FILTERSPEC.match(spec)
            if not match:
                raise ConfigError(f"instrument 'logcat': filter {spec!r} is not a logcat "
                                  "filterspec TAG:PRIORITY (priority one of V D I W E F S)")
            priority = match.group(2) or "V"
            levels[match.group(1)] = PRIORITIES.index("V" if priority == "*" else priority)
        return levels

    def _compile_regexps(self) -> list[re.Pattern[str]]:
        patterns = []
        for text in self.regexps or ():
            try:
                patterns.append(re.compile(text))
            except re.error as exc:
                raise ConfigError(f"instrument 'logcat': regexp {text!r} is not a regular "
                                  f"expression: {exc}") from None
        return patterns

    def _kept(self, text: str) -> str:
        levels = getattr(self, "_levels", None)
        if levels is None:
            levels, self._patterns = self._parse_filters(), self._compile_regexps()
        lines = [line for line in text.splitlines() if self._keeps(line, levels)]
        return "".join(line + "\n" for line in lines)

    def _keeps(self, line: str, levels: dict[str, int]) -> bool:
        if line.startswith("--------- "):
            return True  # "beginning of main": where each buffer's lines start
        if levels:
            entry = _ENTRY.match(line)
            if entry is None:
                return False
            priority = "F" if entry.group(1) == "A" else entry.group(1)
            wanted = levels.get(entry.group(2), levels.get("*", 0))
            if wanted == PRIORITIES.index("S") or PRIORITIES.index(priority) < wanted:
                return False
        return not self._patterns or any(p.search(line) for p in self._patterns)
