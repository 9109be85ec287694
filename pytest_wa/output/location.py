"""Where a run's output goes, and what happens to a previous run found there.

pytest users rerun often, so an existing run directory is neither refused (WA3
without ``-f``) nor overwritten: it is moved aside to ``<dir>-<its start
time>`` and the terminal says so. ``--wa-force`` deletes it instead; either
way only a directory that holds a run is ever touched.
"""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

from ..model.errors import ConfigError


def has_run_files(path: Path) -> bool:
    """Either file of a run: lenient on purpose (unlike reader.is_run_directory), so a
    run cut short before both existed is still moved aside, not refused."""
    return (path / ".run_state.json").is_file() or (path / "__meta" / "run_info.json").is_file()


def holds_runs(path: Path) -> bool:
    """A run, or a folder of runs (as earlier versions wrote one per xdist worker)."""
    return has_run_files(path) or any(has_run_files(child) for child in path.iterdir()
                                         if child.is_dir())


def _stamp(path: Path) -> str:
    """The previous run's start time (else the directory's mtime), for its new name."""
    try:
        text = json.loads((path / "__meta" / "run_info.json").read_text())["start_time"]
        started = datetime.datetime.fromisoformat(str(text).removeprefix("DATET:"))
    except (OSError, ValueError, KeyError, TypeError):
        started = datetime.datetime.fromtimestamp(path.stat().st_mtime)
    return started.strftime("%Y%m%d-%H%M%S")


def _aside(path: Path) -> Path:
    base = path.with_name(f"{path.name}-{_stamp(path)}")
    candidate, number = base, 1
    while candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}.{number}")
    return candidate


def prepare_run_directory(path: Path, *, force: bool) -> str | None:
    """Make ``path`` ready for a new run; returns a note for the user, if any."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--wa-output {path} exists and is not a directory")
    note = None
    if path.is_dir() and any(path.iterdir()):
        if not holds_runs(path):
            raise ConfigError(f"--wa-output {path} exists, is not empty and holds no run; "
                              "refusing to touch it (choose another --wa-output)")
        if force:
            shutil.rmtree(path)
            note = f"previous run in {path} deleted (--wa-force)"
        else:
            moved = _aside(path)
            path.rename(moved)
            note = f"previous run in {path} moved to {moved}"
    path.mkdir(parents=True, exist_ok=True)
    return note
