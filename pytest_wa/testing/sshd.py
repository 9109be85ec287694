"""A private OpenSSH server on 127.0.0.1, for testing the SSH target for real.

Mocking paramiko would test our assumptions about SSH, not SSH: this starts the
system's ``/usr/sbin/sshd`` with throwaway keys on a free port, so key, agent and
password authentication, sudo, SFTP and a dying server all behave as on a board.
``kill`` drops every established session at once, like a board losing power;
``hidden_paths`` makes a board that lacks some files or directories.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .hidden_paths import hiding, why_paths_cannot_be_hidden
from .ports import free_port
from .process_tree import descendants, freeze_tree, kill_tree

SSHD = "/usr/sbin/sshd"
START_TIMEOUT = 10.0


class SshServerError(RuntimeError):
    """The test server could not be set up (missing tool, no permission, failed start)."""


def make_key(path: str | os.PathLike[str], comment: str = "pytest-wa") -> str:
    """A new ed25519 key pair without passphrase at ``path`` (and ``path.pub``)."""
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    return str(path)


def _run(argv: list[str], *, stdin: str | None = None) -> None:
    try:
        subprocess.run(argv, input=stdin, text=True, check=True, capture_output=True,
                       timeout=30)
    except FileNotFoundError as exc:
        raise SshServerError(f"{argv[0]} is not installed (needs openssh-client/server)"
                             ) from exc
    except subprocess.CalledProcessError as exc:
        raise SshServerError(f"{' '.join(argv[:2])} failed: {exc.stderr.strip()}") from exc


_RUNNING: weakref.WeakSet[SshServer] = weakref.WeakSet()


@atexit.register
def _close_leftovers() -> None:
    """A test process that dies early must not leave sshd listening behind."""
    for server in list(_RUNNING):
        server.close()


class SshServer:
    """A real ``sshd -D -e`` on 127.0.0.1 with its own keys, config and known_hosts.

    ``client_key`` logs in as ``username`` (the user running the tests);
    ``known_hosts`` holds the host key for ``[127.0.0.1]:port``. Its sessions
    see each of ``hidden_paths`` as an empty directory (root only): a board
    without ``/sys/devices/system/cpu``, say.
    """

    host = "127.0.0.1"

    def __init__(self, port: int | None = None, *, hidden_paths: Sequence[str] = ()) -> None:
        if hidden_paths and (reason := why_paths_cannot_be_hidden()):
            raise SshServerError(reason)
        self.directory = tempfile.mkdtemp(prefix="pytest-wa-sshd-")
        self.port = port or 0
        self.hidden_paths = tuple(hidden_paths)
        self.username = _current_user()
        self.host_key = make_key(os.path.join(self.directory, "host_ed25519"), "host")
        self.client_key = make_key(os.path.join(self.directory, "client_ed25519"))
        self.known_hosts = os.path.join(self.directory, "known_hosts")
        self.config = os.path.join(self.directory, "sshd_config")
        self.log = os.path.join(self.directory, "sshd.log")
        self._authorized = os.path.join(self.directory, "authorized_keys")
        os.makedirs(self._authorized)
        # sshd reads a user's authorized keys as that user: let every user reach them
        # (the private keys stay 0600)
        os.chmod(self.directory, 0o755)
        os.chmod(self._authorized, 0o755)
        self.authorize(self.client_key + ".pub", self.username)
        self._process: subprocess.Popen[bytes] | None = None
        self._frozen: set[int] = set()

    def __repr__(self) -> str:
        return f"<SshServer {self.username}@{self.host}:{self.port}>"

    def authorize(self, public_key: str, user: str) -> None:
        """Let ``user`` log in with the key whose ``.pub`` file is ``public_key``."""
        path = os.path.join(self._authorized, user)
        with open(public_key, encoding="ascii") as source, \
                open(path, "a", encoding="ascii") as sink:
            sink.write(source.read())
        os.chmod(path, 0o644)

    def new_key(self, name: str) -> str:
        """A fresh key pair in the server's directory, authorized for nobody."""
        return make_key(os.path.join(self.directory, name))

    # --- life cycle ---

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> SshServer:
        """Start sshd; on the first start pick a free port, later reuse it."""
        if self.running:
            return self
        _ensure_privsep_directory()
        fixed = bool(self.port)
        for _ in range(1 if fixed else 5):
            if not fixed:
                self.port = free_port(self.host)
            self._write_config()
            try:
                self._spawn()
                _RUNNING.add(self)
                return self
            except SshServerError:
                if fixed:
                    raise
        raise SshServerError(f"sshd would not start; see {self.log}")

    def stop(self) -> None:
        """Stop sshd (SIGTERM) and end its sessions (SIGKILL): clients see the link close.

        sshd leaves established sessions running when its listener stops; a
        restarted server must not keep serving the old connections.
        """
        self.thaw()
        process, self._process = self._process, None
        if process is None:
            return
        below = descendants(process.pid)
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pid in below:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the listener and every session: a board that lost power."""
        self._frozen = set()
        process, self._process = self._process, None
        if process is None:
            return
        kill_tree(process.pid)
        process.wait()

    def freeze(self) -> None:
        """SIGSTOP sshd and its sessions: a hung board whose kernel still answers TCP."""
        if self._process is not None:
            self._frozen = freeze_tree(self._process.pid)

    def thaw(self) -> None:
        """Undo ``freeze``."""
        frozen, self._frozen = self._frozen, set()
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def restart(self) -> SshServer:
        """Start again on the same port (after ``stop`` or ``kill``)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the server and remove its keys and configuration."""
        _RUNNING.discard(self)
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> SshServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- internals ---

    def _write_config(self) -> None:
        sftp = "/usr/lib/openssh/sftp-server"
        lines = [
            f"Port {self.port}",
            f"ListenAddress {self.host}",
            f"HostKey {self.host_key}",
            f"PidFile {os.path.join(self.directory, 'sshd.pid')}",
            f"AuthorizedKeysFile {self._authorized}/%u",
            "StrictModes no",
            "PermitRootLogin yes",
            "PubkeyAuthentication yes",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            # bash sources ~/.bashrc when sshd starts it, unless it believes it is nested
            # (SHLVL >= 1): the tests must not run (and time) the login user's dotfiles
            "SetEnv SHLVL=1",
            "MaxStartups 50",
            "MaxSessions 50",
            "LogLevel INFO",
            f"Subsystem sftp {sftp if os.path.exists(sftp) else 'internal-sftp'}",
        ]
        Path(self.config).write_text("\n".join(lines) + "\n", encoding="ascii")
        host_key = Path(self.host_key + ".pub").read_text(encoding="ascii").split()
        Path(self.known_hosts).write_text(
            f"[{self.host}]:{self.port} {host_key[0]} {host_key[1]}\n", encoding="ascii")

    def _spawn(self) -> None:
        if not os.path.exists(SSHD):
            raise SshServerError(f"{SSHD} is missing (apt-get install openssh-server)")
        argv = hiding(self.hidden_paths, [SSHD, "-D", "-e", "-f", self.config])
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=log, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise SshServerError(f"sshd exited at start: {self._log_tail()}")
            if _answers(self.host, self.port):
                return
            time.sleep(0.02)
        self.kill()
        raise SshServerError(f"sshd did not answer within {START_TIMEOUT:g} s: "
                             f"{self._log_tail()}")

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return " | ".join(Path(self.log).read_text(errors="replace").splitlines()[-3:])
        return ""


def _answers(host: str, port: int) -> bool:
    """Whether an SSH server greets on ``host:port`` (its banner, not just a bound port)."""
    try:
        with socket.create_connection((host, port), timeout=1) as probe:
            return probe.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def _kill_user_processes(uid: int) -> None:
    """SIGKILL what the throwaway user still runs, so that userdel can remove it."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    os.kill(int(entry), signal.SIGKILL)


