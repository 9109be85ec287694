"""pytest fixtures around a private sshd (``sshd.SshServer``) for SSH target tests.

Import them into a test module (``from pytest_wa.testing.ssh_fixtures import
wa_sshd, ...``) or list this module in a root conftest's ``pytest_plugins``.
What cannot be set up here (no sshd, not root) fails under CI (``CI`` set)
and skips elsewhere, so that a missing tool is never mistaken for a pass in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest

from ..targets.ssh import SshTarget
from .sshd import (
    SSHD,
    PasswordUser,
    SshServer,
    SshServerError,
    create_password_user,
    remove_password_user,
)

__all__ = ["wa_ssh_agent", "wa_ssh_password_user", "wa_ssh_target", "wa_sshd", "wa_sshd_fresh",
           "wa_sshd_servers"]


def unavailable(reason: str) -> NoReturn:
    """Fail under CI, skip elsewhere: a test that cannot run must not look passed in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"cannot set up the SSH test server: {reason}", pytrace=False)
    pytest.skip(reason)


def _started_server(**settings: Any) -> SshServer:
    if not os.path.exists(SSHD):
        unavailable(f"{SSHD} is missing (apt-get install openssh-server)")
    try:
        return SshServer(**settings).start()
    except SshServerError as exc:
        unavailable(str(exc))


@pytest.fixture(scope="session")
def wa_sshd() -> Iterator[SshServer]:
    """A real sshd on 127.0.0.1 for the whole session; tests must not kill it."""
    server = _started_server()
    yield server
    server.close()


@pytest.fixture
def wa_sshd_fresh() -> Iterator[SshServer]:
    """A real sshd of the test's own, which it may kill, stop and restart."""
    server = _started_server()
    yield server
    server.close()


@pytest.fixture
def wa_sshd_servers() -> Iterator[Callable[..., SshServer]]:
    """A factory: ``make(**SshServer kwargs)`` starts one more sshd of the test's own,
    e.g. ``make(hidden_paths=["/sys/devices/system/cpu"])`` for a board without them;
    all of them are closed at the end of the test."""
    started: list[SshServer] = []

    def make(**settings: Any) -> SshServer:
        server = _started_server(**settings)
        started.append(server)
        return server

    try:
        yield make
    finally:
        for server in reversed(started):
            server.close()


@pytest.fixture(scope="session")
def wa_ssh_password_user() -> Iterator[PasswordUser]:
    """A throwaway account ``pytest-wa-XXXXXX`` with a random password and sudo rights.

    Needs root (useradd, chpasswd, /etc/sudoers.d) and sudo; deleted afterwards.
    """
    if os.geteuid() != 0:
        unavailable("a throwaway user with a password needs root")
    try:
        user = create_password_user(sudo=True)
    except SshServerError as exc:
        unavailable(str(exc))
    yield user
    remove_password_user(user)


@pytest.fixture(scope="session")
def wa_ssh_agent(wa_sshd: SshServer) -> Iterator[str]:
    """The socket of a private ssh-agent holding ``wa_sshd.client_key``.

    Tests opt in with ``monkeypatch.setenv("SSH_AUTH_SOCK", wa_ssh_agent)``.
    """
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        unavailable("ssh-agent/ssh-add are missing (apt-get install openssh-client)")
    directory = tempfile.mkdtemp(prefix="pytest-wa-agent-")
    socket_path = os.path.join(directory, "agent.sock")
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", socket_path],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(socket_path):
            if agent.poll() is not None or time.monotonic() > deadline:
                unavailable("ssh-agent did not start")
            time.sleep(0.01)
        added = subprocess.run(["ssh-add", wa_sshd.client_key], capture_output=True, text=True,
                               env={**os.environ, "SSH_AUTH_SOCK": socket_path}, timeout=30)
        if added.returncode:
            unavailable(f"ssh-add failed: {added.stderr.strip()}")
        yield socket_path
    finally:
        agent.terminate()
        agent.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def wa_ssh_target(wa_sshd: SshServer, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[SshTarget]:
    """A connected SshTarget on ``wa_sshd``: key authentication, checked host key."""
    target = SshTarget("sshd", wa_sshd.host, port=wa_sshd.port, username=wa_sshd.username,
                       keyfile=wa_sshd.client_key, known_hosts=wa_sshd.known_hosts,
                       working_directory=str(tmp_path_factory.mktemp("ssh-work")))
    target.connect()
    yield target
    target.disconnect()
