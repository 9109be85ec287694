"""``iterations: auto`` in a run: whether a spec has run enough, and the iterations it
then does not need.

pytest collects ``max_iterations`` items for an auto spec. After each
iteration's final attempt (``lifecycle._decide``) the run judges the spec
(``stats/stability.py``); once it is stable (or has no metric to wait for)
its iterations still to come are not needed: each is reported skipped, with
the verdict as the reason, and leaves the run's job list (it never ran, and
is neither SKIPPED nor pending there). The verdict, and at the run's end the
auto specs it left undecided, go into the run's events and its result's
``metadata["auto_iterations"]``.

What this process has seen of each auto spec is a ``SpecRecord``: the
iterations that ran to an end here and, with ``--wa-resume``, those that
passed before. In a pool that shares jobs out, each worker judges from the
iterations its own device ran (docs/statistics.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from ..agenda.spec import AutoIterations, spec_key
from ..model.runlog import RUN_LOGGER
from ..model.status import JobStatus
from ..model.warnings import PytestWAWarning, warn_at
from ..stats.stability import NO_METRICS, Verdict, judge, undecided

if TYPE_CHECKING:
    import pytest

    from ..agenda.spec import Job, JobSpec
    from ..model.results import Metric
    from ..plugins.context import JobContext
    from .role import RunRole

logger = RUN_LOGGER
#: The run result's metadata key: one record per auto spec (and device) judged.
METADATA_KEY = "auto_iterations"
#: Statuses whose iteration did not run (the run stopped, Ctrl-C): not counted.
_NOT_RUN = (JobStatus.SKIPPED, JobStatus.ABORTED)


class AutoRun(Protocol):
    """What judging auto specs needs of the run (``run.py`` has it all)."""

    config: pytest.Config
    device: str
    role: RunRole
    output: Any
    interrupted: bool

    @property
    def progress(self) -> Any: ...

    def output_id(self, spec: JobSpec) -> str: ...


@dataclass
class SpecRecord:
    """One auto spec as this process has seen it."""

    spec: JobSpec
    auto: AutoIterations
    output_id: str
    ran: int = 0
    ok: int = 0
    #: Each metric's values over the OK iterations (name plus classifiers).
    series: dict[str, list[float]] = field(default_factory=dict)
    verdict: Verdict | None = None
    #: Iterations that ran in this session (the others passed in the run resumed).
    here: int = 0
    #: Names of the metrics reported that ``target_metrics`` leaves out.
    ignored: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"{self.spec.id}-{self.spec.label}"

    def add(self, status: JobStatus, metrics: list[Metric]) -> None:
        """One iteration that ran to an end: OK ones (and NONCRITICAL, as in
        statistics.csv) give their metrics; failed ones only count against max."""
        self.ran += 1
        if not status.passed:
            return
        self.ok += 1
        for metric in metrics:
            if self.auto.decides(metric.name):
                self.series.setdefault(_metric_name(metric), []).append(float(metric.value))
            else:
                self.ignored.add(metric.name)

    def judge(self) -> Verdict | None:
        auto = self.auto
        verdict = judge(self.series, self.ok, self.ran, auto.target_cv, auto.min_iterations,
                        auto.max_iterations)
        if verdict is not None and verdict.stopped == NO_METRICS and self.ignored:
            # most likely a misspelt name: say what there was to choose from
            return replace(verdict, message=(
                f"none of its metrics is in target_metrics ({', '.join(auto.target_metrics)}"
                f"; it reported {', '.join(sorted(self.ignored))}): "
                + verdict.message.removeprefix("no metrics to judge: ")))
        return verdict


def _metric_name(metric: Metric) -> str:
    if not metric.classifiers:
        return metric.name
    return f"{metric.name}{json.dumps(metric.classifiers, sort_keys=True, default=str)}"


def spec_record(run: AutoRun, spec: JobSpec) -> SpecRecord:
    """The spec's record, made at its first iteration (from the resumed run's passed
    iterations, if any; a pool that shares jobs warns once per spec)."""
    records: dict[str, SpecRecord] = run.progress.auto
    output_id = run.output_id(spec)
    record = records.get(output_id)
    if record is None:
        assert spec.auto is not None
        if not records and run.role.shares_jobs:  # once per worker
            warn_at(PytestWAWarning(
                "iterations: auto in a pool that shares jobs out: each device judges the "
                "iterations it ran (with --wa-matrix, or on one device, every iteration of "
                "a spec is judged together)"), spec.location)
        record = records[output_id] = SpecRecord(spec, spec.auto, output_id)
        _seed(run, record)
    return record


def _seed(run: AutoRun, record: SpecRecord) -> None:
    """--wa-resume: the iterations that passed before count (they are not run again)."""
    from .output_setup import previous_run

    previous = previous_run(run.config)
    for job in previous.jobs if previous is not None else ():
        if job.id == record.output_id and job.status.passed:
            record.add(job.status, job.metrics)
    if record.ran:
        verdict = record.judge()
        record.verdict = verdict if verdict is not None and verdict.stops_spec else None


def unneeded(run: AutoRun, job: Job) -> tuple[str, str] | None:
    """(why, the verdict) when this iteration is not needed: its spec is already stable.

    It leaves the run's job list if it never ran (a resumed run keeps a job that
    ran before under its status)."""
    if job.spec.auto is None:
        return None
    record = spec_record(run, job.spec)
    if record.verdict is None or not record.verdict.stops_spec:
        return None
    if run.output is not None:
        run.output.forget_unrun(record.output_id, job.iteration)
    return f"not needed: {record.name} {record.verdict.message}", record.verdict.message


def record_iteration(run: AutoRun, job: JobContext) -> Verdict | None:
    """Count an iteration's final attempt; the verdict if the spec is settled by it."""
    if job.spec.auto is None or job.status in _NOT_RUN:
        return None
    record = spec_record(run, job.spec)
    if record.verdict is not None:
        return None  # settled: the spec's later iterations do not run (unneeded)
    record.add(job.status, job.metrics)
    record.here += 1
    verdict = record.judge()
    if verdict is not None:
        _settle(run, record, verdict)
    return verdict


