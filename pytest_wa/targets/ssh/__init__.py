"""The SSH target: a Linux board reached over SSH (fabric 3 / paramiko).

``target`` puts the pieces together: ``connect`` (logging in, plain errors),
``link`` (the one connection, reconnected once when it dropped), ``session``
(one command on one channel), ``commands`` (running and killing commands),
``background``, ``transfer``/``files`` (SFTP), ``reboot`` and ``properties``.
"""

from __future__ import annotations

from .background import SshBackgroundCommand
from .target import SshTarget

__all__ = ["SshBackgroundCommand", "SshTarget"]
