"""Per-session state in ``config.stash``: the run, the seed, the status tally.

Nothing here is created until an agenda item or a ``wa_*`` fixture asks for
it, which is what keeps the plugin inert in an ordinary test suite.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..engine.role import run_role

if TYPE_CHECKING:
    from ..engine.run import RunContext

RUN_KEY = pytest.StashKey["RunContext"]()
SEED_KEY = pytest.StashKey[int]()
TALLY_KEY = pytest.StashKey["Tally"]()
NOTES_KEY = pytest.StashKey[list[str]]()
#: A pool controller's shared run directory (set by run_files.open_shared_run).
SHARED_DIRECTORY_KEY = pytest.StashKey[Path]()


@dataclass
class JobRecord:
    """What the terminal summary needs of one finished job."""

    job: str
    status: str
    metrics: list[tuple[str, float | str, str]] = field(default_factory=list)
    device: str = ""
    #: Seconds the job's test took (setup, call and teardown: the device was busy).
    seconds: float = 0.0


@dataclass
class Tally:
    """Final statuses as reported (works on the xdist controller too)."""

    records: dict[str, JobRecord] = field(default_factory=dict)

    def counts(self) -> Counter[str]:
        return Counter(record.status for record in self.records.values())


def get_run(config: pytest.Config) -> RunContext:
    """The session's RunContext, created on first use (no target until ``start``).

    A pool's worker runs on the device its role names (pool/ chose it).
    """
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        from ..engine.run import RunContext

        role = run_role(config)
        run = RunContext(config, role.device or config.getoption("wa_device"), role)
        config.stash[RUN_KEY] = run
    return run


def existing_run(config: pytest.Config) -> RunContext | None:
    return config.stash.get(RUN_KEY, None)


def session_notes(config: pytest.Config) -> list[str]:
    """Notes for the summary besides the run's own (the xdist controller's)."""
    notes = config.stash.get(NOTES_KEY, None)
    if notes is None:
        notes = config.stash[NOTES_KEY] = []
    return notes


def get_tally(config: pytest.Config) -> Tally:
    tally = config.stash.get(TALLY_KEY, None)
    if tally is None:
        tally = config.stash[TALLY_KEY] = Tally()
    return tally


def wa_seed(config: pytest.Config) -> int:
    """The random-order seed: --wa-seed, else the pool controller's, else a new one."""
    seed = config.stash.get(SEED_KEY, None)
    if seed is None:
        given = config.getoption("wa_seed")
        shared = run_role(config).seed
        if given is not None:
            seed = int(given)
        elif shared is not None:
            seed = shared
        else:
            seed = random.randrange(2**32)
        config.stash[SEED_KEY] = seed
    return seed


def start_run(config: pytest.Config) -> RunContext:
    """The started run; a device that cannot be had ends the session with one clear line."""
    from ..model.errors import InputError, TargetError

    run = get_run(config)
    try:
        run.start()
    except (InputError, TargetError) as exc:
        pytest.exit(f"pytest-wa: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    return run
