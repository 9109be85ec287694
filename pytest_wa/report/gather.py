"""What the report says of the run and of each job, read from the finished run directory.

Everything comes from the directory (``output/reader.py``), never from the
process that ran it: a single process, a pool's controller and a resumed run
leave the same files, so they get the same report, and ``python -m pytest_wa
report`` can rebuild it later. Times are seconds from the run's start (the
timeline's axis) plus the start itself, in UTC, for the clock times shown.
Links are relative hrefs from where the report is written, so the report and
the run directory can be moved together (or the report kept inside the run).
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..model.status import SUMMARY_ORDER
from ..output.pods import decode_time

if TYPE_CHECKING:
    from ..output.reader import JobOutput, RunOutput

#: A job's events shown in the jobs table (the first ones; result.json has them all).
EVENTS_SHOWN = 5
EVENT_CHARACTERS = 300


def href_base(run_directory: Path, report: Path) -> str:
    """The run directory as a relative href from the report's folder, ending in ``/``."""
    relative = os.path.relpath(run_directory.absolute(), report.absolute().parent)
    if relative == ".":
        return ""
    return "/".join(quote(part) for part in Path(relative).parts) + "/"


def link(path: str) -> str:
    """A path inside the run directory as an href part (``/`` kept, the rest quoted)."""
    return quote(path.replace(os.sep, "/"))


def _iso(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(datetime.timezone.utc).isoformat()


def _time(value: Any) -> datetime.datetime | None:
    """A job's metadata time; None if absent or not a time (a WA3 run may lack them)."""
    try:
        return decode_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def run_origin(run: RunOutput) -> datetime.datetime | None:
    """Time zero of the timeline: the run's start, else its first job's."""
    if run.run_info.start_time is not None:
        return run.run_info.start_time
    starts = [t for t in (_time(job.metadata.get("start_time")) for job in run.jobs) if t]
    return min(starts) if starts else None


def _target(run: RunOutput) -> dict[str, Any]:
    """The few target facts a reader wants first (target_info.json has them all)."""
    info = run.target_info or {}
    props = info.get("prop")
    props = props if isinstance(props, dict) else {}
    version = info.get("os_version")
    release = version.get("release") if isinstance(version, dict) else version
    model = props.get("ro.product.model") or info.get("model")
    cpus = info.get("cpus")
    facts = {"os": info.get("os"), "os version": release, "model": model,
             "hostname": info.get("hostname"), "kernel": info.get("kernel_release"),
             "abi": info.get("abi"), "cpus": len(cpus) if isinstance(cpus, list) else None}
    return {key: str(value) for key, value in facts.items() if value not in (None, "")}


def _artifacts(artifacts: list[Any], folder: str) -> list[list[str]]:
    """``[name, href part, kind]`` of each artifact, relative to the run directory."""
    prefix = f"{folder}/" if folder else ""
    return [[a.name, link(prefix + a.path), a.kind or ""] for a in artifacts]


def run_summary(run: RunOutput, base: str) -> dict[str, Any]:
    """The run's identity, times, target, versions, events and run-level artifacts."""
    info, metadata = run.run_info, run.metadata
    return {"name": info.run_name or run.path.name, "uuid": info.uuid,
            "project": info.project, "status": run.status.name, "path": str(run.path),
            "base": base, "start": _iso(info.start_time), "end": _iso(info.end_time),
            "duration": info.duration, "target": _target(run),
            "versions": metadata.get("versions") or {},
            "command_line": " ".join(str(a) for a in metadata.get("command_line") or []),
            "agendas": [str(a) for a in metadata.get("agendas") or []],
            "events": [event.message for event in run.events],
            "artifacts": _artifacts(run.artifacts, "")}


def status_counts(run: RunOutput) -> list[list[Any]]:
    """``[status, count]`` in the terminal summary's order, then any other status seen."""
    counts: dict[str, int] = {}
    for job in run.jobs:
        counts[job.status.name] = counts.get(job.status.name, 0) + 1
    ordered = [s.name for s in SUMMARY_ORDER if s.name in counts]
    ordered += sorted(set(counts) - set(ordered))
    return [[name, counts[name]] for name in ordered]


def _device(job: JobOutput, fallback: str) -> str:
    return str(job.metadata.get("device") or fallback)


def default_device(run: RunOutput) -> str:
    """Whom to credit a job without a ``device`` in its metadata (WA3's runs)."""
    return str(run.metadata.get("device") or (run.target_info or {}).get("hostname")
               or "device")


def _offset(moment: datetime.datetime | None, origin: datetime.datetime | None
            ) -> float | None:
    if moment is None or origin is None:
        return None
    return round((moment - origin).total_seconds(), 3)


def _events(job: JobOutput) -> list[str]:
    return [event.message[:EVENT_CHARACTERS] for event in job.events[:EVENTS_SHOWN]]


def _attempts(run: RunOutput, job: JobOutput) -> list[list[Any]]:
    """``[attempt, status, href part]`` of a retried job's earlier attempts (``__failed/``)."""
    if not job.retries:
        return []
    return [[attempt.attempt, attempt.status.name,
             link(os.path.relpath(attempt.path, run.path))]
            for attempt in run.failed_attempts(job)]


def job_rows(run: RunOutput, devices: list[str]) -> list[dict[str, Any]]:
    """One row per job in ``.run_state.json`` order; ``devices`` gets the device names,
    sorted (a row has its device's index)."""
    origin, fallback = run_origin(run), default_device(run)
    names = [_device(job, fallback) for job in run.jobs]
    devices.extend(sorted(set(names)))
    index = {name: number for number, name in enumerate(devices)}
    rows = []
    for job, device in zip(run.jobs, names, strict=True):
        folder = job.name if job.path.is_dir() else ""
        rows.append({"id": job.id, "label": job.label, "it": job.iteration,
                     "status": job.status.name, "dev": index[device],
                     "t0": _offset(_time(job.metadata.get("start_time")), origin),
                     "t1": _offset(_time(job.metadata.get("end_time")), origin),
                     "retries": job.retries, "dir": link(folder) if folder else "",
                     "art": _artifacts(job.artifacts, job.name) if folder else [],
                     "att": _attempts(run, job), "ev": _events(job)})
    return rows
