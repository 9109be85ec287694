"""The run-level files of a pool run, kept by the pytest-xdist controller from test reports.

Workers write their jobs' directories into the one run directory; the
controller, which sees every final report, keeps ``.run_state.json``,
``results.csv``, ``result.json``, ``status.txt`` and ``__meta/run_info.json``.
It learns the plan (every job, for ``.run_state.json`` from the start) from
``__meta/plan.json``, which every worker writes before its first job. A
worker whose device is lost writes nothing of that: it may leave before this
directory is prepared, so the controller records the loss (``<worker>.lost``)
and, if no worker got to a job, writes the plan that worker handed over.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ..engine.autoiter import merge_auto_records
from ..engine.progress import CRASHED, unfinished_status
from ..model.results import Artifact, Event, Metric
from ..model.status import JobStatus
from ..output.atomic import append_record, write_json
from ..output.jobwriter import PLAN_FILE, WORKERS_DIR, write_lost_device, write_plan
from ..output.location import prepare_run_directory
from ..output.pods import encode_status, encode_time, event_pod, result_from_pod
from ..output.textfiles import csv_rows
from ..output.writer import CSV_HEADER, POD, JobEntry, RunWriter
from .state import SHARED_DIRECTORY_KEY


class SharedRun:
    """The controller's view of the run directory all workers write into."""

    def __init__(self, config: pytest.Config, directory: Path) -> None:
        self.config = config
        self.directory = directory
        self.writer = RunWriter(directory)
        self.by_nodeid: dict[str, JobEntry] = {}
        self.notes: list[str] = []
        self.planned_db: str | None = None
        self._crashed: dict[str, str] = {}
        self._earlier_attempts: dict[tuple[str, int], int] = {}  # --wa-resume: per job
        self._before: dict[str, JobStatus] = {}  # --wa-resume: a job's status before it reran

    def open(self) -> None:
        """Move a previous run aside (or refuse a non-run directory), start this one."""
        note = prepare_run_directory(self.directory, force=bool(self.config.getoption("wa_force")))
        if note:
            self.notes.append(note)
        writer = self.writer
        writer.meta.mkdir(parents=True, exist_ok=True)
        (self.directory / WORKERS_DIR).mkdir(exist_ok=True)
        (self.directory / "run.log").touch()
        writer.info = {**POD, "uuid": _uuid(), "run_name": None, "project": None,
                       "project_stage": None, "start_time": encode_time(writer.started),
                       "end_time": None, "duration": None}
        write_json(writer.meta / "run_info.json", writer.info)
        writer.result.artifacts.append(Artifact("runlog", "run.log", "log", "Run log."))
        writer.result.artifacts.append(Artifact("run_result_csv", "results.csv", "export"))
        writer.result.metadata = {"versions": _versions(),
                                  "command_line": list(self.config.invocation_params.args)}
        append_record(self.directory / "results.csv", CSV_HEADER)
        writer.status = JobStatus.RUNNING
        writer.write_state()
        writer.write_result()

    def resume(self) -> None:
        """Continue the run in this directory (``--wa-resume``): its jobs, results and
        uuid are kept, as a single-device resume keeps them (output/writer.py)."""
        from ..output.reader import RunOutput

        previous = RunOutput(self.directory)
        self._set_earlier_worker_files_aside()
        self.writer.resume(previous, jobs=[], specs=[], raw_files=[])
        for entry in self.writer.order:
            ran_before = (self.directory / entry.directory_name).is_dir()
            self._earlier_attempts[(entry.id, entry.iteration)] = entry.retries + ran_before
        self.notes.append(f"resuming the run in {self.directory}")

    def _set_earlier_worker_files_aside(self) -> None:
        """The last session's per-worker files, already merged into result.json, go to
        ``__workers/earlier-N/`` so that they are not merged twice."""
        workers = self.directory / WORKERS_DIR
        files = [path for path in workers.glob("*") if path.is_file()]
        if not files:
            return
        number = 1
        while (workers / f"earlier-{number}").exists():
            number += 1
        aside = workers / f"earlier-{number}"
        aside.mkdir()
        for path in files:
            path.rename(aside / path.name)

    # --- the plan ---

    def _load_plan(self) -> None:
        """Every planned job NEW, once a worker has written the plan."""
        if self.by_nodeid:
            return
        try:
            plan = json.loads((self.writer.meta / PLAN_FILE).read_text())
        except (OSError, ValueError):
            return
        for job in plan["jobs"]:
            entry = self.writer.entry(job["id"], job["label"], int(job["iteration"]))
            self.by_nodeid[job["nodeid"]] = entry
        settings = plan.get("run", {})
        self.planned_db = settings.get("db")
        self.writer.info.update({k: settings.get(k) for k in ("run_name", "project",
                                                              "project_stage")})
        write_json(self.writer.meta / "run_info.json", self.writer.info)
        self.writer.result.metadata.update(plan.get("metadata", {}))
        self.writer.write_state()
        self.writer.write_result()

    # --- reports ---

    def job_running(self, nodeid: str) -> None:
        """A job starts: RUNNING. One that ended in an earlier session (``--wa-resume``)
        runs again: its rows leave ``results.csv`` once its entry says RUNNING (its
        worker puts its earlier directory under ``__failed/``)."""
        self._load_plan()
        entry = self.by_nodeid.get(nodeid)
        if entry is None:
            return
        ran_before = entry.status.is_final
        if ran_before:
            self._before[nodeid] = entry.status  # back if iterations: auto does not need it
        self.writer.record_status(entry, JobStatus.RUNNING)
        if ran_before:
            self.writer.forget_rows(entry)

    def job_reported(self, report: pytest.TestReport) -> None:
        """A job's last report (teardown, or xdist's report of a crashed worker)."""
        self._load_plan()
        entry = self.by_nodeid.get(report.nodeid)
        if entry is None:
            return
        properties = dict(report.user_properties)
        if report.when not in ("teardown", "setup", "call"):  # "???": the worker crashed
            self._worker_crashed(entry, report)
            return
        if report.when == "teardown" and "wa_auto_not_needed" in properties:
            self._not_needed(report.nodeid, entry)
            return
        if report.when != "teardown" or "wa_status" not in properties:
            return
        if "wa_retries" in properties:  # this session's retries, after the earlier attempts
            entry.retries = self._earlier_attempts.get((entry.id, entry.iteration), 0) + \
                int(str(properties["wa_retries"]))
        status = JobStatus.__members__.get(str(properties["wa_status"]), JobStatus.FAILED)
        if status == JobStatus.ABORTED:
            return
        self._settle(entry, status)

    def _not_needed(self, nodeid: str, entry: JobEntry) -> None:
        """An iteration ``iterations: auto`` did not need leaves the job list, unless it
        ran in an earlier session (--wa-resume): that one keeps its recorded status."""
        earlier = self._before.pop(nodeid, None)
        if earlier is not None and (self.directory / entry.directory_name).is_dir():
            self._settle(entry, earlier)
            return
        entry.status = earlier or JobStatus.NEW  # it was not running after all
        self.by_nodeid.pop(nodeid, None)
        self.writer.forget_unrun(entry.id, entry.iteration)

    def _settle(self, entry: JobEntry, status: JobStatus) -> None:
        """A job's final status, events and ``results.csv`` rows, from its result.json."""
        result = _job_result(self.directory / entry.directory_name)
        entry.events = [str(e.get("message")) for e in result.get("events", [])]
        self.writer.record_status(entry, status)
        metrics = [Metric(m["name"], m["value"], m.get("units"), bool(m.get("lower_is_better")),
                          dict(m.get("classifiers") or {})) for m in result.get("metrics", [])]
        rows = csv_rows(entry.id, entry.label, entry.iteration, metrics)
        if rows:
            append_record(self.directory / "results.csv", rows)

    def _worker_crashed(self, entry: JobEntry, report: pytest.TestReport) -> None:
        """The job a crashed worker was running: FAILED, here and in its result.json
        (which the worker left RUNNING)."""
        lines = report.longreprtext.strip().splitlines()
        said = next((line for line in lines if "crashed" in line), lines[-1] if lines else "")
        message = f"worker crashed: {said}"
        entry.events = [*entry.events, message]
        path = self.directory / entry.directory_name / "result.json"
        result = _job_result(path.parent)
        if result:
            result["status"] = encode_status(CRASHED)
            result["events"] = [*result.get("events", []), event_pod(Event(message))]
            write_json(path, result)
        self.writer.record_status(entry, CRASHED)
        self.writer.result.events.append(Event(f"{entry.directory_name}: {message}"))
        self.writer.write_result()

    # --- lost devices ---

    def device_lost(self, worker: str, reason: str, plan: dict[str, Any] | None) -> None:
        """A worker left because its device was lost: ``__workers/<worker>.lost``, and
        the plan it collected if no worker wrote one (every device lost before its
        first job: the jobs are then SKIPPED, not forgotten)."""
        if plan and not (self.writer.meta / PLAN_FILE).exists():
            write_plan(self.directory, **plan)
        write_lost_device(self.directory, worker, reason)

    def unrun_jobs(self) -> int:
        """Jobs SKIPPED so far (after ``finish``: every job that never ran)."""
        return sum(entry.status == JobStatus.SKIPPED for entry in self.writer.order)

    # --- end ---

    def finish(self, interrupted: bool) -> JobStatus:
        """Unrun jobs SKIPPED (ABORTED if they were running), the run's status, status.txt."""
        self._load_plan()
        self._merge_worker_results()
        known = {artifact.name for artifact in self.writer.result.artifacts}
        for path in sorted(self.directory.glob("run-*.log")):
            if path.stem not in known:  # a resumed run lists them already
                self.writer.result.artifacts.append(
                    Artifact(path.stem, path.name, "log", "A pytest-xdist worker's run log."))
        if interrupted:
            self.writer.result.events.append(Event("run interrupted"))
        run_name = self.writer.info.get("run_name")
        status = self.writer.finish(run_name=run_name, settle=unfinished_status)
        self.notes.append(f"results in {self.directory} (run {status.name})")
        self._store()
        return status

    def _store(self) -> None:
        """The whole run into the results database: the workers stored their jobs as
        they ended; the run's own rows and final state are the controller's."""
        spec = self.config.getoption("wa_db", None) or self.planned_db
        if not spec:
            return
        from ..output.reader import RunOutput
        from ..store import StoreError, open_store
        from ..store.transfer import upload

        try:
            with open_store(spec, self.config.invocation_params.dir) as store:
                upload(store, RunOutput(self.directory))
                self.notes.append(f"run stored in {store.where}")
        except StoreError as error:
            self.notes.append(f"results database failed: {error} (python -m pytest_wa db "
                              f"upload {self.directory} stores the run later)")


    def _merge_worker_results(self) -> None:
        """Run-level metrics, artifacts, events and classifiers the workers added."""
        result = self.writer.result
        for path in sorted((self.directory / WORKERS_DIR).glob("*.result.json")):
            try:
                found = result_from_pod(json.loads(path.read_text()))
            except (OSError, ValueError) as exc:
                result.events.append(Event(f"{path.name}: unreadable: {exc}"))
                continue
            result.metrics.extend(found.metrics)
            result.artifacts.extend(found.artifacts)
            result.events.extend(found.events)
            result.classifiers.update(found.classifiers)
            merge_auto_records(result.metadata, found.metadata)


def _job_result(directory: Path) -> dict[str, Any]:
    try:
        result = json.loads((directory / "result.json").read_text())
    except (OSError, ValueError):
        return {}
    return result if isinstance(result, dict) else {}


def _versions() -> dict[str, str]:
    import platform

    from ..engine.output_setup import package_version as _version

    return {"pytest-wa": _version("pytest-wa"), "pytest": _version("pytest"),
            "pytest-xdist": _version("pytest-xdist"), "python": platform.python_version()}


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def open_shared_run(config: pytest.Config) -> SharedRun:
    """The run directory every worker writes into: a new run, or --wa-resume's."""
    from ..engine.output_setup import output_path, resume_path
    from ..model.errors import ConfigError
    from ..output.reader import RunOutputError

    resumed = resume_path(config)
    run = SharedRun(config, resumed or output_path(config))
    config.stash[SHARED_DIRECTORY_KEY] = run.directory
    try:
        if resumed is not None:
            run.resume()
        else:
            run.open()
    except RunOutputError as exc:
        raise pytest.UsageError(f"--wa-resume {resumed}: {exc}") from None
    except ConfigError as exc:
        raise pytest.UsageError(f"pytest-wa: {exc}") from None
    return run
