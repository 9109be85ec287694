"""WA3's JSON encodings ("pods"), both directions, as small pure functions.

WA3 3.3.1 serialises every object as a dict whose first two keys are
``_pod_version`` and ``_pod_serialization_version`` (1/1 for everything we
write, except Artifact 2/2 and TargetInfo 5/5), statuses as ``"NAME(value)"``
and datetimes as ``"DATET:" + naive UTC isoformat``. The writer uses the
``*_pod`` functions, the reader the ``*_from_pod`` and ``decode_*`` ones, so
both agree by construction. Keys are built in WA3's order (``wa show`` and
diff-minded humans see the same files WA3 writes).
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..model.results import ARTIFACT_KINDS, Artifact, Event, Metric, checked_number
from ..model.status import JobStatus

#: Pod versions WA3 3.3.1 writes and expects (see the format reference, section 2).
POD_VERSION = 1
ARTIFACT_POD_VERSION = 2
TARGET_INFO_POD_VERSION = 5

TIME_PREFIX = "DATET:"

_STATUS_RE = re.compile(r"^\s*([A-Za-z_]\w*)?\s*(?:\((-?\d+)\))?\s*$")
_FRACTION_RE = re.compile(r"(\d{2}:\d{2}:\d{2})\.(\d+)")


def pod_header(version: int = POD_VERSION) -> dict[str, Any]:
    """The two keys every WA3 object starts with."""
    return {"_pod_version": version, "_pod_serialization_version": version}


# --- statuses ---------------------------------------------------------------

def wa3_value(status: JobStatus) -> int:
    """The number WA3 sees for ``status``: NONCRITICAL counts as OK (7).

    WA3 has no NONCRITICAL (only teardown failed: the measurement is good), and
    its reader ignores the NAME and matches on the number.
    """
    return int(JobStatus.OK) if status is JobStatus.NONCRITICAL else int(status)


def encode_status(status: JobStatus) -> str:
    """``"NAME(value)"`` as WA3 writes it; NONCRITICAL is ``"NONCRITICAL(7)"``.

    WA3's ``Status.from_pod`` ignores the name and looks the number up among its
    own values 0-11: ``NONCRITICAL(12)`` would make ``.run_state.json`` unreadable
    and make WA3 drop the whole ``result.json`` it appears in. Written with 7,
    WA3 reads the job as OK (what it is for WA3), and our reader keeps the name.
    """
    return f"{status.name}({wa3_value(status)})"


def decode_status(text: str) -> JobStatus:
    """The status in ``"NAME(value)"``: by NAME if we know it, else by WA3's value.

    The name wins so that ``NONCRITICAL(7)`` stays NONCRITICAL; an unknown name
    (WA3 itself ignores names) falls back to the number, like WA3 does.
    """
    match = _STATUS_RE.match(text) if isinstance(text, str) else None
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(f"not a status (expected NAME(value)): {text!r}")
    name, value = match.group(1), match.group(2)
    if name and name.upper() in JobStatus.__members__:
        return JobStatus[name.upper()]
    if value is not None and 0 <= int(value) <= int(JobStatus.SKIPPED):
        return JobStatus(int(value))
    raise ValueError(f"unknown status {text!r}")


# --- times ------------------------------------------------------------------

def encode_time(moment: datetime.datetime | None) -> str | None:
    """``"DATET:" + naive UTC isoformat``, as WA3 writes (``datetime.utcnow()``).

    Aware datetimes are converted to UTC first; naive ones are taken as UTC.
    No offset is written: ``wa report`` subtracts the start time from a naive
    ``utcnow()`` and would fail on an aware one.
    """
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return TIME_PREFIX + moment.isoformat()


def decode_time(text: str | None) -> datetime.datetime | None:
    """An aware UTC datetime from ``DATET:...`` or plain ISO-8601, offset or not.

    Naive times are UTC (WA3 writes ``utcnow()``). ``Z`` and fractions of any
    length are accepted here because ``fromisoformat`` takes neither before 3.11.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"not a time: {text!r}")
    iso = text[len(TIME_PREFIX):] if text.startswith(TIME_PREFIX) else text
    iso = iso.strip()
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    iso = _FRACTION_RE.sub(lambda m: f"{m.group(1)}.{m.group(2)[:6].ljust(6, '0')}", iso)
    try:
        moment = datetime.datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"not an ISO-8601 time: {text!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


# --- metrics, artifacts, events ----------------------------------------------

def metric_pod(metric: Metric) -> dict[str, Any]:
    """A Metric as WA3 writes it; ValueError if its value is not a number (NaN is)."""
    return {**pod_header(), "name": metric.name,
            "value": checked_number(metric.name, metric.value),
            "units": metric.units, "lower_is_better": bool(metric.lower_is_better),
            "classifiers": dict(metric.classifiers)}


