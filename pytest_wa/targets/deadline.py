"""A per-job time limit (``job_timeout``), enforced through the target.

A workload that hangs keeps a command running on the device; the only thing
that can stop it there is the target, which kills a command's whole process
group when the command's own timeout expires. So while a job's setup,
execution and result extraction run, ``job.target`` is this wrapper: it cuts
every call's timeout down to the time the job has left, and a call that hits
the job's limit raises ``JobTimeoutError`` (its command killed on the target).
Teardown runs without the limit, so a job that timed out still cleans up.
Pure-Python work that never calls the target cannot be stopped this way.
"""

from __future__ import annotations

import time
from typing import Any

from ..model.errors import CommandTimeoutError


class JobTimeoutError(CommandTimeoutError):
    """The job ran past ``job_timeout``; the command in flight was killed on the target."""

    def __init__(self, job_timeout: float, command: str = "", output: str = "") -> None:
        self.command = command
        self.timeout = job_timeout
        self.output = output
        what = f"; the command was killed: {command}" if command else ""
        Exception.__init__(self, f"the job ran past its job_timeout of {job_timeout:g} s{what}")


class DeadlineTarget:
    """``target`` with every timeout cut down to what the job has left."""

    def __init__(self, target: Any, deadline: float, job_timeout: float) -> None:
        self._target = target
        self._deadline = deadline
        self._job_timeout = job_timeout

    def __getattr__(self, name: str) -> Any:  # everything else is the target's
        return getattr(self._target, name)

    def __repr__(self) -> str:
        return f"<{self._target!r} within job_timeout {self._job_timeout:g} s>"

    def _limit(self, timeout: float | None, what: str) -> tuple[float, bool]:
        """The timeout to use, and whether it is the job's limit rather than the call's."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise JobTimeoutError(self._job_timeout, what)
        if timeout is None or left < timeout:
            return left, True
        return timeout, False

    def execute(self, command: str, *, timeout: float | None = None, **kwargs: Any) -> Any:
        from .base import DEFAULT_TIMEOUT

        limit, is_job_limit = self._limit(timeout if timeout is not None else DEFAULT_TIMEOUT,
                                          command)
        try:
            return self._target.execute(command, timeout=limit, **kwargs)
        except CommandTimeoutError as exc:
            if is_job_limit:
                raise JobTimeoutError(self._job_timeout, command, exc.output) from None
            raise

    def _transfer(self, method: str, source: str, destination: str,
                  timeout: float | None) -> None:
        from .base import DEFAULT_TIMEOUT

        what = f"{method} {source} {destination}"
        limit, is_job_limit = self._limit(timeout if timeout is not None else DEFAULT_TIMEOUT,
                                          what)
        try:
            getattr(self._target, method)(source, destination, timeout=limit)
        except CommandTimeoutError:
            if is_job_limit:
                raise JobTimeoutError(self._job_timeout, what) from None
            raise

    def push(self, source: str, destination: str, *, timeout: float | None = None) -> None:
        self._transfer("push", source, destination, timeout)

    def pull(self, source: str, destination: str, *, timeout: float | None = None) -> None:
        self._transfer("pull", source, destination, timeout)