def _current_user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def _ensure_privsep_directory() -> None:
    """sshd started by root refuses to run without its privilege separation directory.

    (Started by another user it needs none, but can only log that user in.)
    """
    if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)


# --- a user that logs in with a password ---


@dataclass(frozen=True)
class PasswordUser:
    """A throwaway local account with a random password (and sudo rights, if asked)."""

    name: str
    password: str
    sudoers_file: str = ""

    def __repr__(self) -> str:
        return f"PasswordUser(name={self.name!r})"


def create_password_user(*, sudo: bool = True) -> PasswordUser:
    """A new account ``pytest-wa-XXXXXX`` with a random password; needs root.

    With ``sudo`` it may run anything as root after giving its password
    (a drop-in in /etc/sudoers.d), as an admin account on a board would.
    """
    if os.geteuid() != 0:
        raise SshServerError("creating a throwaway user with a password needs root")
    name = f"pytest-wa-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    _run(["useradd", "--create-home", "--shell", "/bin/sh", name])
    try:
        _run(["chpasswd"], stdin=f"{name}:{password}\n")
        sudoers = ""
        if sudo:
            if not os.path.isdir("/etc/sudoers.d") or shutil.which("sudo") is None:
                raise SshServerError("sudo is not installed (apt-get install sudo)")
            sudoers = f"/etc/sudoers.d/{name}"
            with open(sudoers, "w", encoding="ascii") as handle:
                handle.write(f"{name} ALL=(ALL:ALL) ALL\n")
            os.chmod(sudoers, 0o440)
    except BaseException:
        remove_password_user(PasswordUser(name, password, f"/etc/sudoers.d/{name}"))
        raise
    return PasswordUser(name, password, sudoers)


def remove_password_user(user: PasswordUser) -> None:
    """Delete the account, its home directory and its sudoers drop-in."""
    if user.sudoers_file:
        with contextlib.suppress(FileNotFoundError):
            os.remove(user.sudoers_file)
    with contextlib.suppress(KeyError):
        _kill_user_processes(pwd.getpwnam(user.name).pw_uid)
    subprocess.run(["userdel", "--remove", user.name], capture_output=True, check=False)
