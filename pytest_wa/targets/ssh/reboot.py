"""How an SSH board reboots: the reboot command or a power cycle, then waiting it back.

A soft reboot runs ``reboot_command`` as root and waits for the link to drop
(a board may go on answering for a moment after the command returns). A hard
one runs ``hard_reset_command`` on this host (a relay, a smart plug), and the
link is dropped at once, since a board without power sends no goodbye. Either
way the board is back once a new login answers a probe; a board that is not
back in time is ``TargetNotRespondingError``.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

from ...model.errors import TargetError, TargetNotRespondingError
from .background import SshBackgroundCommand
from .commands import RESPONSIVE_TIMEOUT
from .connect import ConnectFailure, open_connection
from .link import SshLink

#: Whether the board answers a trivial command within the given time (no reconnect).
Probe = Callable[[float], bool]


def hard_reset(address: str, command: str | None) -> None:
    """Power-cycle the board with ``command``, run on this host."""
    if not command:
        raise TargetError(f"{address}: no hard reset is configured (set "
                          "hard_reset_command to a command that power-cycles the board)")
    try:
        subprocess.run(command, shell=True, check=True, timeout=60,
                       stdin=subprocess.DEVNULL, capture_output=True)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip()
        raise TargetError(f"{address}: hard_reset_command exited with code "
                          f"{exc.returncode}: {detail}") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise TargetError(f"{address}: hard_reset_command failed: {exc}") from None


def wait_for_drop(link: SshLink, probe: Probe, command: SshBackgroundCommand,
                  deadline: float, timeout: float) -> None:
    """Until the link drops after the reboot ``command`` (which fails if it failed)."""
    while time.monotonic() < deadline:
        if link.live() is None:
            return
        if command.finished:
            code = command.exit_code
            if code not in (None, 0, -1):
                raise TargetError(f"{link.address}: {command.command!r} failed with "
                                  f"code {code}: {command.output.strip()}")
        if not probe(min(2.0, max(deadline - time.monotonic(), 0.01))):
            return
        command.done.wait(min(0.5, max(deadline - time.monotonic(), 0)))
    raise TargetError(f"{link.address}: the connection did not drop within {timeout:g} s "
                      f"of {command.command!r}")


def wait_until_back(link: SshLink, probe: Probe, deadline: float, timeout: float) -> None:
    """Log in again as soon as the board lets us, and until it answers ``probe``."""
    link.drop()
    last = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TargetNotRespondingError(
                f"{link.address} is not responding: not back within {timeout:g} s of "
                f"rebooting ({last})")
        try:
            connection = open_connection(link.settings,
                                         min(link.settings.connect_timeout, remaining))
        except ConnectFailure as exc:
            last = str(exc)
            time.sleep(min(1.0, max(deadline - time.monotonic(), 0)))
            continue
        link.adopt(connection)
        if probe(min(RESPONSIVE_TIMEOUT, max(deadline - time.monotonic(), 0.01))):
            return
