"""``interrupts``: /proc/interrupts before and after the workload, and what changed.

One ``cat /proc/interrupts`` on each side of the run stage. The job keeps
WA3's three text files (``before/``, ``after/`` and ``diff/proc/interrupts``),
a CSV of the same difference (one row per interrupt, one column per CPU),
and how many interrupts the CPUs took during the workload: all together
(``interrupts``) and each (``per_cpu_interrupts``). Per-interrupt numbers
stay in the table: a phone has hundreds of interrupt lines, and as many
metrics per job would drown the ones that matter.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from ..model.errors import InstrumentError, TargetError
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .jobfiles import READ_TIMEOUT, after_target, aligned_table, write_job_file
from .reading import read_files

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

PATH = "/proc/interrupts"
COMMAND = f"cat {PATH}"
_COUNT = re.compile(r"\s*(\d+)")


@dataclass(frozen=True)
class Line:
    """One interrupt's line: its counts by CPU name (CPU0...) and its description."""

    name: str
    counts: dict[str, int]
    description: str


@dataclass(frozen=True)
class Table:
    """/proc/interrupts as read: the CPU columns (online CPUs only) and every line."""

    cpus: list[str]
    lines: dict[str, Line]


def parse(text: str) -> Table:
    """The CPU header and each ``NAME: count... description`` line."""
    rows = text.splitlines()
    cpus = rows[0].split() if rows else []
    if not cpus or not all(cpu.startswith("CPU") for cpu in cpus):
        raise InstrumentError(f"/proc/interrupts has no CPU header: {text[:200]!r}")
    lines: dict[str, Line] = {}
    for row in rows[1:]:
        name, colon, rest = row.partition(":")
        if not colon or not name.strip():
            continue
        counts: dict[str, int] = {}
        for cpu in cpus:
            found = _COUNT.match(rest)
            if found is None:
                break
            counts[cpu] = int(found.group(1))
            rest = rest[found.end():]
        lines[name.strip()] = Line(name.strip(), counts, " ".join(rest.split()))
    return Table(cpus, lines)


@dataclass(frozen=True)
class Change:
    """One interrupt during the job: '' (in both), '>' (appeared) or '<' (went away)."""

    mark: str
    line: Line
    counts: dict[str, int]  # interrupts during the job, by CPU (CPUs online at both ends)


def difference(before: Table, after: Table) -> list[Change]:
    """What each interrupt did during the job, in the order of the later file.

    A count that went backwards belongs to an interrupt freed and requested
    again: its count after the job is what it took since.
    """
    changes = []
    for name, line in after.lines.items():
        old = before.lines.get(name)
        if old is None:
            changes.append(Change(">", line, dict(line.counts)))
            continue
        counts = {cpu: count - old.counts[cpu] if count >= old.counts[cpu] else count
                  for cpu, count in line.counts.items() if cpu in old.counts}
        changes.append(Change("", line, counts))
    changes.extend(Change("<", line, {}) for name, line in before.lines.items()
                   if name not in after.lines)
    return changes


def per_cpu_totals(changes: list[Change], cpus: list[str]) -> dict[str, int]:
    """Interrupts each CPU took: the lines with a count for every CPU and a description
    (ERR and MIS are error counters, not interrupts: they have neither)."""
    totals = dict.fromkeys(cpus, 0)
    for change in changes:
        if change.line.description and len(change.line.counts) == len(cpus):
            for cpu in cpus:
                totals[cpu] += change.counts.get(cpu, 0)
    return totals


def diff_text(changes: list[Change], cpus: list[str]) -> str:
    """WA3's diff layout: a mark column, the interrupt, a count per CPU, the description."""
    rows = [["", "", *cpus, ""]]
    for change in changes:
        counts = [str(change.counts[cpu]) if cpu in change.counts else "" for cpu in cpus]
        rows.append([change.mark, f"{change.line.name}:", *counts, change.line.description])
    return aligned_table(rows, left=1)


def diff_csv(changes: list[Change], cpus: list[str]) -> str:
    """The difference as a table: interrupt, a column per CPU, total, description."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["interrupt", *cpus, "total", "description"])
    for change in changes:
        if change.mark == "<":
            continue
        counts = [change.counts.get(cpu) for cpu in cpus]
        writer.writerow([change.line.name, *("" if c is None else c for c in counts),
                         sum(c for c in counts if c is not None), change.line.description])
    return out.getvalue()


class Interrupts(Instrument):
    name = "interrupts"
    description = """
    Interrupts taken during the workload, per CPU, from /proc/interrupts.

    Reads /proc/interrupts before and after the workload runs: the job keeps both
    (before/proc/interrupts, after/proc/interrupts), their difference
    (diff/proc/interrupts, and diff/proc/interrupts.csv: one row per interrupt, one
    column per CPU) and the metrics interrupts (all CPUs together) and
    per_cpu_interrupts (classifier cpu): how many they took during the workload.
    """
    parameters = (OPTIONAL,)
    priority = Priority.NORMAL

    def check(self, target: Target) -> None:
        try:
            result = target.execute(COMMAND, timeout=READ_TIMEOUT)
        except TargetError as exc:
            raise InstrumentUnavailable(f"cannot read /proc/interrupts: {exc}") from None
        if not result.ok or not result.stdout.lstrip().startswith("CPU"):
            said = (result.stderr or result.stdout).strip()[:200]
            raise InstrumentUnavailable(f"/proc/interrupts cannot be read ({COMMAND}: "
                                        f"{said or 'no CPU header'})")

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        before = _read(job.target)
        try:
            return (yield)
        finally:
            self._record(job, before)

    def _record(self, job: JobContext, before: str) -> None:
        job.add_artifact("interrupts [before]", write_job_file(
            job, "before/proc/interrupts", before), "data", classifiers={"stage": "before"})
        after = _read(after_target(job))
        job.add_artifact("interrupts [after]", write_job_file(
            job, "after/proc/interrupts", after), "data", classifiers={"stage": "after"})
        old, new = parse(before), parse(after)
        changes = difference(old, new)
        cpus = [cpu for cpu in new.cpus if cpu in old.cpus]
        job.add_artifact("interrupts [diff]", write_job_file(
            job, "diff/proc/interrupts", diff_text(changes, cpus)), "data",
            "Interrupts during the workload, per CPU.", classifiers={"stage": "diff"})
        job.add_artifact("interrupts [csv]", write_job_file(
            job, "diff/proc/interrupts.csv", diff_csv(changes, cpus)), "data",
            "Interrupts during the workload: one row per interrupt, one column per CPU.",
            classifiers={"stage": "diff"})
        totals = per_cpu_totals(changes, cpus)
        job.add_metric("interrupts", sum(totals.values()), "count")
        for cpu, total in totals.items():  # under its own name: summaries group by name
            job.add_metric("per_cpu_interrupts", total, "count",
                           classifiers={"cpu": int(cpu[3:])})


def _read(target: Target) -> str:
    """/proc/interrupts in one round trip (none at all on the local target)."""
    text = read_files(target, [PATH], timeout=READ_TIMEOUT).get(PATH)
    if text is None:
        raise InstrumentError(f"{PATH} could not be read")
    return text + "\n"
