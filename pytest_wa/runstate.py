"""Per-session state in ``config.stash``: the run, the seed, the status tally.

Nothing here is created until an agenda item or a ``wa_*`` fixture asks for
it, which is what keeps the plugin inert in an ordinary test suite.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import pytest

from .run import RunContext

RUN_KEY = pytest.StashKey[RunContext]()
SEED_KEY = pytest.StashKey[int]()
TALLY_KEY = pytest.StashKey["Tally"]()
NOTES_KEY = pytest.StashKey[list[str]]()


@dataclass
class JobRecord:
    """What the terminal summary needs of one finished job."""

    job: str
    status: str
    metrics: list[tuple[str, float | str, str]] = field(default_factory=list)


@dataclass
class Tally:
    """Final statuses as reported (works on the xdist controller too)."""

    records: dict[str, JobRecord] = field(default_factory=dict)

    def counts(self) -> Counter[str]:
        return Counter(record.status for record in self.records.values())


def get_run(config: pytest.Config) -> RunContext:
    """The session's RunContext, created on first use (no target until ``start``).

    A pool's xdist worker runs on the device the controller gave it.
    """
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        device = getattr(config, "workerinput", {}).get("wa_device")
        run = RunContext(config, device or config.getoption("wa_device") or "local")
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
    """The random-order seed: --wa-seed, else the controller's, else a new one."""
    seed = config.stash.get(SEED_KEY, None)
    if seed is None:
        given = config.getoption("wa_seed")
        worker_input = getattr(config, "workerinput", None)
        if given is not None:
            seed = int(given)
        elif worker_input and "wa_seed" in worker_input:
            seed = int(worker_input["wa_seed"])
        else:
            seed = random.randrange(2**32)
        config.stash[SEED_KEY] = seed
    return seed
