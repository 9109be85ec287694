"""The one SSH connection of an ``SshTarget``: its channels, its SFTP session, reconnects.

Every command gets a session channel of its own on one persistent connection.
If the connection died (the board rebooted, sshd restarted), the next call
reconnects once by itself and tells the target (``on_reconnect``), which makes
sure its directories still exist; a board that does not answer is reported as
``TargetNotRespondingError``, naming the device.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

import fabric
import paramiko

from ...model.errors import CommandTimeoutError, TargetError, TargetNotRespondingError
from .connect import ConnectFailure, SshSettings, open_connection
from .session import WATCHDOG

log = logging.getLogger("pytest_wa.targets.ssh")


class SshLink:
    """The connection, opened by ``open`` and reopened (once per call) when it drops.

    ``lock`` guards opening and closing; ``sftp_lock`` is held by whoever uses
    the SFTP session, which is opened once per connection.
    """

    def __init__(self, settings: SshSettings, on_reconnect: Callable[[], None]) -> None:
        self.settings = settings
        self.on_reconnect = on_reconnect
        self.connected = False  # between open() and close(), even while the link is down
        self.lock = threading.RLock()
        self.sftp_lock = threading.Lock()
        self._connection: fabric.Connection | None = None
        self._sftp: paramiko.SFTPClient | None = None

    @property
    def address(self) -> str:
        return self.settings.address

    def open(self) -> bool:
        """Log in, unless already connected; whether this call opened the connection."""
        with self.lock:
            if self.connected:
                return False
            try:
                self._connection = open_connection(self.settings)
            except ConnectFailure as exc:
                raise TargetError(f"cannot connect to {self.address}: {exc}") from None
            self.connected = True
            return True

    def close(self) -> None:
        """End the connection for good: no call reconnects until ``open`` again."""
        with self.lock:
            self.connected = False
            self.drop()

    def drop(self) -> None:
        """Close the current connection (and its SFTP session); a later call may reconnect."""
        with self.lock:
            connection, self._connection = self._connection, None
            # Not under sftp_lock: the thread reconnecting may be a transfer holding it
            # (it waited for itself for good); sftp() checks a session's transport anyway.
            self._sftp = None
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.close()

    def adopt(self, connection: fabric.Connection) -> None:
        """Use a connection opened elsewhere (after a reboot) as the current one."""
        with self.lock:
            self._connection = connection

    def live(self) -> paramiko.Transport | None:
        """The transport, if the connection is up."""
        connection = self._connection
        transport = connection.client.get_transport() if connection is not None else None
        return transport if transport is not None and transport.is_active() else None

    def transport(self, reconnect: bool) -> tuple[paramiko.Transport, bool]:
        """The live transport, and whether it was just reconnected."""
        transport = self.live()
        if transport is not None:
            return transport, False
        if not self.connected:
            raise TargetError(f"{self.address} is not connected: call connect() first")
        if not reconnect:
            raise TargetNotRespondingError(f"{self.address} is not responding: "
                                           "the connection dropped")
        with self.lock:
            transport = self.live()
            if transport is not None:  # another thread reconnected meanwhile
                return transport, False
            transport = self._reconnect()
        if transport is None:
            raise TargetNotRespondingError(f"{self.address} is not responding: "
                                           "the connection dropped right after reconnecting")
        return transport, True

    def _reconnect(self) -> paramiko.Transport | None:
        """Open a new connection in place of the dead one (holding ``lock``)."""
        self.drop()
        try:
            self._connection = open_connection(self.settings)
        except ConnectFailure as exc:
            raise TargetNotRespondingError(f"{self.address} is not responding: {exc}") from None
        log.info("%s: reconnected", self.address)
        self.on_reconnect()
        return self.live()

    def open_channel(self, deadline: float, reconnect: bool, command: str, timeout: float
                     ) -> paramiko.Channel:
        """A new session channel; ``command`` and ``timeout`` only name what timed out."""
        for attempt in range(2):
            transport, fresh = self.transport(reconnect)
            try:
                return transport.open_session(timeout=max(deadline - time.monotonic(), 0.001))
            except (paramiko.SSHException, EOFError, OSError) as exc:
                if transport.is_active():
                    raise self._refused(exc, command, timeout) from None
                if fresh or attempt or not reconnect:
                    break
        raise TargetNotRespondingError(f"{self.address} is not responding: the connection "
                                       "dropped")

    def _refused(self, exc: BaseException, command: str, timeout: float) -> TargetError:
        """Why a live connection opened no channel."""
        if "Timeout" not in str(exc):
            return TargetError(f"{self.address} refused a session: {exc}")
        # it never started: nothing to kill
        if timeout < 1.0:  # too short to tell a slow answer from none
            return CommandTimeoutError(command, timeout)
        # sshd opens a channel without forking: a second of silence
        # means a hung server or a link that died without a word
        return TargetNotRespondingError(f"{self.address} is not responding: no answer to "
                                        f"opening a session within {timeout:g} s")

    def sftp(self, deadline: float, what: str, timeout: float) -> paramiko.SFTPClient:
        """The SFTP session (opened once per connection), you holding ``sftp_lock``."""
        sftp = self._sftp
        if sftp is not None and self.live() is not None \
                and sftp.get_channel().get_transport() is self.live():
            return sftp
        channel = self.open_channel(deadline, True, what, timeout)
        try:
            token = WATCHDOG.arm(deadline, channel.close)
            try:
                channel.invoke_subsystem("sftp")
            finally:
                WATCHDOG.disarm(token)
            channel.settimeout(max(deadline - time.monotonic(), 0.001))
            sftp = paramiko.SFTPClient(channel)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            channel.close()
            if time.monotonic() >= deadline:
                raise CommandTimeoutError(what, timeout) from None
            raise TargetError(f"{self.address}: cannot start SFTP: {exc}") from None
        self._sftp = sftp
        return sftp

    def drop_sftp(self, sftp: paramiko.SFTPClient) -> None:
        """Forget a broken SFTP session; the next transfer opens a new one."""
        self._sftp = None
        with contextlib.suppress(Exception):
            sftp.close()
