"""What the terminal shows: WA status words, a metrics table and WA's closing line.

Everything is computed from test reports (their ``user_properties``), so it
works the same on an xdist controller as in a single process.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from ..model.status import SUMMARY_ORDER, TERMINAL, JobStatus
from ..stats import Summary, summarize
from .auto_summary import auto_notes, note_report
from .state import JobRecord, existing_run, get_tally, session_notes

MAX_TABLE_ROWS = 60
#: The statuses whose metrics count in statistics.
COUNTED = (JobStatus.OK.name, JobStatus.NONCRITICAL.name)


def _properties(report: pytest.TestReport) -> dict[str, Any]:
    return dict(report.user_properties)


def wa_status(report: pytest.TestReport) -> JobStatus | None:
    """The WA status a report carries, if it is a pytest-wa job's report."""
    name = str(_properties(report).get("wa_status"))
    return JobStatus[name] if name in JobStatus.__members__ else None


def teststatus(report: pytest.TestReport) -> tuple[str, str, Any] | None:
    """(category, letter, word) for pytest's terminal, with WA's status words."""
    status = wa_status(report)
    if status is None:
        return None
    if report.outcome == "rerun":
        return "rerun", "R", (f"{status.name}, RETRYING", {"yellow": True})
    if report.when == "setup" and report.passed:
        return None
    if report.when == "setup" and report.failed:
        return "error", "E", ("FAILED", {"red": True})
    category, letter, colour = TERMINAL.get(status, ("failed", "F", "red"))
    return category, letter, (status.name, {colour: True})


def _metrics(properties: list[tuple[str, Any]]) -> list[tuple[str, float | str, str]]:
    found = []
    for key, value in properties:
        if not str(key).startswith("metric:"):
            continue
        number, _, units = str(value).partition(" ")
        try:
            parsed: float | str = float(number)
        except ValueError:
            parsed = number
        found.append((str(key)[len("metric:"):], parsed, units))
    return found


class StatusReporter:
    """Tallies final job statuses from reports and prints the run summary."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        note_report(self.config, report)  # iterations: auto
        if report.when == "teardown" or not report.user_properties:
            return
        status = wa_status(report)
        if status is None or (report.when == "setup" and report.passed) \
                or report.outcome == "rerun":
            return
        properties = _properties(report)
        job = f"{properties['wa_job_id']}-{properties['wa_label']}"
        records = get_tally(self.config).records
        earlier = records.get(report.nodeid)
        records[report.nodeid] = JobRecord(
            job, status.name, _metrics(report.user_properties),
            str(properties.get("wa_device", "")),
            report.duration + (earlier.seconds if earlier else 0.0))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Every metric's statistics as junit-xml properties of the test suite (before
        junitxml writes its file), so CI keeps them beside the results."""
        xml = junit_xml(self.config)
        if xml is None:
            return
        for (job, name), (values, units) in metric_series(
                get_tally(self.config).records.values()).items():
            xml.add_global_property(f"wa_stats:{job}:{name}",
                                    statistics_text(summarize(values), units))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tally = get_tally(self.config)
        run = existing_run(self.config)
        notes = (run.notes if run is not None else []) + session_notes(self.config) \
            + auto_notes(self.config)
        if not tally.records and not notes:
            return
        terminalreporter.section("pytest-wa results")
        for note in notes:
            terminalreporter.write_line(f"pytest-wa: {note}")
        if not tally.records:
            return
        for line in metrics_table(tally.records.values()):
            terminalreporter.write_line(line)
        terminalreporter.write_line(device_times(tally.records.values()))
        counts = tally.counts()
        parts = [f"{counts[s.name]} {s.name}" for s in SUMMARY_ORDER if counts[s.name]]
        total = sum(counts.values())
        terminalreporter.write_line(f"Ran a total of {total} iteration{'s' * (total != 1)}: "
                                    + ", ".join(parts), bold=True)