def _settle(run: AutoRun, record: SpecRecord, verdict: Verdict) -> None:
    """The verdict into run.log, the run's events and metadata; the iterations the
    spec no longer needs leave the run's job list."""
    record.verdict = verdict
    where = f" on {run.device}" if run.role.pool else ""  # a pool: each device judges
    message = f"{record.output_id}-{record.spec.label}{where}: {verdict.message}"
    logger.info("iterations: auto: %s", message)
    writer = run.output
    if writer is None:
        return
    writer.add_event(f"iterations: auto: {message}")
    metadata = dict(writer.result.metadata)
    merge_auto_records(metadata, {METADATA_KEY: [_metadata(run, record, verdict)]})
    writer.set_metadata(METADATA_KEY, metadata[METADATA_KEY])
    if verdict.stops_spec:
        writer.forget_unrun(record.output_id)


def _metadata(run: AutoRun, record: SpecRecord, verdict: Verdict) -> dict[str, Any]:
    auto = record.auto
    return {"job": record.output_id, "label": record.spec.label, "device": run.device,
            "stopped": verdict.stopped, "iterations": verdict.iterations, "ok": verdict.ok,
            "cv": verdict.cv, "metric": verdict.metric, "message": verdict.message,
            "target_cv": auto.target_cv, "min_iterations": auto.min_iterations,
            "max_iterations": auto.max_iterations, "target_metrics": list(auto.target_metrics)}


def merge_auto_records(metadata: dict[str, Any], found: dict[str, Any]) -> None:
    """``found``'s verdicts (a pool worker's, a new one) into the run's ``metadata``:
    the latest for each job and device (a resumed run replaces an earlier verdict)."""
    records = found.get(METADATA_KEY)
    if not records:
        return
    merged = {(r.get("job"), r.get("device")): r for r in metadata.get(METADATA_KEY, [])}
    merged.update({(r.get("job"), r.get("device")): r for r in records})
    metadata[METADATA_KEY] = list(merged.values())


def settle_unfinished(run: AutoRun) -> None:
    """At the run's end: each auto spec that ran here but was left before a verdict
    says how far it got, and why it went no further."""
    records: dict[str, SpecRecord] = run.progress.auto
    for record in records.values():
        if record.verdict is None and record.here:
            _settle(run, record, undecided(record.series, record.ok, record.ran,
                                           record.auto.max_iterations, _why(run, record)))


def _why(run: AutoRun, record: SpecRecord) -> str:
    progress = run.progress
    if progress.stopped is not None:
        return f"the run stopped ({progress.stopped})"
    if spec_key(record.spec) in progress.spec_failures:
        return "an iteration failed to set up, so the others were skipped"
    if run.interrupted:
        return "the run was interrupted"
    if run.role.shares_jobs:
        return "the pool's other devices ran the other iterations"
    return "the other iterations were not selected to run"
