"""The run directory as the run goes, in WA3's layout, never losing a finished job.

``RunWriter`` owns every run-level file. What is written when:

- start: the directory, ``__meta/`` (run_info, config, jobs, target_info,
  raw_config copies), ``run.log``, ``.run_state.json`` (every job NEW),
  ``result.json`` (run RUNNING), the ``results.csv`` header;
- a job starts: its directory and an empty ``result.json`` (as WA3); its state entry
  RUNNING; if it ran before (a retry, ``--wa-resume``), the earlier directory goes
  to ``__failed/`` and, once the entry says RUNNING, the earlier rows leave
  ``results.csv`` (one atomic rewrite), which so lists only final attempts;
- a job ends: its ``result.json``, its state entry, its ``results.csv`` rows;
- the end (also after Ctrl-C): unrun jobs SKIPPED, the run status, end time,
  ``status.txt``.

Whole files are replaced atomically; ``.run_state.json`` entries are kept
pre-encoded so that rewriting it after every job stays cheap for big runs.
"""

from __future__ import annotations

import datetime
import json
import shutil
import textwrap
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.results import Artifact, Event, Metric
from ..model.secrets import masked_text
from ..model.status import JobStatus
from .atomic import append_record, write_atomic, write_json
from .pods import encode_status, encode_time, job_directory_name, result_pod
from .textfiles import csv_rows, status_text, without_job_rows

POD = {"_pod_version": 1, "_pod_serialization_version": 1}
CSV_HEADER = "id,workload,iteration,metric,value,units\r\n"
_ENTRY = textwrap.indent(textwrap.dedent("""\
    {{
        "_pod_version": 1,
        "_pod_serialization_version": 1,
        "id": {id},
        "label": {label},
        "iteration": {iteration},
        "status": {status},
        "retries": {retries},
        "timestamp": {timestamp}
    }}"""), " " * 8)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass
class JobEntry:
    """One (job id, iteration) of the run, as ``.run_state.json`` lists it."""

    id: str
    label: str
    iteration: int
    status: JobStatus = JobStatus.NEW
    retries: int = 0
    timestamp: datetime.datetime = field(default_factory=now)
    encoded: str = ""
    events: list[str] = field(default_factory=list)

    @property
    def directory_name(self) -> str:
        return job_directory_name(self.id, self.label, self.iteration)

    def encode(self) -> None:
        """This entry as it sits in .run_state.json (what json.dumps(indent=4) gives,
        built directly: it is redone at every status change of every job)."""
        self.encoded = _ENTRY.format(
            id=json.dumps(self.id), label=json.dumps(self.label), iteration=self.iteration,
            status=json.dumps(encode_status(self.status)), retries=self.retries,
            timestamp=json.dumps(encode_time(self.timestamp)))


@dataclass
class RunResult:
    """Run-level metrics, artifacts, events and classifiers (the run's result.json)."""

    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    classifiers: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