def metric_series(records: Any) -> dict[tuple[str, str], tuple[list[float], str]]:
    """Each (job, metric)'s values over the iterations that ended OK (or NONCRITICAL)
    and reported it, and its units: a failed iteration's numbers are not trusted."""
    values: dict[tuple[str, str], tuple[list[float], str]] = {}
    for record in records:
        if record.status not in COUNTED:
            continue
        for name, value, unit in record.metrics:
            if isinstance(value, float):
                values.setdefault((record.job, name), ([], unit))[0].append(value)
    return values


def device_times(records: Any) -> str:
    """How long each device was busy with jobs, and with how many."""
    seconds: dict[str, float] = defaultdict(float)
    jobs: dict[str, int] = defaultdict(int)
    for record in records:
        seconds[record.device or "?"] += record.seconds
        jobs[record.device or "?"] += 1
    return "Time in jobs: " + ", ".join(
        f"{device} {seconds[device]:.1f} s ({jobs[device]} job{'s' * (jobs[device] != 1)})"
        for device in sorted(seconds))


def junit_xml(config: pytest.Config) -> Any:
    """junitxml's writer when --junit-xml is given (pytest's own stash key)."""
    from _pytest.junitxml import xml_key

    return config.stash.get(xml_key, None)


def statistics_text(summary: Summary, units: str) -> str:
    """One metric's statistics as one property value."""
    low, high = summary.ci or (None, None)
    parts = [f"n={summary.n}", f"mean={summary.mean:.6g}", f"median={summary.median:.6g}",
             f"stdev={summary.stdev:.3g}",
             f"cv={'' if summary.cv is None else f'{100 * summary.cv:.2f}%'}",
             f"ci95={'' if low is None else f'[{low:.6g}, {high:.6g}]'}",
             f"min={summary.minimum:.6g}", f"max={summary.maximum:.6g}", f"units={units}",
             f"outliers={','.join(str(i + 1) for i in summary.outliers)}"]
    problems = summary.problems()
    return " ".join(parts) + (f" unstable={'; '.join(problems)}" if problems else "")


def _row(job: str, name: str, summary: Summary, units: str) -> tuple[str, ...]:
    margin = "" if summary.margin is None else f"{summary.margin:.3g}"
    cv = "" if summary.cv is None else f"{100 * summary.cv:.2g}%"
    return (job, name, str(summary.n), f"{summary.mean:.6g}", margin, cv,
            f"{summary.minimum:.6g}", f"{summary.maximum:.6g}", f"{summary.stdev:.3g}", units)


def metrics_table(records: Any) -> list[str]:
    """One row per (job, metric) over its iterations: n, mean, the half-width of its
    95 % confidence interval, CV, min, max, stdev (docs/statistics.md); then a line
    for each metric whose numbers should not be trusted as they are."""
    series = metric_series(records)
    if not series:
        return []
    header = ("job", "metric", "n", "mean", "±95%", "cv", "min", "max", "stdev", "units")
    rows: list[tuple[str, ...]] = [header]
    unstable: list[str] = []
    for index, ((job, name), (values, units)) in enumerate(series.items()):
        summary = summarize(values)
        if index < MAX_TABLE_ROWS:
            rows.append(_row(job, name, summary, units))
        if summary.problems():
            unstable.append(f"unstable: {job} {name}: {'; '.join(summary.problems())}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < 2 or i == 9 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in rows]
    if len(series) > MAX_TABLE_ROWS:
        lines.append(f"... {len(series) - MAX_TABLE_ROWS} more rows (every value is in the "
                     "junit-xml user properties)")
    if unstable:
        lines += unstable + [UNSTABLE_ADVICE]
    return lines


UNSTABLE_ADVICE = ("(to steady them: more iterations, a fixed CPU frequency (runtime "
                   "parameter governor: performance), or a delay between jobs "
                   "(the delay instrument); docs/statistics.md)")
