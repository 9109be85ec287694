"""Run a program where some paths are empty directories: a device that lacks them.

A board without ``/sys/devices/system/cpu``, a host whose sysfs hides part
of itself: unshare(1) gives the program a mount namespace of its own (private,
so nothing leaks to the host) and an empty tmpfs goes over each path. Every
process the program starts (an sshd's sessions, pytest's commands) inherits
that view; the host keeps its own. Needs root.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

_MOUNT_EACH = ('while [ "$1" != -- ]; do mount -t tmpfs -o mode=0755 pytest-wa-hidden "$1" '
               '|| exit 1; shift; done; shift; exec "$@"')


def why_paths_cannot_be_hidden() -> str | None:
    """Why ``hiding`` cannot work here, or None when it can."""
    if os.geteuid() != 0:
        return "hiding paths needs root (a mount namespace of its own)"
    if shutil.which("unshare") is None:
        return "unshare is missing (apt-get install util-linux)"
    return None


def hiding(paths: Sequence[str], argv: list[str]) -> list[str]:
    """``argv`` run where each of ``paths`` is an empty directory (``argv`` if none)."""
    if not paths:
        return argv
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", _MOUNT_EACH,
            "sh", *paths, "--", *argv]