class RunWriter:
    """Writes one run directory; every method leaves it loadable.

    Under pytest-xdist each worker has a ``JobWriter`` (pytest_wa/pool/worker.py):
    it writes its jobs' directories only, and the controller owns the run-level
    files (``owns_run_files`` False turns them off here).
    """

    owns_run_files = True

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.meta = directory / "__meta"
        self.entries: dict[tuple[str, int], JobEntry] = {}
        self.order: list[JobEntry] = []
        self.result = RunResult()
        self.status = JobStatus.NEW
        self.info: dict[str, Any] = {}
        self.started = now()
        self._state_created = now()
        #: Default files an enabled output processor writes instead (``results.csv``,
        #: ``status.txt``): this writer leaves them alone after ``start``.
        self.replaced: set[str] = set()

    # --- start ---

    def start(self, *, run_name: str | None, project: str | None, project_stage: Any,
              jobs: Iterable[tuple[str, str, int]], specs: list[dict[str, Any]],
              config: dict[str, Any], target_info: dict[str, Any],
              raw_files: Iterable[str], metadata: dict[str, Any]) -> None:
        """Create the directory and every run-level file, all jobs NEW."""
        (self.meta / "raw_config").mkdir(parents=True, exist_ok=True)
        (self.directory / "run.log").touch()
        self.info = {**POD, "uuid": str(uuid.uuid4()), "run_name": run_name,
                     "project": project, "project_stage": project_stage,
                     "start_time": encode_time(self.started), "end_time": None,
                     "duration": None}
        write_json(self.meta / "run_info.json", self.info)
        write_json(self.meta / "config.json", config)
        write_json(self.meta / "jobs.json", {"jobs": specs})
        write_json(self.meta / "target_info.json", target_info)
        self.copy_raw_config(raw_files)
        for job_id, label, iteration in jobs:
            self.entry(job_id, label, iteration)
        self.result.metadata = metadata
        self.result.artifacts.append(Artifact("runlog", "run.log", "log", "Run log."))
        self.result.artifacts.append(Artifact("run_result_csv", "results.csv", "export"))
        write_atomic(self.directory / "results.csv", CSV_HEADER)
        self.status = JobStatus.RUNNING
        self.write_state()
        self.write_result()

    def resume(self, previous: Any, *, jobs: Iterable[tuple[str, str, int]],
               specs: list[dict[str, Any]], raw_files: Iterable[str]) -> None:
        """Continue ``previous`` (a RunOutput of this directory): its jobs, results and
        uuid are kept; jobs run again get a fresh directory, the old one is kept under
        ``__failed/`` as an earlier attempt (WA3 cannot resume; PTS has finish-run)."""
        self.info = json.loads((self.meta / "run_info.json").read_text())
        self.info.update(end_time=None, duration=None)
        if previous.run_info.start_time is not None:
            self.started = previous.run_info.start_time
        self.adopt_jobs(previous.jobs)
        for job_id, label, iteration in jobs:
            self.entry(job_id, label, iteration)
        known = {spec.get("id") for spec in previous.job_specs}
        all_specs = list(previous.job_specs) + [s for s in specs if s["id"] not in known]
        write_json(self.meta / "jobs.json", {"jobs": all_specs})
        self.copy_raw_config(raw_files)
        self.result = RunResult(list(previous.metrics), list(previous.artifacts),
                                list(previous.events), dict(previous.classifiers),
                                dict(previous.metadata))
        self.result.events.append(Event("run resumed"))
        write_json(self.meta / "run_info.json", self.info)
        self.status = JobStatus.RUNNING
        self.write_state()
        self.write_result()
        self._drop_rows("", "")  # the run-level rows, now that the run is RUNNING again:
        # ``finish`` writes every run-level metric (the earlier sessions' too) again

    def adopt_jobs(self, jobs: Iterable[Any]) -> None:
        """Take the jobs of the run being continued (the reader's JobOutputs) with their
        status, retries and events, so that a job run again gets the next attempt number."""
        for job in jobs:
            entry = JobEntry(job.id, job.label, job.iteration, job.status, job.retries,
                             job.timestamp or now(), events=[e.message for e in job.events])
            entry.encode()
            self.entries[(job.id, job.iteration)] = entry
            self.order.append(entry)

    def copy_raw_config(self, files: Iterable[str]) -> None:
        """Copies of the agendas and config files the run read, passwords masked."""
        taken: set[str] = set()
        for index, source in enumerate(files):
            name = Path(source).name
            if name in taken:
                name = f"{index}-{name}"
            taken.add(name)
            target = self.meta / "raw_config" / name
            if not target.exists():  # a resumed run keeps the copies it started with
                text = Path(source).read_text(encoding="utf-8", errors="replace")
                write_atomic(target, masked_text(text))

    def entry(self, job_id: str, label: str, iteration: int) -> JobEntry:
        key = (job_id, iteration)
        entry = self.entries.get(key)
        if entry is None:
            entry = JobEntry(job_id, label, iteration)
            entry.encode()
            self.entries[key] = entry
            self.order.append(entry)
        return entry

    # --- jobs ---

    def job_directory(self, job_id: str, label: str, iteration: int) -> Path:
        return self.directory / job_directory_name(job_id, label, iteration)

    def job_started(self, job_id: str, label: str, iteration: int) -> Path:
        """Mark the job RUNNING and give it a fresh directory with an empty result.json.

        WA3 writes that empty result too: its reader turns a job directory without
        one into an unreadable (UNKNOWN) result, e.g. after a SIGKILL mid-job.
        """
        entry = self.entry(job_id, label, iteration)
        directory = self.directory / entry.directory_name
        ran_before = directory.exists()  # a retry, or a job --wa-resume runs again
        if ran_before:
            self.retire_attempt(entry)
        directory.mkdir(parents=True)
        write_json(directory / "result.json", result_pod(JobStatus.RUNNING, [], [], [], {}, {}))
        self.record_status(entry, JobStatus.RUNNING)
        if ran_before and self.owns_run_files:
            self.forget_rows(entry)
        return directory

    def retire_attempt(self, entry: JobEntry) -> Path:
        """Move the job's current directory to ``__failed/<name>-attemptNN`` (WA3)."""
        entry.retries += 1
        target = self.directory / "__failed" / f"{entry.directory_name}-attempt{entry.retries:02}"
        target.parent.mkdir(exist_ok=True)
        shutil.move(str(self.directory / entry.directory_name), str(target))
        return target

    def forget_rows(self, entry: JobEntry) -> None:
        """Take a job's rows out of ``results.csv``: its last attempt is no longer final.

        Called once the job's entry is no longer final (RUNNING again), so that
        at every moment a finished job has its rows on disk. The file is
        rewritten whole and renamed over the old one, so a crash leaves the
        old file or the new one; it is not rewritten if the job had no rows.
        """
        self._drop_rows(entry.id, entry.iteration)

    def _drop_rows(self, job_id: str, iteration: int | str) -> None:
        path = self.directory / "results.csv"
        try:
            text = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return
        kept = without_job_rows(text, job_id, iteration)
        if kept is not None:
            write_atomic(path, kept)

    def job_finished(self, job_id: str, label: str, iteration: int, status: JobStatus,
                     metrics: list[Metric], artifacts: list[Artifact], events: list[Event],
                     classifiers: dict[str, Any], metadata: dict[str, Any]) -> None:
        """The job's final result.json, state entry and CSV rows."""
        entry = self.entry(job_id, label, iteration)
        directory = self.directory / entry.directory_name
        directory.mkdir(parents=True, exist_ok=True)
        pod = result_pod(status, metrics, artifacts, events, classifiers, metadata)
        write_json(directory / "result.json", pod)
        entry.events = [event.message for event in events]
        self.record_status(entry, status)
        rows = csv_rows(job_id, label, iteration, metrics)
        if rows and self.owns_run_files and "results.csv" not in self.replaced:
            append_record(self.directory / "results.csv", rows)

    def forget_unrun(self, job_id: str, iteration: int | None = None) -> None:
        """Take jobs that never ran (no directory) and never will off the run's job list:
        ``iterations: auto`` did not need them. One that ran in an earlier session of a
        resumed run keeps its entry and status."""
        gone = [entry for entry in self.order
                if entry.id == job_id and iteration in (None, entry.iteration)
                and entry.status != JobStatus.RUNNING
                and not (self.directory / entry.directory_name).exists()]
        for entry in gone:
            del self.entries[(entry.id, entry.iteration)]
        if gone:
            kept = {id(entry) for entry in self.entries.values()}
            self.order = [entry for entry in self.order if id(entry) in kept]
            self.write_state()

    def record_status(self, entry: JobEntry, status: JobStatus) -> None:
        entry.status = status
        entry.timestamp = now()
        entry.encode()
        self.write_state()

    # --- run level ---

    def add_event(self, message: str) -> None:
        self.result.events.append(Event(message))
        self.write_result()

    def set_metadata(self, key: str, value: Any) -> None:
        """One entry of the run result's ``metadata`` (pytest-wa's extras, WA3-readable)."""
        self.result.metadata[key] = value
        self.write_result()

    def write_state(self) -> None:
        if not self.owns_run_files:
            return
        jobs = ",\n".join(entry.encoded for entry in self.order)
        text = ("{\n"
                '    "_pod_version": 1,\n'
                '    "_pod_serialization_version": 1,\n'
                f'    "status": {json.dumps(encode_status(self.status))},\n'
                f'    "timestamp": {json.dumps(encode_time(self._state_created))},\n'
                f'    "jobs": [\n{jobs}\n    ]\n'
                "}")
        write_atomic(self.directory / ".run_state.json", text)

    def write_result(self) -> None:
        if not self.owns_run_files:
            return
        result = self.result
        write_json(self.directory / "result.json", result_pod(
            self.status, result.metrics, result.artifacts, result.events, result.classifiers,
            result.metadata))

    # --- end ---

    def finish(self, *, run_name: str | None,
               settle: Callable[[JobStatus], JobStatus]) -> JobStatus:
        """Close the run: the jobs it closed on get the status ``settle`` gives them (the
        job lifecycle decides it), then the run's status and end time, status.txt."""
        for entry in self.order:
            if not entry.status.is_final:
                entry.status = settle(entry.status)
                entry.timestamp = now()
                entry.encode()
        self.status = overall_status(entry.status for entry in self.order)
        ended = now()
        self.info.update(end_time=encode_time(ended),
                         duration=(ended - self.started).total_seconds())
        write_json(self.meta / "run_info.json", self.info)
        self.write_state()
        self._add_statistics()
        self.write_result()
        for metric in self.result.metrics if "results.csv" not in self.replaced else ():
            append_record(self.directory / "results.csv",
                          csv_rows("", run_name or "", "", [metric]))
        if "status.txt" not in self.replaced:
            write_atomic(self.directory / "status.txt",
                         status_text(run_name, self.status, self.result.events, self.order))
        return self.status


    def _add_statistics(self) -> None:
        """statistics.csv from the jobs' files, as the run's ``statistics`` artifact."""
        from .statistics import FILE, write_statistics

        write_statistics(self.directory)
        if not any(artifact.name == "statistics" for artifact in self.result.artifacts):
            self.result.artifacts.append(Artifact(
                "statistics", FILE, "export",
                "Each metric's statistics over its iterations (docs/statistics.md)."))


def overall_status(statuses: Iterable[JobStatus]) -> JobStatus:
    """WA3's run status: OK if every job passed, PARTIAL if some did, else FAILED."""
    passed = [status.passed for status in statuses]
    if passed and all(passed):
        return JobStatus.OK
    return JobStatus.PARTIAL if any(passed) else JobStatus.FAILED


__all__ = ["JobEntry", "RunWriter", "job_directory_name", "overall_status"]
