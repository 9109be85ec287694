"""``dmesg``: the kernel messages logged while the workload ran; the log is never cleared.

WA3 clears the kernel's ring buffer (``dmesg -c``) at every job, which
destroys the log for everyone else. Here ``dmesg -r`` (util-linux, toybox
and busybox all have it; util-linux's ``-S`` too where it works) is read
before the workload (only the log's end, with util-linux's ``-s``) and
after it. The job's lines are those after the last line read before, found
again by its full text, kernel timestamp included; the log before the job
is what comes up to it. If the buffer wrapped during the job and that line
is gone, the lines stamped later than it are the job's, and an event says
the earliest may be lost. Each line's level (the ``<N>`` of raw output)
serves the ``loglevel`` filter; the files keep ``dmesg``'s usual
``[seconds] message`` form, as WA3's do.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from ..model.errors import TargetError
from ..model.parameters import Parameter, integer
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .jobfiles import READ_TIMEOUT, after_target, gives_root, write_job_file

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.base import CommandResult
    from ..targets.protocols import Target

COMMAND = "dmesg -r"
SYSLOG_COMMAND = "dmesg -S -r"
#: Bytes of the log's end read before the job: more than the longest record (1 KiB).
TAIL = 16384
_RAW = re.compile(r"<(\d+)>(\[\s*(\d+\.\d+)\]\s?)?")
_PREFIX = re.compile(r"^<\d+>", re.MULTILINE)
LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")


@dataclass(frozen=True)
class Record:
    """One kernel message: its level (0 emerg ... 7 debug), its timestamp (None where
    the kernel prints none) and its text as ``dmesg`` shows it (``[ 12.345] text``)."""

    level: int
    timestamp: float | None
    text: str


def parse(output: str) -> list[Record]:
    """``dmesg -r`` output as records; a line without ``<N>`` continues the one before."""
    records: list[Record] = []
    for line in output.splitlines():
        found = _RAW.match(line)
        if found is None:
            if records:
                last = records[-1]
                records[-1] = Record(last.level, last.timestamp, f"{last.text}\n{line}")
            continue
        stamp = found.group(3)
        records.append(Record(int(found.group(1)) & 7, float(stamp) if stamp else None,
                              line[len(f"<{found.group(1)}>"):]))
    return records


def job_records(before: list[Record], after: list[Record]) -> tuple[list[Record], bool]:
    """The records logged after ``before`` was read, and whether some may be lost (the
    ring buffer wrapped past the last record read before)."""
    if not before:
        return after, False
    anchor = before[-1]
    for index in range(len(after) - 1, -1, -1):
        if after[index] == anchor:
            return after[index + 1:], False
    if anchor.timestamp is None:
        return after, True
    return [r for r in after if r.timestamp is not None and r.timestamp > anchor.timestamp], True


def text_of(records: list[Record]) -> str:
    return "".join(f"{record.text}\n" for record in records)


def plain(raw: str) -> str:
    """``dmesg``'s usual form: the raw output without its ``<N>`` level prefixes."""
    return _PREFIX.sub("", raw)


def _ended(raw: str) -> str:
    return raw if not raw or raw.endswith("\n") else raw + "\n"


def last_record(raw: str) -> str:
    """The raw text of the last record, its continuation lines included."""
    text = _ended(raw)
    start = text.rfind("\n<", 0, len(text) - 1)
    return text[start + 1:] if start >= 0 else text


def split_log(start: str, after: str) -> tuple[str, list[Record], bool]:
    """The raw log as it was before the job, the job's records, and whether some may be
    lost, from what was read before the job (``start``: the whole log, or its last
    lines) and the whole log read after it.

    The last record of ``start`` is found in ``after`` (only at a record's start), and
    only what follows it is parsed: a whole log is thousands of lines, the job's a few.
    Where the ring buffer wrapped past it, ``start`` is all there is of the log before.
    """
    anchor, text = last_record(start), _ended(after)
    if not anchor:
        return "", parse(text), False
    end = len(text)
    while (found := text.rfind(anchor, 0, end)) >= 0:
        stop = found + len(anchor)
        if (found == 0 or text[found - 1] == "\n") and text[stop:stop + 1] in ("", "<"):
            return text[:stop], parse(text[stop:]), False
        end = stop - 1
    records, lost = job_records(parse(anchor), parse(text))
    return _ended(start), records, lost


