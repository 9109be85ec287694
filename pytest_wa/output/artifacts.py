"""Artifacts are files inside their job's (or run's) directory, and nowhere else.

A path that escapes the directory (``..``, an absolute path elsewhere, or a
symlink that leads out) is refused: the output directory must be complete and
self-contained when it is copied, archived or read by another machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..model.errors import WAError
from ..model.results import ARTIFACT_KINDS, Artifact


class ArtifactError(WAError):
    """An artifact was declared with a bad path or kind."""


def make_artifact(base: Path, name: str, path: str | os.PathLike[str], kind: str = "data",
                  description: str | None = None,
                  classifiers: dict[str, Any] | None = None) -> Artifact:
    """An Artifact whose path is relative to ``base``; refuses anything that escapes it."""
    if kind not in ARTIFACT_KINDS:
        raise ArtifactError(f"artifact {name!r}: kind must be one of "
                            f"{', '.join(ARTIFACT_KINDS)}, got {kind!r}")
    root = base.resolve()
    full = (base / path).resolve()  # follows symlinks, so a link out is caught too
    if full != root and root not in full.parents:
        raise ArtifactError(f"artifact {name!r}: {path} is outside {base}; artifacts must "
                            "be inside the job's (or run's) output directory")
    if not full.exists():
        raise ArtifactError(f"artifact {name!r}: {full} does not exist")
    relative = full.relative_to(root).as_posix() or "."
    return Artifact(name, relative, kind, description, dict(classifiers or {}),
                    is_dir=full.is_dir())
