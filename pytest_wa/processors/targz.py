"""``targz``: the run directory as one .tar.gz when the run ends (WA3's processor).

The archive is made last (after every other processor's run output), written
beside its final name and renamed into place, so a half-written archive is
never left where the finished one would be. The run directory is deleted
only when ``delete_output`` asks for it, only once the archive exists, and
only after the output is closed (``finalize``): a failed archive leaves the
directory as it was.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..model.parameters import Parameter, boolean, string
from ..model.runlog import RUN_LOGGER
from .base import OutputProcessor

if TYPE_CHECKING:
    from ..plugins.context import RunView


class Targz(OutputProcessor):
    name = "targz"
    description = """
    Archives the run directory as a .tar.gz when the run ends.

    By default the archive is beside the run directory, with its name and .tar.gz.
    """
    parameters = [
        Parameter("outfile", string, None, description=(
            "The archive's path; relative paths are from the directory pytest was started "
            "in, and their directories must exist. It may name fields of the run's info "
            "({run_name}, {uuid}, {start_time}...). Default: the run directory's path "
            "with .tar.gz.")),
        Parameter("delete_output", boolean, False, aliases=("delete-output",), description=(
            "Delete the run directory once the archive is written (never when writing "
            "it failed).")),
    ]

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.archive: Path | None = None  # set once the archive is complete
        self.directory: Path | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_wa_run_output(self, run: RunView) -> None:
        writer = run.output
        assert writer is not None
        if not writer.owns_run_files:
            return
        self.directory = writer.directory
        path = archive_path(self.values.get("outfile"), writer.directory, writer.info,
                            run.config.invocation_params.dir)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            with tarfile.open(partial, "w:gz") as tar:
                tar.add(writer.directory, arcname=writer.directory.name)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        self.archive = path
        RUN_LOGGER.info("Run directory archived as %s", path)
        run.notes.append(f"run directory archived as {path}")

    def finalize(self) -> None:
        """Delete the run directory, if asked, now that nothing writes to it."""
        if self.values.get("delete_output") and self.archive is not None \
                and self.archive.exists() and self.directory is not None:
            shutil.rmtree(self.directory)


def archive_path(outfile: str | None, directory: Path, info: dict[str, Any],
                 invoked: Path) -> Path:
    """Where the archive goes: ``outfile`` with the run's info formatted in, from
    the directory pytest was started in, else beside the run directory."""
    if not outfile:
        return directory.with_name(directory.name + ".tar.gz")
    path = Path(outfile.format(**{k: ("" if v is None else v) for k, v in info.items()}))
    return path if path.is_absolute() else invoked / path
