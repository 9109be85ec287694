"""The terminal's word on ``iterations: auto``: how many iterations each auto spec took
and why it stopped, as notes of the pytest-wa summary.

Gathered from reports, as the metrics table is, so that an xdist controller
says it too: every auto item's reports carry ``wa_auto`` (its settings); the
iteration that settled its spec carries ``wa_auto_verdict``, and so does each
iteration not needed after it, which also carries ``wa_auto_not_needed``. A
spec the run left undecided gets its verdict only when the run ends, after
the last report: a run of its own has it (``Progress.auto``), a pool's
controller says how many iterations ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .state import existing_run

_AUTO_KEY = pytest.StashKey[dict[tuple[str, str], "AutoSpec"]]()


@dataclass
class AutoSpec:
    """One auto spec on one device, as the reports tell it."""

    settings: str
    ran: int = 0
    not_needed: int = 0
    verdict: str | None = None


def _specs(config: pytest.Config) -> dict[tuple[str, str], AutoSpec]:
    specs = config.stash.get(_AUTO_KEY, None)
    if specs is None:
        specs = config.stash[_AUTO_KEY] = {}
    return specs


def note_report(config: pytest.Config, report: pytest.TestReport) -> None:
    """Count an auto item's final report (its teardown: one per item, retries' aside)."""
    if report.when != "teardown" or not report.user_properties:
        return
    properties = dict(report.user_properties)
    if "wa_auto" not in properties:
        return
    key = (f"{properties['wa_job_id']}-{properties['wa_label']}",
           str(properties.get("wa_device", "")))
    spec = _specs(config).setdefault(key, AutoSpec(str(properties["wa_auto"])))
    if "wa_auto_not_needed" in properties:
        spec.not_needed += 1
    elif properties.get("wa_status") not in (None, "SKIPPED", "ABORTED"):
        spec.ran += 1
    if properties.get("wa_auto_verdict"):
        spec.verdict = str(properties["wa_auto_verdict"])


def auto_notes(config: pytest.Config) -> list[str]:
    """One line per auto spec (and device, when a spec ran on several)."""
    specs = _specs(config)
    late = _verdicts_at_run_end(config)
    jobs = [job for job, _ in specs]
    notes = []
    for (job, device), spec in specs.items():
        where = f" on {device}" if jobs.count(job) > 1 else ""
        verdict = spec.verdict or late.get((job, device)) or (
            f"{spec.ran} iteration(s) ran, no decision ({spec.settings})")
        more = f"; {spec.not_needed} not needed" if spec.not_needed else ""
        notes.append(f"iterations: auto: {job}{where}: {verdict}{more}")
    return notes


def _verdicts_at_run_end(config: pytest.Config) -> dict[tuple[str, str], str]:
    """The verdicts this process's run gave when it ended (specs left undecided)."""
    run = existing_run(config)
    if run is None:
        return {}
    return {(record.name, run.device): record.verdict.message
            for record in run.progress.auto.values() if record.verdict is not None}
