"""How a pool worker tells its controller what its job is doing: a small file each.

The controller's progress (progress.py) needs each device's job, its stage
(setup, run, extract, teardown) and what the spec's jobs took before. xdist
forwards only a job's start and its setup/call/teardown reports: no stage
finer than "set up", and a report comes after the fact. It has no channel for
a plugin's own events either (the controller's loop stops on an event name it
does not know), and a made-up report would reach every report hook (junit-xml,
the summary). So each worker keeps one file, ``<worker>.json``, in a directory
that the controller names in ``workerinput`` (``PROGRESS_DIR_KEY``), rewritten
at each stage of each job; the controller's progress thread reads them once a
tick. Why this holds up:

- cheap: one write of a few hundred bytes over the file's start at each of a
  job's six stages, some microseconds each, nothing else (writing a new file
  and renaming it over the old one would never be read half-written, but
  ext4 flushes the data to disk at such a rename: 1.6 ms a write, 10 ms a
  job, measured); the controller reads a handful of small files a second;
- hardly ever half-read: a state shorter than the last is padded with
  spaces, and a read that catches a write half-done (a window of
  microseconds a second) almost never parses: the controller keeps that
  worker's previous state until the next read (at worst, a figure shown
  for a second is off);
- a worker that dies leaves its last state behind: the controller stops
  showing that worker when xdist says it is down, and still counts what its
  finished jobs took (``done``) in the times it expects;
- progress is cosmetic: a worker that cannot write (a full disk) stops
  trying, and its jobs run as before; a remote ``--tx`` worker writes on
  its own host, where nobody reads it, so its device is just not shown;
- nothing lands in the run directory (WA3's layout, moved aside by the next
  run): the directory is a temporary one that the first worker to write
  creates (a plain test suite run with ``-n`` creates nothing) and the
  controller deletes at the end.

Times are wall-clock seconds (``time.time``): the controller and its local
workers share one clock.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..session.progress_line import job_title


@dataclass(frozen=True)
class WorkerStatus:
    """One worker's last written state."""

    worker: str
    device: str
    #: The job running (``wk1-dhrystone#2``), or None between jobs.
    job: str | None = None
    spec: str = ""
    stage: str = ""
    #: When the job started (``time.time()``).
    started: float = 0.0
    #: Each spec's finished jobs on this worker: (how many, seconds in all).
    done: dict[str, tuple[int, float]] = field(default_factory=dict)


class StatusReader:
    """The controller's reader of the workers' files in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.last: dict[str, WorkerStatus] = {}  # file name: its last state that parsed

    def read(self) -> list[WorkerStatus]:
        """Every worker's state (none before a worker wrote), in file name order."""
        try:
            paths = sorted(self.directory.glob("*.json"))
        except OSError:
            paths = []
        for path in paths:
            status = _parse(path)
            if status is not None:
                self.last[path.name] = status
        return [self.last[name] for name in sorted(self.last)]


def _parse(path: Path) -> WorkerStatus | None:
    try:
        data = json.loads(path.read_bytes())
        done = {str(k): (int(n), float(s)) for k, (n, s) in data.pop("done").items()}
        return WorkerStatus(**data, done=done)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # caught half-written: the last state stands


class StatusWriter:
    """Registered on a pool worker when its controller shows progress (worker.py)."""

    def __init__(self, directory: Path, worker: str, device: str) -> None:
        self.path: Path | None = directory / f"{worker}.json"
        self.state: dict[str, Any] = {"worker": worker, "device": device, "job": None,
                                      "spec": "", "stage": "", "started": 0.0, "done": {}}
        self._fd: int | None = None
        self._size = 0

    def _stage(self, stage: str) -> None:
        self.state["stage"] = stage
        self._write()

    def pytest_wa_job_start(self, job: Any) -> None:
        self.state.update(job=job_title(job), spec=job.spec.id, started=time.time())
        self._stage("start")

    def pytest_wa_job_setup(self, job: Any) -> None:
        self._stage("setup")

    def pytest_wa_job_execute(self, job: Any) -> None:
        self._stage("run")

    def pytest_wa_job_extract_results(self, job: Any) -> None:
        self._stage("extract")

    def pytest_wa_job_teardown(self, job: Any) -> None:
        self._stage("teardown")

    def pytest_unconfigure(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def pytest_wa_job_end(self, job: Any) -> None:
        count, seconds = self.state["done"].get(job.spec.id, (0, 0.0))
        self.state["done"][job.spec.id] = (count + 1, seconds + job.duration)
        self.state["job"] = None
        self._stage("")

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            if self._fd is None:
                self.path.parent.mkdir(mode=0o700, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            data = json.dumps(self.state).encode().ljust(self._size)  # covers a longer last
            self._size = len(data)
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, data)
        except OSError:
            self.path = None  # progress is cosmetic: this worker stops telling it
