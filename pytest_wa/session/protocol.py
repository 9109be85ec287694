"""Retries as a runtest protocol, the way pytest-rerunfailures does them.

A job whose attempt ends with a status in ``retry_on_status`` runs again at
once, in the same ``pytest_runtest_protocol`` call, so it keeps its place in
the execution order and its device. The earlier attempts' reports are logged
with the outcome ``rerun`` (terminal letter ``R``; junit-xml ignores them and
shows the final attempt), and their output directories are kept under
``__failed/<job>-attemptNN`` by the output writer when the next attempt starts.
Whether to retry is decided when an attempt ends (``JobItem._after_attempt``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from _pytest.runner import runtestprotocol

if TYPE_CHECKING:
    from .items import JobItem


def run_job_item(item: JobItem, nextitem: pytest.Item | None) -> bool:
    """Run every attempt of one job iteration and log the reports pytest should see."""
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    item.attempt = 0
    while True:
        item.will_retry = False
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        if not item.will_retry:
            for report in reports:
                ihook.pytest_runtest_logreport(report=report)
            break
        _log_rerun(item, reports)
        item.attempt += 1
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _log_rerun(item: JobItem, reports: list[pytest.TestReport]) -> None:
    """An attempt that will be retried: its failure becomes a ``rerun`` report.

    The teardown report is not logged (junit-xml would close the test case on
    it); a passed setup report is, as pytest-rerunfailures does.
    """
    for report in reports:
        if report.when == "teardown":
            continue
        if report.failed:
            report.outcome = "rerun"  # type: ignore[assignment]
            item.ihook.pytest_runtest_logreport(report=report)
            return
        item.ihook.pytest_runtest_logreport(report=report)


def run_protocol(item: JobItem, nextitem: pytest.Item | None) -> bool:
    """A job item's whole protocol: a pool worker opens its output at its first job."""
    from .state import get_run

    get_run(item.config).ensure_output()
    return run_job_item(item, nextitem)
