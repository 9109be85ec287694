"""The few shell commands runtime parameters need: probe the device, read many files at once.

A round trip to a device costs milliseconds (adb, SSH), and a phone has
dozens of cpufreq and cpuidle files: every read here is one command for all
the files, never one command per file.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..model.errors import TargetError
from .facts import CPU_ROOT, CPUINFO, DeviceFacts, build_facts, parse_cpu_tree

if TYPE_CHECKING:
    from ..targets.protocols import Target

_CPUFREQ_FILES = ("related_cpus", "scaling_available_governors",
                  "scaling_available_frequencies", "cpuinfo_min_freq", "cpuinfo_max_freq")
_SEPARATOR = "\x1e"  # ASCII record separator: never in a path or a sysfs value
TIMEOUT = 60.0


def probe_command(cpu_root: str = CPU_ROOT, cpuinfo: str = CPUINFO) -> str:
    """One command printing ``path:line`` for every file facts.py needs.

    Globs that match nothing stay unexpanded and ``grep -s`` skips them, so
    a device without cpufreq or cpuidle simply prints less.
    """
    patterns = ["present", "online", "cpu[0-9]*/online", "cpu[0-9]*/cpuidle/state[0-9]*/name"]
    for name in _CPUFREQ_FILES:
        patterns += [f"cpu[0-9]*/cpufreq/{name}", f"cpufreq/policy[0-9]*/{name}"]
    return (f"cd {shlex.quote(cpu_root)} 2>/dev/null && grep -sH . {' '.join(patterns)}; "
            f"grep -sH . {shlex.quote(cpuinfo)}; true")


def probe_device(target: Target, device: str, *, cpu_root: str = CPU_ROOT,
                 cpuinfo: str = CPUINFO) -> DeviceFacts:
    """Read the device's CPUs (one command, as the ordinary user)."""
    output = target.execute(probe_command(cpu_root, cpuinfo), timeout=TIMEOUT).stdout
    files, cpuinfo_text = parse_cpu_tree(output, cpuinfo)
    kind = str(getattr(target, "kind", ""))
    return build_facts(device, kind, files, cpuinfo_text, cpu_root)


def with_root_check(target: Target, facts: DeviceFacts, paths: Iterable[str]) -> DeviceFacts:
    """Whether commands run as root, and which of ``paths`` are missing (one command, as root).

    Existence is checked as root because debugfs and some /proc files are
    invisible to other users; a device without root cannot have them written
    anyway. The directory of a missing file is listed, for did-you-mean hints.
    """
    checks = "".join(f" {shlex.quote(path)}" for path in paths)
    command = "id -u"
    if checks:
        command += (f"; for p in{checks}; do [ -e \"$p\" ] && continue; "
                    f"printf 'missing{_SEPARATOR}%s\\n' \"$p\"; "
                    f"for e in \"${{p%/*}}\"/*; do printf 'entry{_SEPARATOR}%s\\n' \"$e\"; "
                    "done; done")
    try:
        result = target.execute(command, as_root=True, timeout=TIMEOUT)
    except TargetError:
        return dataclasses.replace(facts, root=False)
    lines = result.stdout.split("\n")  # not splitlines(): it splits at \x1e too
    root = bool(lines) and lines[0].strip() == "0"  # su wrappers may mangle exit codes
    if not root:
        return dataclasses.replace(facts, root=False)
    missing: set[str] = set()
    listings: dict[str, list[str]] = {}
    for line in lines:
        what, _, path = line.partition(_SEPARATOR)
        if what == "missing":
            missing.add(path)
        elif what == "entry" and not path.endswith("/*"):
            directory, _, name = path.rpartition("/")
            listings.setdefault(directory, []).append(name)
    return dataclasses.replace(facts, root=True, missing=frozenset(missing),
                               listings={d: tuple(n) for d, n in listings.items()})


def read_files(target: Target, paths: Iterable[str], *, as_root: bool = True
               ) -> dict[str, str | None]:
    """The stripped content of each file, None where it cannot be read; one command.

    As root by default: the values read are the ones to restore, and only
    root could write them.
    """
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return {}
    quoted = " ".join(shlex.quote(path) for path in wanted)
    command = (f"for p in {quoted}; do if v=$(cat \"$p\" 2>/dev/null); then "
               f"printf '{_SEPARATOR}%s\\n%s\\n' \"$p\" \"$v\"; fi; done")
    output = target.execute(command, as_root=as_root, timeout=TIMEOUT, check=True).stdout
    values: dict[str, str | None] = dict.fromkeys(wanted)
    for record in output.split(_SEPARATOR)[1:]:
        path, _, value = record.partition("\n")
        if path in values:
            values[path] = value.strip()
    return values
