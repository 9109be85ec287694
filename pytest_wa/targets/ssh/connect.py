"""Opening the SSH connection of an ``SshTarget``, and saying plainly why it failed.

paramiko's exceptions name protocol details ("Authentication failed.",
"Server '[h]:p' not found in known_hosts", a dict of socket errors); a user
needs one line saying what was tried and what to change. The password is kept
in a ``Secret`` so that no repr, log record or message can show it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import time
from dataclasses import dataclass, field

import fabric
import paramiko

log = logging.getLogger("pytest_wa.targets.ssh")

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
KEEPALIVE = 15  # seconds of idleness before paramiko sends a keepalive
USER_TIMEOUT_MS = 30_000  # unacknowledged data for this long means the link is dead
_DEFAULT_KEYS = ("id_rsa", "id_ecdsa", "id_ed25519")


class Secret:
    """A string that never shows itself: ``repr``/``str`` print stars."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'********'"

    __str__ = __repr__


class ConnectFailure(Exception):
    """Why a connection attempt failed, as one line for a user (never the password)."""


class _UnknownHostKey(paramiko.SSHException):
    pass


@dataclass(frozen=True)
class SshSettings:
    """Where and how to log in; ``address`` names the device in every message."""

    host: str
    port: int
    username: str
    password: Secret | None = field(default=None, repr=False)
    keyfile: str | None = None
    strict_host_check: bool = True
    known_hosts: str | None = None
    connect_timeout: float = 10.0

    @property
    def address(self) -> str:
        return f"ssh {self.username}@{self.host}:{self.port}"

    @property
    def known_hosts_path(self) -> str:
        return os.path.expanduser(self.known_hosts or DEFAULT_KNOWN_HOSTS)

    def scrub(self, text: str) -> str:
        """``text`` with the password (should anything ever echo it) replaced by stars."""
        if self.password is not None and self.password.reveal():
            text = text.replace(self.password.reveal(), "********")
        return text


class _AcceptAndWarn(paramiko.MissingHostKeyPolicy):
    """strict_host_check: false -- accept an unknown key for this connection only, loudly.

    Unlike paramiko's AutoAddPolicy it does not write the key into the user's
    known_hosts file.
    """

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> None:
        log.warning("accepting unknown %s host key %s for %s (strict_host_check is off)",
                    key.get_name(), key.fingerprint, hostname)
        client.get_host_keys().add(hostname, key.get_name(), key)


class _Refuse(paramiko.MissingHostKeyPolicy):
    def __init__(self, known_hosts: str) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> None:
        raise _UnknownHostKey(
            f"host key for {hostname} is not in {self.known_hosts} "
            "(set strict_host_check: false to accept it)")


def open_connection(settings: SshSettings, timeout: float | None = None) -> fabric.Connection:
    """A connected fabric Connection, or ConnectFailure saying why not.

    No ssh_config or fabric config files are read: the target's settings say
    everything, so that a run does not depend on the dotfiles of whoever runs it.
    """
    timeout = settings.connect_timeout if timeout is None else timeout
    config = fabric.Config(ssh_config=paramiko.SSHConfig(), lazy=True)
    connection = fabric.Connection(settings.host, user=settings.username, port=settings.port,
                                   config=config,
                                   connect_kwargs=_connect_kwargs(settings, timeout))
    client = connection.client
    _load_known_hosts(client, settings.known_hosts_path)
    client.set_missing_host_key_policy(
        _Refuse(settings.known_hosts_path) if settings.strict_host_check else _AcceptAndWarn())
    started = time.monotonic()
    try:
        connection.open()
    except Exception as exc:  # every failure becomes one readable line
        with contextlib.suppress(Exception):
            connection.close()
        reason = _reason(exc, settings, timeout)
        if _gave_up_waiting(exc, time.monotonic() - started, timeout):
            reason = f"timed out after {timeout:g} s waiting for the SSH server to answer"
        raise ConnectFailure(settings.scrub(reason)) from None
    connection.connect_kwargs.pop("password", None)  # logged in: keep no copy around
    _tune(connection.client.get_transport())
    return connection


