"""Which results databases a run is stored in, opened before its first job.

``--wa-db`` (or the ``db`` setting) and WA3's ``postgres`` output processor
each name one; each is opened (its schema created or checked) before the
output and the first job, so one that cannot be used stops the run at once,
and each gets a live writer (pytest_wa/store/live.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pytest

from ..agenda.spec import RunSettings
from ..model.errors import ConfigError

if TYPE_CHECKING:
    from ..instruments.availability import PlannedInstrument
    from ..store import Store


class PlannedRun(Protocol):
    config: pytest.Config
    settings: RunSettings
    processor_plan: dict[str, PlannedInstrument]


def database_specs(run: PlannedRun) -> list[tuple[str, str]]:
    """(where it was given, database) for ``--wa-db`` (or the ``db`` setting) and
    WA3's ``postgres`` processor, if an agenda enables it."""
    specs: list[tuple[str, str]] = []
    given = run.config.getoption("wa_db", None)
    if given:
        specs.append(("--wa-db", str(given)))
    elif run.settings.db:
        specs.append(("db setting", run.settings.db))
    planned = run.processor_plan.get("postgres")
    if planned is not None:
        processor = planned.cls(source_directory=planned.source, **planned.values)
        specs.append((f"postgres processor, {planned.location}", processor.conninfo()))
    return specs


def open_databases(run: PlannedRun) -> list[Store]:
    """The run's results databases, open; a ConfigError naming the first that
    cannot be used (the others are closed)."""
    from ..store import StoreError, open_store

    stores: list[Store] = []
    for source, spec in database_specs(run):
        try:
            stores.append(open_store(spec, run.config.invocation_params.dir))
        except StoreError as error:
            for store in stores:
                store.close()
            raise ConfigError(f"results database ({source}): {error}") from None
    return stores


def add_database_writers(plugins: Any, stores: list[Store], output: Any) -> None:
    """A live writer per database: this process's jobs, and the run if it owns it."""
    if not stores:
        return
    from ..store.live import DatabaseWriter

    for number, store in enumerate(stores):
        plugins.add(DatabaseWriter(store, output.directory, output.owns_run_files),
                    f"pytest-wa-database-{number}")
