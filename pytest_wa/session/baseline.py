"""``--wa-baseline RUN``: this run's metrics against a baseline run's, gating the session.

The baseline is loaded when the session starts, before any job: a baseline
that is missing, unreadable, or needs scipy that is not installed stops the
run with one line, instead of after hours of benchmarks. (Loading it first
also means ``--wa-baseline wa_output`` compares with the previous run even
though this run moves that directory aside.)

After the last job, this run is read back from its run directory (so a pool's
jobs, and with ``--wa-resume`` the jobs of earlier sessions, all count) and
compared metric by metric (``compare/``: Welch's interval, Mann-Whitney U,
the verdict rule of docs/statistics.md). Each job with a compared metric
then gets one more test result, ``<job id>-<label>[baseline]``: failed when a
metric of the job regressed (its message is the job's rows of the table),
passed otherwise, with every verdict in its junit-xml properties. A failing
*test* rather than only a failing exit status: CI systems, IDE runners and
junit-xml readers show which job regressed, where a bare exit status would
say only that something did. These results are made on the process that
reports (a pool's controller), after the jobs' own, so the jobs' outcomes
stay those of the jobs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .state import SHARED_DIRECTORY_KEY, existing_run
from .verdict_items import JobSeen, Judgement

if TYPE_CHECKING:
    from ..compare.runs import RunMetrics

NEEDS_SCIPY = "--wa-baseline needs scipy: pip install 'pytest-wa[stats]'"


class BaselineCheck:
    """Registered by plugin.py when ``--wa-baseline`` is given (never in a pool worker)."""

    def __init__(self, config: pytest.Config) -> None:
        from ..compare.cli import thresholds
        from ..compare.runs import CompareError

        self.config = config
        self.source = str(config.getoption("wa_baseline"))
        self.database = config.getoption("wa_db") or os.environ.get("PYTEST_WA_DB")
        try:
            self.threshold, self.per_metric = thresholds(config.getoption("wa_threshold"))
        except CompareError as error:
            raise pytest.UsageError(str(error).replace("--threshold", "--wa-threshold")
                                    ) from None
        self.baseline: RunMetrics | None = None
        self.jobs: dict[str, JobSeen] = {}  # job id -> what its reports said
        self.judgement: Judgement | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Load the baseline now: a wrong one must not cost a run's worth of jobs."""
        from importlib.util import find_spec

        from ..compare.runs import CompareError, load

        if find_spec("scipy") is None:
            raise pytest.UsageError(NEEDS_SCIPY)
        try:
            self.baseline = load(self.source, self.database)
        except (CompareError, OSError) as error:
            raise pytest.UsageError(f"--wa-baseline {self.source}: {error}") from None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        job = properties.get("wa_job_id")
        if job is None or str(job) in self.jobs:
            return
        fspath, line, _ = report.location
        self.jobs[str(job)] = JobSeen(fspath, line, report.nodeid.rsplit("::", 1)[0],
                                      f"{job}-{properties.get('wa_label', job)}")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        """After the last job (an interrupted session is not judged)."""
        result = yield
        if self.jobs:
            self._judge(session)
        return result

    def _judge(self, session: pytest.Session) -> None:
        from ..compare.runs import CompareError, from_directory
        from ..compare.table import compare_runs
        from .verdict_items import report_verdicts

        assert self.baseline is not None
        judgement = self.judgement = Judgement(self.source, self.threshold, self.jobs)
        directory = this_run_directory(self.config)
        try:
            if directory is None:
                raise CompareError("this run wrote no run directory")
            this = from_directory(directory)
        except (CompareError, OSError) as error:
            judgement.problem = f"cannot read this run back: {error}"
        else:
            judgement.report = compare_runs(self.baseline, this, self.threshold,
                                            self.per_metric)
            if not judgement.report.rows:
                judgement.problem = (
                    f"no metric of this run is in the baseline {self.source} (its jobs: "
                    f"{', '.join(sorted(self.baseline.jobs)) or 'none'})")
        report_verdicts(session, judgement)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from .verdict_items import summary_lines

        if self.judgement is None:
            return
        terminalreporter.section("pytest-wa baseline")
        for line in summary_lines(self.judgement):
            terminalreporter.write_line(line)


def this_run_directory(config: pytest.Config) -> Path | None:
    """The run directory of this session: its own run's, or a pool's shared one."""
    run = existing_run(config)
    if run is not None and run.output is not None:
        return Path(run.output.directory)
    return config.stash.get(SHARED_DIRECTORY_KEY, None)


def start_baseline_check(config: pytest.Config) -> None:
    """Register the check on the process that reports (not in a pool worker)."""
    if config.getoption("wa_baseline", None) is None \
            or config.pluginmanager.has_plugin("pytest-wa-pool-worker"):
        return
    config.pluginmanager.register(BaselineCheck(config), "pytest-wa-baseline")
