"""sysbench's command line, in the words of the sysbench on the device, and WA3's CPU masks.

sysbench 1.0 renamed its options (``--test=cpu`` became the word ``cpu``,
``--num-threads`` ``--threads``, ``--max-requests`` ``--events``, ``--max-time``
``--time``) and changed the limits' defaults (0.4/0.5 stop after 10000 requests
with no time limit; 1.0 stops after 10 seconds with no request limit). The
version is asked once, and both limits are always given, so that an agenda
means the same run on every sysbench: the limit it names, and no other.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

VERSION = re.compile(r"sysbench (?P<major>\d+)\.(?P<minor>\d+)")


def version_of(text: str) -> tuple[int, int] | None:
    """(major, minor) from ``sysbench --version`` (0.4 prints its banner instead)."""
    found = VERSION.search(text)
    return (int(found["major"]), int(found["minor"])) if found else None


@dataclass(frozen=True)
class Invocation:
    """One sysbench test as the agenda asks for it; ``arguments`` spells it for a version."""

    test: str
    threads: int
    events: int  # 0: no limit
    seconds: int  # 0: no limit
    file_test_mode: str | None
    extra: str  # WA3's cmd_params, passed through the shell as written

    def arguments(self, version: tuple[int, int] | None, step: str) -> str:
        """The arguments for ``step`` (prepare, run, cleanup). An unknown version gets
        the old names, which 1.0 still accepts (with a warning)."""
        if version is not None and version >= (1, 0):
            words = [self.test, f"--threads={self.threads}", f"--events={self.events}",
                     f"--time={self.seconds}"]
        else:
            words = [f"--test={self.test}", f"--num-threads={self.threads}",
                     f"--max-requests={self.events}", f"--max-time={self.seconds}"]
        if self.file_test_mode:
            words.append(f"--file-test-mode={self.file_test_mode}")
        return " ".join([*words, *([self.extra] if self.extra.strip() else []), step])


def command(program: str, directory: str, arguments: str, cpu_mask: int = 0) -> str:
    """sysbench run in ``directory`` (where fileio keeps its files), pinned if asked."""
    pinned = f"taskset {hex(cpu_mask)} " if cpu_mask else ""
    return f"cd {shlex.quote(directory)} && {pinned}{shlex.quote(program)} {arguments}"