def artifact_pod(artifact: Artifact) -> dict[str, Any]:
    """An Artifact as WA3 writes it (pod version 2); ValueError for a kind WA3 refuses."""
    if artifact.kind not in ARTIFACT_KINDS:
        raise ValueError(f"artifact {artifact.name!r}: kind {artifact.kind!r} is not one of "
                         f"{', '.join(ARTIFACT_KINDS)}")
    return {**pod_header(ARTIFACT_POD_VERSION), "name": artifact.name,
            "path": str(artifact.path).replace("\\", "/"), "kind": artifact.kind,
            "description": artifact.description, "classifiers": dict(artifact.classifiers),
            "is_dir": bool(artifact.is_dir)}


def event_pod(event: Event) -> dict[str, Any]:
    """An Event as WA3 writes it."""
    return {**pod_header(), "timestamp": encode_time(event.timestamp),
            "message": str(event.message)}


def _require(pod: Any, what: str, *keys: str) -> dict[str, Any]:
    if not isinstance(pod, dict):
        raise ValueError(f"{what} must be an object, not {type(pod).__name__}")
    missing = [key for key in keys if key not in pod]
    if missing:
        raise ValueError(f"{what} is missing {', '.join(repr(k) for k in missing)}")
    return pod


def _decode_number(value: Any) -> int | float:
    """A metric value as read: a number, or a numeric string (WA3's ``numeric()``)."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"metric value is not a number: {value!r}") from None
        finite_int = math.isfinite(number) and number == int(number)
        return int(number) if finite_int else number
    return checked_number("value", value)


def metric_from_pod(pod: Any) -> Metric:
    """A Metric from its pod; ValueError for a missing name or a non-numeric value."""
    pod = _require(pod, "metric", "name", "value")
    try:
        value = _decode_number(pod["value"])
    except ValueError as error:
        raise ValueError(f"metric {pod['name']!r}: {error}") from None
    return Metric(name=str(pod["name"]), value=value, units=pod.get("units"),
                  lower_is_better=bool(pod.get("lower_is_better", False)),
                  classifiers=dict(pod.get("classifiers") or {}))


def artifact_from_pod(pod: Any) -> Artifact:
    """An Artifact from its pod (``is_dir`` absent in version 1 means False)."""
    pod = _require(pod, "artifact", "name", "path", "kind")
    if pod["kind"] not in ARTIFACT_KINDS:
        raise ValueError(f"artifact {pod['name']!r}: unknown kind {pod['kind']!r}")
    return Artifact(name=str(pod["name"]), path=str(pod["path"]), kind=pod["kind"],
                    description=pod.get("description"),
                    classifiers=dict(pod.get("classifiers") or {}),
                    is_dir=bool(pod.get("is_dir", False)))


def event_from_pod(pod: Any) -> Event:
    """An Event from its pod. WA3 allows a null timestamp; it stays None here."""
    pod = _require(pod, "event", "message")
    timestamp = decode_time(pod.get("timestamp"))
    if timestamp is None:
        event = Event(message=str(pod["message"]))
        event.timestamp = None
        return event
    return Event(message=str(pod["message"]), timestamp=timestamp)


def job_directory_name(job_id: str, label: str, iteration: int) -> str:
    """WA3's name for a job's directory; its reader rebuilds it from the state entry."""
    return f"{job_id}-{label}-{iteration}"


# --- results ----------------------------------------------------------------

@dataclass
class ResultData:
    """The decoded contents of a ``result.json`` (run or job level)."""

    status: JobStatus
    metrics: list[Metric] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    classifiers: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


def result_pod(status: JobStatus, metrics: list[Metric], artifacts: list[Artifact],
               events: list[Event], classifiers: dict[str, Any],
               metadata: dict[str, Any]) -> dict[str, Any]:
    """A ``result.json`` as WA3 writes it; ValueError if a metric or artifact is invalid."""
    return {**pod_header(), "status": encode_status(status),
            "metrics": [metric_pod(m) for m in metrics],
            "artifacts": [artifact_pod(a) for a in artifacts],
            "events": [event_pod(e) for e in events],
            "classifiers": dict(classifiers), "metadata": dict(metadata)}


def _list(pod: dict[str, Any], key: str) -> list[Any]:
    if not isinstance(pod[key], list):
        raise ValueError(f"{key!r} must be a list, not {type(pod[key]).__name__}")
    return pod[key]


def _dict(pod: dict[str, Any], key: str) -> dict[str, Any]:
    value = pod.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"{key!r} must be an object, not {type(value).__name__}")
    return dict(value)


def result_from_pod(pod: Any) -> ResultData:
    """A ``result.json``'s contents; ValueError (with the reason) if any part is invalid.

    All or nothing, as in WA3: callers turn the error into an event.
    """
    pod = _require(pod, "result", "status", "metrics", "artifacts", "events")
    return ResultData(status=decode_status(pod["status"]),
                      metrics=[metric_from_pod(m) for m in _list(pod, "metrics")],
                      artifacts=[artifact_from_pod(a) for a in _list(pod, "artifacts")],
                      events=[event_from_pod(e) for e in _list(pod, "events")],
                      classifiers=_dict(pod, "classifiers"), metadata=_dict(pod, "metadata"))
