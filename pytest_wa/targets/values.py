"""read_value/write_value for any target that can run shell commands.

Writes are read back by default (WA3 trusts a write; a governor the kernel
refused would then silently spoil a whole run).
"""

from __future__ import annotations

import shlex

from ..model.errors import TargetError
from .protocols import CommandRunner


class ShellValues:
    """Mixin: implements ValueAccess through ``execute`` (``cat``, ``echo >``)."""

    def read_value(self: CommandRunner, path: str) -> str:
        result = self.execute(f"cat {shlex.quote(path)}", check=True, timeout=30)
        return result.stdout.strip()

    def write_value(self: CommandRunner, path: str, value: object, *, verify: bool = True
                    ) -> None:
        text = str(value)
        quoted = shlex.quote(path)
        self.execute(f"echo {shlex.quote(text)} > {quoted}", check=True, timeout=30,
                     as_root=True)
        if verify:
            # read back as root too: some files only root may read
            actual = self.execute(f"cat {quoted}", check=True, timeout=30,
                                  as_root=True).stdout.strip()
            if actual != text.strip():
                raise TargetError(f"wrote {text!r} to {path} but it reads back {actual!r}")
