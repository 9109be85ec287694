"""``sysfs_extractor``: files under given paths, before and after the workload, and a diff.

WA3 copies the paths into a tmpfs it mounts on the device, tars it and
pulls the tarball (or pulls each path with adb when it does not use tmpfs):
several round trips and a mount per job. Here each side is one command that
prints every file (``sysfs_trees.snapshot_command``), so nothing is mounted,
copied or left on the device. The job's directory has WA3's ``before/``,
``after/`` and ``diff/`` trees, each file under its device path.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from ..model.errors import ConfigError, InstrumentError, TargetError
from ..model.parameters import Parameter, boolean, list_of_strings, string
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .jobfiles import READ_TIMEOUT, after_target, gives_root, glob_word
from .sysfs_trees import (
    artifact_root,
    local_path,
    parse_snapshot,
    snapshot_command,
    write_diff,
    write_tree,
)

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

STAGES = ("before", "after", "diff")


class SysfsExtractor(Instrument):
    name = "sysfs_extractor"
    description = """
    Given sysfs/procfs files before and after the workload, and their diff.

    Reads every file under the given paths before and after the workload runs (one
    command each side) and keeps them in the job's directory under their device path,
    in before/, after/ and diff/ (numbers that changed become the difference).
    """
    parameters = (
        Parameter("paths", list_of_strings, mandatory=True, description=(
            "Files and directories to read (globs allowed).")),
        Parameter("use_tmpfs", boolean, None, description=(
            "WA3 copied through a tmpfs on the device, as root. Nothing is mounted here: "
            "true reads the files as root (refused where the device gives no root), false "
            "as the connecting user; by default as root when the device allows it.")),
        Parameter("tmpfs_mount_point", string, None, description=(
            "Accepted for WA3's agendas; nothing is mounted, so it is not used.")),
        Parameter("tmpfs_size", string, "32m", description=(
            "Accepted for WA3's agendas; nothing is mounted, so it is not used.")),
        OPTIONAL,
    )
    priority = Priority.SLOW

    paths: list[str]
    use_tmpfs: bool | None

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.as_root = False
        self.command = ""

    def check(self, target: Target) -> None:
        if not getattr(self, "paths", None):  # an agenda that enables it without config
            raise ConfigError("instrument 'sysfs_extractor': paths is mandatory (e.g. "
                              "config: {sysfs_extractor: {paths: [/sys/devices/system/cpu]}})")
        if self.use_tmpfs is False:
            self.as_root = False
        elif gives_root(target):
            self.as_root = True
        elif self.use_tmpfs:
            raise InstrumentUnavailable("use_tmpfs: true reads the files as root, and "
                                        "commands cannot run as root on this device (set "
                                        "use_tmpfs: false to read them as the connecting user)")
        words = " ".join(glob_word(path) for path in self.paths)
        try:
            result = target.execute(f"for p in {words}; do [ -e \"$p\" ] || echo \"$p\"; done",
                                    timeout=READ_TIMEOUT, as_root=self.as_root)
        except TargetError as exc:
            raise InstrumentUnavailable(f"cannot look for the paths: {exc}") from None
        missing = result.stdout.splitlines()
        if missing or not result.ok:
            raise InstrumentUnavailable(f"no such path: {', '.join(missing) or words}")
        self.command = snapshot_command(self.paths)

    def _snapshot(self, target: Target) -> dict[str, str | None]:
        # grep's exit status is not 0 when one file could not be read: the output says
        result = target.execute(self.command, timeout=READ_TIMEOUT, as_root=self.as_root)
        return parse_snapshot(result.stdout, result.stderr)

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        before = self._snapshot(job.target)
        try:
            return (yield)
        finally:
            self._record(job, before)

    def _record(self, job: JobContext, before: dict[str, str | None]) -> None:
        if job.output_directory is None:
            raise RuntimeError(f"{job.name} has no output directory")
        after = self._snapshot(after_target(job))
        root = job.output_directory
        write_tree(root / "before", before)
        write_tree(root / "after", after)
        write_diff(root / "diff", before, after)
        empty = []
        for path in self.paths:
            device_root = artifact_root(path)
            for stage in STAGES:
                local = local_path(root / stage, device_root)
                if local.exists():
                    job.add_artifact(f"{path} [{stage}]", local, "data",
                                     classifiers={"stage": stage})
                elif stage != "diff":
                    empty.append(f"{path} ({stage})")
        if empty:
            raise InstrumentError(f"sysfs_extractor: nothing could be read at "
                                  f"{', '.join(empty)}")