def _connect_kwargs(settings: SshSettings, timeout: float) -> dict[str, object]:
    """paramiko's connect() arguments: every wait bounded, the key file or the usual keys."""
    connect_kwargs: dict[str, object] = {
        "timeout": timeout, "banner_timeout": timeout, "auth_timeout": timeout,
        "allow_agent": True, "look_for_keys": settings.keyfile is None,
    }
    if settings.keyfile:
        keyfile = os.path.expanduser(settings.keyfile)
        if not os.path.isfile(keyfile):
            raise ConnectFailure(f"key file {keyfile} does not exist")
        connect_kwargs["key_filename"] = [keyfile]
    if settings.password is not None:
        connect_kwargs["password"] = settings.password.reveal()
    return connect_kwargs


def _gave_up_waiting(exc: Exception, elapsed: float, timeout: float) -> bool:
    """Whether a protocol error really means a silent server: paramiko gives up on one
    with "No existing session" & co. once the timeout has (nearly) passed."""
    refused = (paramiko.AuthenticationException, _UnknownHostKey, paramiko.BadHostKeyException)
    return isinstance(exc, (paramiko.SSHException, EOFError)) \
        and not isinstance(exc, refused) and elapsed >= timeout * 0.95


def _load_known_hosts(client: paramiko.SSHClient, path: str) -> None:
    if not os.path.exists(path):
        return
    try:
        client.load_system_host_keys(path)
    except (OSError, paramiko.SSHException) as exc:
        raise ConnectFailure(f"cannot read known_hosts file {path}: {exc}") from None


def _tune(transport: paramiko.Transport | None) -> None:
    """Send small packets at once, and notice a dead link instead of waiting forever.

    OpenSSH turns Nagle's algorithm off only for interactive sessions; with it
    on, each request waits for a delayed ACK (40 ms on Linux) and a 3 ms
    command takes 45. Keepalives plus TCP_USER_TIMEOUT end a connection to a
    board that lost power within a minute, instead of TCP's quarter of an hour.
    """
    if transport is None:
        return
    transport.set_keepalive(KEEPALIVE)
    sock = transport.sock
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, USER_TIMEOUT_MS)


def _reason(exc: BaseException, settings: SshSettings, timeout: float) -> str:
    if isinstance(exc, _UnknownHostKey):
        return str(exc)
    if isinstance(exc, paramiko.BadHostKeyException):
        return (f"the host key of {settings.host} does not match the one in "
                f"{settings.known_hosts_path} (if the device was reinstalled, remove the old "
                "entry; otherwise someone may be intercepting the connection)")
    if isinstance(exc, paramiko.PasswordRequiredException):
        return f"key {settings.keyfile} is encrypted: load it into ssh-agent instead"
    if isinstance(exc, paramiko.BadAuthenticationType):
        return (f"authentication failed ({_tried(settings)}; the server accepts only "
                f"{', '.join(exc.allowed_types)})")
    if isinstance(exc, paramiko.AuthenticationException):
        return f"authentication failed ({_tried(settings)})"
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        errors = list(exc.errors.values())
        if errors and all(getattr(e, "errno", None) == errno.ECONNREFUSED for e in errors):
            return "connection refused"
        return "; ".join(_os_reason(e, timeout) for e in errors) or str(exc)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, socket.gaierror):
        return f"unknown host {settings.host!r} ({exc.strerror})"
    if isinstance(exc, OSError):
        return _os_reason(exc, timeout)
    if isinstance(exc, paramiko.SSHException):
        text = str(exc)
        if "banner" in text:
            return f"timed out after {timeout:g} s waiting for the SSH server's greeting"
        return f"SSH negotiation failed: {text}"
    if isinstance(exc, EOFError):
        return "the server closed the connection during the handshake"
    return f"{type(exc).__name__}: {exc}"


def _os_reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"file not found: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc)


def _tried(settings: SshSettings) -> str:
    """What authentication used, for the error message: key files, agent, password."""
    tried: list[str] = []
    if settings.keyfile:
        tried.append(f"key {os.path.expanduser(settings.keyfile)}")
    else:
        home = os.path.expanduser("~/.ssh")
        found = [os.path.join(home, k) for k in _DEFAULT_KEYS
                 if os.path.exists(os.path.join(home, k))]
        if found:
            tried.append("keys " + ", ".join(found))
    if os.environ.get("SSH_AUTH_SOCK"):
        tried.append("ssh-agent")
    if settings.password is not None:
        tried.append("password")
    return "tried " + ", ".join(tried) if tried else "no key file, ssh-agent or password to try"
