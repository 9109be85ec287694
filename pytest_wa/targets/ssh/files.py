"""push/pull for an SSH target: SFTP copies (``transfer``) reported as target errors.

A copy that runs out of time, or whose connection dies, leaves the SFTP
session in an unknown state, so it is dropped and the next copy opens a new
one; a plain refusal (no such file, permission denied) keeps it.
"""

from __future__ import annotations

import time

import paramiko

from ...model.errors import CommandTimeoutError, TargetError, TargetNotRespondingError
from .link import SshLink
from .transfer import TransferExpired
from .transfer import pull as sftp_pull
from .transfer import push as sftp_push


def transfer(link: SshLink, what: str, source: str, destination: str, timeout: float) -> None:
    """``what`` ("push" or "pull") ``source`` to ``destination`` within ``timeout``."""
    deadline = time.monotonic() + timeout
    move = sftp_push if what == "push" else sftp_pull
    where = (f"{source} to {link.address}:{destination}" if what == "push"
             else f"{link.address}:{source} to {destination}")
    with link.sftp_lock:
        sftp = link.sftp(deadline, f"{what} {source} {destination}", timeout)
        try:
            move(sftp, source, destination, deadline)
        except (TransferExpired, TimeoutError):
            link.drop_sftp(sftp)
            raise CommandTimeoutError(f"{what} {source} {destination}", timeout) from None
        except (paramiko.SSHException, EOFError) as exc:
            link.drop_sftp(sftp)
            if link.live() is None:
                raise _dropped(link, what, where) from None
            raise TargetError(f"cannot {what} {where}: {exc}") from None
        except OSError as exc:
            if link.live() is None:
                link.drop_sftp(sftp)
                raise _dropped(link, what, where) from None
            reason = exc.strerror or str(exc)
            name = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            raise TargetError(f"cannot {what} {where}: {reason}{name}") from None


def _dropped(link: SshLink, what: str, where: str) -> TargetNotRespondingError:
    return TargetNotRespondingError(f"{link.address} is not responding: the connection "
                                    f"dropped during {what} of {where}")
