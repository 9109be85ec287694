"""The baseline's verdicts as test results, junit-xml properties and a terminal section.

Each job with a compared metric gets one more result, made the way pytest
makes a test's (logstart, setup, call and teardown reports, logfinish), so
the terminal, junit-xml, ``--lf`` bookkeeping and IDE runners all see an
ordinary test: ``<job id>-<label>[baseline]`` beside the job's iterations.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest

from ..compare.table import HEADERS, Report, Row, aligned, cells, metric_label, number
from ..compare.verdicts import REGRESSED, VERDICTS
from .report import junit_xml

MAX_ROWS = 60


@dataclass
class JobSeen:
    """What the baseline result of one job needs from its iterations' reports."""

    fspath: str
    line: int | None
    prefix: str  # the node id up to the job's name: "agendas/cpu.yaml"
    name: str  # "<job id>-<label>"

    @property
    def nodeid(self) -> str:
        return f"{self.prefix}::{self.name}[baseline]"


@dataclass
class Judgement:
    """This run against the baseline: the comparison, or why there is none."""

    source: str  # the baseline as given
    threshold: float  # the global one
    jobs: dict[str, JobSeen]  # job id -> what its reports said (never empty)
    report: Report | None = None
    problem: str | None = None


def verdict_text(row: Row) -> str:
    """One metric's verdict and its evidence, as one junit-xml property value."""
    c = row.comparison
    change = "" if c.change is None else f"{c.change:+.2f}%"
    ci = "" if c.ci_percent is None else f"[{c.ci_percent[0]:+.2f}%, {c.ci_percent[1]:+.2f}%]"
    p = "" if c.p is None else f"{c.p:.4g}"
    return (f"{c.verdict} change={change} ci95={ci} p={p} threshold={c.threshold:g}% "
            f"baseline={number(c.baseline_mean)} this={number(c.this_mean)} "
            f"n={c.baseline_n}/{c.this_n} units={row.units or ''}")


def report_verdicts(session: pytest.Session, check: Judgement) -> None:
    """One result per compared job (failed if a metric regressed); one failed result
    for the whole comparison when nothing could be compared: a gate that compared
    nothing must not pass."""
    xml = junit_xml(session.config)
    if check.problem is not None:
        first = next(iter(check.jobs.values()))
        _report(session, first, f"{first.prefix}::baseline", "baseline",
                f"--wa-baseline {check.source}: {check.problem}", [])
        return
    assert check.report is not None
    by_job: dict[str, list[Row]] = defaultdict(list)
    for row in check.report.rows:
        by_job[row.key[0]].append(row)
        if xml is not None:
            xml.add_global_property(f"wa_verdict:{row.key[0]}:{metric_label(row.key)}",
                                    verdict_text(row))
    for job, rows in by_job.items():
        seen = check.jobs.get(job)
        if seen is None:  # ran in an earlier session (--wa-resume): under another's file
            seen = _stand_in(check, job)
        properties = [(f"wa_verdict:{metric_label(row.key)}", verdict_text(row))
                      for row in rows]
        regressed = [row for row in rows if row.comparison.verdict == REGRESSED]
        message = None
        if regressed:
            message = "\n".join([f"{len(regressed)} of {len(rows)} metrics of {job} regressed "
                                 f"against the baseline {check.source}:",
                                 *aligned([HEADERS, *(cells(row, check.threshold)
                                                      for row in rows)])])
        _report(session, seen, seen.nodeid, f"{seen.name}[baseline]", message, properties)


def _stand_in(check: Judgement, job: str) -> JobSeen:
    first = next(iter(check.jobs.values()))
    return JobSeen(first.fspath, None, first.prefix, job)


def _report(session: pytest.Session, seen: JobSeen, nodeid: str, domain: str,
            failure: str | None, properties: list[tuple[str, Any]]) -> None:
    """A test's reports for ``nodeid``: failed at call with ``failure``, else passed."""
    hook = session.config.hook
    location = (seen.fspath, seen.line, domain)
    session.testscollected += 1  # the terminal's [100%] counts it
    hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
    for when in ("setup", "call", "teardown"):
        failed = when == "call" and failure is not None
        hook.pytest_runtest_logreport(report=pytest.TestReport(
            nodeid, location, {domain: 1}, "failed" if failed else "passed",
            failure if failed else None, when, user_properties=properties))
    hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)


def summary_lines(check: Judgement) -> list[str]:
    """The section at the end: who was compared, the rows that matter, the counts."""
    lines = [f"baseline: {check.source}"]
    if check.problem is not None:
        return [*lines, f"nothing compared: {check.problem}"]
    report = check.report
    assert report is not None
    lines.append(f"threshold: {check.threshold:g}% of the baseline mean (unless a metric "
                 "has its own); 95% CI of the difference (Welch); p: Mann-Whitney U")
    order = {verdict: index for index, verdict in enumerate(VERDICTS)}
    rows = sorted(report.rows, key=lambda row: order[row.comparison.verdict])
    lines += aligned([HEADERS, *(cells(row, check.threshold) for row in rows[:MAX_ROWS])])
    if len(rows) > MAX_ROWS:
        lines.append(f"... {len(rows) - MAX_ROWS} more rows (every verdict is in the "
                     "junit-xml properties)")
    lines.append(f"{len(report.rows)} metrics compared: "
                 + ", ".join(f"{count} {verdict}" for verdict, count in report.counts().items()))
    if report.only_this:
        lines.append(f"{len(report.only_this)} metrics of this run are not in the baseline")
    if report.only_baseline:
        lines.append(f"{len(report.only_baseline)} metrics of the baseline are not in "
                     "this run")
    return lines
