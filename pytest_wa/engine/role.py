"""The part this process plays in a run: the whole run, or one worker of a pool.

pytest-xdist is known only to ``pool/``: on a worker it reads ``workerinput``
once and stores a ``RunRole`` in ``config.stash[ROLE_KEY]``. Everything below
(the run, its output, its recovery) asks the role, never xdist.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class RunRole:
    """What a process does in the run; the default is a run of its own."""

    #: The device this process runs on, when someone else chose it (a pool's worker).
    device: str | None = None
    #: A worker's id (``gw0``...): its log is ``run-<worker>.log``; None outside xdist.
    worker: str | None = None
    #: Whether other devices take over this one's jobs when it is lost (a pool, not a
    #: matrix); then a lost device ends this process instead of skipping jobs.
    shares_jobs: bool = False
    #: The devices of the pool this process is part of (empty outside a pool).
    pool: tuple[str, ...] = ()
    #: The random-order seed every process of the run uses (None: choose one).
    seed: int | None = None

    @property
    def owns_run_files(self) -> bool:
        """Whether this process writes the run-level files (not a worker: its controller does)."""
        return self.worker is None


ROLE_KEY = pytest.StashKey[RunRole]()


def run_role(config: pytest.Config) -> RunRole:
    """This process's role (a run of its own unless ``pool/`` said otherwise)."""
    return config.stash.get(ROLE_KEY, None) or RunRole()
