"""Where a workload's program comes from, and getting it onto the target once per run.

A program (``Tool``) is looked for, in this order:

1. a path the agenda gives (the workload's ``binary`` parameter, on this host);
2. resource directories: ``--wa-resources DIR`` (repeatable), then WA3's user
   dependencies layout ``$WA_USER_DIRECTORY/dependencies/<workload>/bin/<abi>/<name>``,
   so a WA3 user's binaries are found where WA3 finds them;
3. the target's ``PATH`` (``command -v``);
4. what pytest-wa builds itself from its own C sources (``workloads/src/``), with
   this host's C compiler, when the target's ABI is this host's.

A program found on this host is pushed once per run per target, into the
target's executables directory, and reused while its SHA-256 matches (the
local target runs it where it is). Nothing is downloaded. When nothing has
it, the error says which workload and device, where pytest-wa looked, and
what to install.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..agenda.userconfig import user_directory
from ..model.errors import WorkloadError
from ..model.runlog import RUN_LOGGER
from ..targets.linux_facts import abi_of
from ..targets.protocols import ExecutablesDirectory

if TYPE_CHECKING:
    from ..targets.protocols import Target


@dataclass(frozen=True)
class Tool:
    """A program a workload runs on the target."""

    name: str  # the executable's file name
    debian: str | None = None  # the Debian package that has it, for the hint
    source: str | None = None  # a C file under workloads/src/ that pytest-wa can build

    def hint(self) -> str:
        if self.debian:
            return f"install it on the device (Debian: apt-get install {self.debian})"
        return "put it in a --wa-resources directory, or give its path as 'binary'"


@dataclass(frozen=True)
class Found:
    """Where a program is: on this host (to push) or already on the target."""

    path: str
    on_host: bool
    how: str  # what found it, for the run log


#: Per run and target: (tool name, device) -> the program's path on the target.
_INSTALLED = pytest.StashKey[dict[tuple[str, str], str]]()
#: Per run: (tool name, workload, binary) -> where the program was found (or None), so
#: the check before the first job and the install at it look on the device once.
_FOUND = pytest.StashKey[dict[tuple[str, str, str | None], "Found | None"]]()


def resource_directories(config: pytest.Config) -> list[str]:
    """``--wa-resources`` directories (relative to where pytest was started)."""
    base = config.invocation_params.dir
    return [os.path.join(base, os.path.expanduser(d))
            for d in config.getoption("wa_resources", None) or []]


def locate(tool: Tool, workload: str, target: Target, config: pytest.Config,
           binary: str | None = None) -> Found | None:
    """The program ``tool`` for ``workload`` on ``target``, or None; nothing is pushed.
    Looked for once per run (the run's target does not change under it)."""
    found = config.stash.setdefault(_FOUND, {})
    key = (tool.name, workload, binary)
    if key not in found:
        found[key] = _search(tool, workload, target, config, binary)
    return found[key]


def _search(tool: Tool, workload: str, target: Target, config: pytest.Config,
            binary: str | None) -> Found | None:
    if binary:
        path = os.path.expanduser(binary)
        return Found(path, True, "the agenda's binary") if os.path.isfile(path) else None
    abi = abi_of(target.properties.abi or platform.machine())
    for directory in _host_directories(config, workload, abi):
        candidate = os.path.join(directory, tool.name)
        if os.path.isfile(candidate):
            return Found(candidate, True, f"resource directory {directory}")
    on_target = target.execute(f"command -v {shlex.quote(tool.name)}", timeout=30)
    if on_target.ok and on_target.stdout.strip():
        return Found(on_target.stdout.strip().splitlines()[0], False, "the device's PATH")
    return _built(tool, abi)


def _host_directories(config: pytest.Config, workload: str, abi: str) -> list[str]:
    wa3 = os.path.join(user_directory(), "dependencies", workload, "bin", abi)
    return [*(os.path.join(d, abi) for d in resource_directories(config)),
            *resource_directories(config), wa3]


def _built(tool: Tool, abi: str) -> Found | None:
    if tool.source is None or abi != abi_of(platform.machine()):
        return None
    from .build import build_program

    return Found(str(build_program(tool.source, tool.name)), True, "built by pytest-wa")


def where_looked(tool: Tool, workload: str, config: pytest.Config, abi: str) -> str:
    places = [*_host_directories(config, workload, abi), "the device's PATH"]
    if tool.source:
        places.append(f"pytest-wa's own {tool.source} (built only for this host's ABI)")
    return ", ".join(places)


def missing_message(tool: Tool, workload: str, device: str, config: pytest.Config,
                    abi: str, binary: str | None = None) -> str:
    if binary:
        return f"workload {workload!r}: binary {binary!r} is not a file on this host"
    return (f"workload {workload!r} needs {tool.name!r}, which device {device!r} does not "
            f"have: looked in {where_looked(tool, workload, config, abi)}; {tool.hint()}")


def install(tool: Tool, workload: str, target: Target, config: pytest.Config, device: str,
            binary: str | None = None) -> str:
    """The program's path on the target, pushed there if it is on this host (once per run
    and target; again only if its SHA-256 differs from the copy there)."""
    installed = config.stash.setdefault(_INSTALLED, {})
    key = (binary or tool.name, device)
    if key not in installed:
        found = locate(tool, workload, target, config, binary)
        if found is None:
            raise WorkloadError(missing_message(tool, workload, device, config,
                                                abi_of(target.properties.abi), binary))
        installed[key] = _onto_target(found, tool, target)
        RUN_LOGGER.info("%s: %s from %s (%s), run as %s", workload, tool.name, found.path,
                        found.how, installed[key])
    return installed[key]


def _onto_target(found: Found, tool: Tool, target: Target) -> str:
    if not found.on_host or not isinstance(target, ExecutablesDirectory):
        return found.path  # on the target already, or the target is this host
    destination = f"{target.executables_directory}/{tool.name}"
    digest = hashlib.sha256(Path(found.path).read_bytes()).hexdigest()
    there = target.execute(f"sha256sum {shlex.quote(destination)} 2>/dev/null", timeout=60)
    if there.ok and there.stdout.split()[:1] == [digest]:
        RUN_LOGGER.info("%s is on the device already (same sha256): not pushed", destination)
        return destination
    target.push(found.path, destination)
    target.execute(f"chmod 755 {shlex.quote(destination)}", timeout=30, check=True)
    RUN_LOGGER.info("pushed %s to %s (sha256 %s)", found.path, destination, digest[:16])
    return destination