class Dmesg(Instrument):
    name = "dmesg"
    description = """
    The kernel log of each job, never clearing the ring buffer.

    The kernel log: all of it as it was before the workload ran (dmesg/before) and the
    lines logged while it ran (dmesg/after). The kernel's ring buffer is never cleared.
    Reading it may need root (kernel.dmesg_restrict, Android): the instrument reads it
    as root when it must and the device allows it.
    """
    parameters = (
        Parameter("loglevel", integer, None, allowed_values=list(range(8)), description=(
            "Keep only the job's lines of this level or more severe (0 emerg, 1 alert, "
            "2 crit, 3 err, 4 warning, 5 notice, 6 info, 7 debug) in dmesg/after. WA3 set "
            "the console's log level with it instead; nothing on the device is changed "
            "here.")),
        OPTIONAL,
    )
    priority = Priority.SLOW

    loglevel: int | None

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.as_root = False
        self.command = self.start_command = COMMAND

    def check(self, target: Target) -> None:
        result = self._try(target, as_root=False)
        if (result is None or not result.ok) and gives_root(target):
            rooted = self._try(target, as_root=True)
            if rooted is not None:
                result, self.as_root = rooted, rooted.ok
        if result is not None and result.ok:
            if result.stdout.strip() == "syslog":
                self.command, self.start_command = SYSLOG_COMMAND, f"{SYSLOG_COMMAND} -s {TAIL}"
            return
        said = (result.stderr or result.stdout).strip()[:300] if result else "no answer"
        if result is not None and result.exit_code == 127:
            raise InstrumentUnavailable(f"the device has no dmesg command ({said})")
        raise InstrumentUnavailable(
            f"cannot read the kernel log ({COMMAND}: {said}); where kernel.dmesg_restrict "
            "is 1 (and on Android) it takes root: connect as root, or on Android set "
            "adb_as_root: true in the device's config (userdebug and eng builds)")

    @staticmethod
    def _try(target: Target, *, as_root: bool) -> CommandResult | None:
        """Whether ``dmesg -r`` works, and ``dmesg -S -r -s N`` (util-linux's: one
        syslog(2) call instead of a read per line of /dev/kmsg, which costs as much
        again; with ``-s`` only the last N bytes of the log, all the start of a job needs:
        its last line. toybox and busybox refuse -S)."""
        try:
            return target.execute(f"if {SYSLOG_COMMAND} -s {TAIL} >/dev/null 2>&1; then echo "
                                  f"syslog; else {COMMAND} >/dev/null; fi",
                                  timeout=READ_TIMEOUT, as_root=as_root)
        except TargetError:
            return None

    def _read(self, target: Target, command: str | None = None) -> str:
        return target.execute(command or self.command, timeout=READ_TIMEOUT,
                              as_root=self.as_root, check=True).stdout

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        start = self._read(job.target, self.start_command)
        try:
            return (yield)
        finally:
            self._record(job, start)

    def _record(self, job: JobContext, start: str) -> None:
        before, records, lost = split_log(start, self._read(after_target(job)))
        job.add_artifact("dmesg_before", write_job_file(job, "dmesg/before", plain(before)),
                         "data", "The kernel log before the workload ran.")
        if lost:
            job.add_event("dmesg: the kernel's ring buffer wrapped (or was cleared) during "
                          "the job: the last line read before it is gone, so the job's "
                          "earliest lines may be missing")
        if self.loglevel is not None:
            records = [record for record in records if record.level <= self.loglevel]
        job.add_artifact("dmesg_after", write_job_file(job, "dmesg/after", text_of(records)),
                         "data", "The kernel's lines logged while the workload ran"
                         + (f" (level {LEVELS[self.loglevel]} or more severe)."
                            if self.loglevel is not None else "."))
