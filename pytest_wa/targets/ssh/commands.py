"""Running commands on an SSH target: each on its own channel, and never left running.

A command costs two round trips plus the board's own work. It is wrapped so
that its process group is known (``remote_shell``): one that runs past its
timeout, or is interrupted with Ctrl-C, is killed on the board too (closing a
channel does not stop what it started). ``as_root`` runs it directly when the
login user is root and through ``sudo_cmd`` otherwise; the password, if any,
goes to sudo's stdin, never on a command line.
"""

from __future__ import annotations

import logging
import shlex
import time

import paramiko

from ...model.errors import (
    CommandError,
    CommandTimeoutError,
    TargetError,
    TargetNotRespondingError,
)
from ..base import CommandResult
from ..remote_shell import KILL_TIMEOUT, kill_command, with_pid_line
from .background import SshBackgroundCommand
from .link import SshLink
from .session import ExecRefused, RemoteCommand, exec_command

log = logging.getLogger("pytest_wa.targets.ssh")

SUDO_CMD = "sudo -S -p '' -- sh -c {}"
RESPONSIVE_TIMEOUT = 5.0
SETUP_TIMEOUT = 30.0


class SshShell:
    """Runs commands over ``link``; ``is_root`` is learnt when the target connects.

    ``cwd`` is the directory a command starts in ("" for the login directory,
    for the commands pytest-wa runs to manage the board itself).
    """

    def __init__(self, link: SshLink, sudo_cmd: str = SUDO_CMD) -> None:
        self.link = link
        self.sudo_cmd = sudo_cmd
        self.is_root = False
        self._sudo_asks_password: bool | None = None

    @property
    def address(self) -> str:
        return self.link.address

    def run(self, command: str, *, timeout: float, as_root: bool = False, check: bool = False,
            cwd: str = "", reconnect: bool = True) -> CommandResult:
        """Run ``command`` to its end, or kill it on the board at ``timeout``."""
        started = time.monotonic()
        deadline = started + timeout
        remote = self.start(command, as_root=as_root, deadline=deadline, timeout=timeout,
                            cwd=cwd, reconnect=reconnect)
        try:
            finished = remote.finish(deadline)
        except BaseException:  # Ctrl-C and friends: never leave the command running
            self.abort(remote, as_root)
            raise
        if not finished:
            self.abort(remote, as_root)
            raise CommandTimeoutError(command, timeout, remote.stdout)
        remote.close()
        code = remote.exit_status
        if code is None:
            raise TargetNotRespondingError(
                f"{self.address} is not responding: the connection dropped while running "
                f"{command!r}")
        result = CommandResult(command, code, remote.stdout, remote.stderr,
                               time.monotonic() - started)
        if check and not result.ok:
            raise CommandError(command, result.exit_code, result.stdout, result.stderr)
        return result

    def background(self, command: str, *, as_root: bool = False, cwd: str = ""
                   ) -> SshBackgroundCommand:
        """Start ``command`` and return once its process groups are known."""
        started = time.monotonic()
        timeout = self.link.settings.connect_timeout
        deadline = started + timeout
        remote = self.start(command, as_root=as_root, deadline=deadline, timeout=timeout,
                            cwd=cwd)
        remote.wait_for_pids(deadline)
        return SshBackgroundCommand(self, command, remote, as_root, started)

    def start(self, command: str, *, as_root: bool, deadline: float, timeout: float,
              cwd: str = "", reconnect: bool = True) -> RemoteCommand:
        """Start ``command`` on a new channel, wrapped so that its process group is known."""
        script = f"cd {shlex.quote(cwd)} || exit 1\n{command}" if cwd else command
        stdin = ""
        if as_root and not self.is_root:
            stdin = self._sudo_stdin()
            remote_command = with_pid_line(self.sudo_cmd.format(shlex.quote(with_pid_line(script))))
            pid_lines = 2
        else:
            remote_command, pid_lines = with_pid_line(script), 1
        channel = self.link.open_channel(deadline, reconnect, command, timeout)
        try:
            _exec(channel, remote_command, stdin, deadline)
        except ExecRefused as exc:
            channel.close()
            raise self._refused(exc, command, timeout) from None
        except BaseException:
            channel.close()
            raise
        return RemoteCommand(channel, pid_lines)

    def _refused(self, exc: ExecRefused, command: str, timeout: float) -> TargetError:
        """Why the board did not start ``command``: too slow, gone, or a plain refusal."""
        if exc.timed_out:
            return CommandTimeoutError(command, timeout)
        if self.link.live() is None:
            return TargetNotRespondingError(
                f"{self.address} is not responding: the connection dropped while "
                f"starting {command!r}")
        return TargetError(f"{self.address} refused to run {command!r}: {exc}")

    def _sudo_stdin(self) -> str:
        """The password line for ``sudo -S``, if a password is set and sudo wants one.

        Without the check, a command that reads stdin would get the password
        when sudo does not ask for it (NOPASSWD), and could print it.
        """
        password = self.link.settings.password
        if password is None or not self.sudo_cmd.lstrip().startswith("sudo"):
            return ""
        if self._sudo_asks_password is None:
            probe = self.run("sudo -n true", timeout=SETUP_TIMEOUT)
            self._sudo_asks_password = not probe.ok
        return password.reveal() + "\n" if self._sudo_asks_password else ""

    def abort(self, remote: RemoteCommand, as_root: bool) -> None:
        """Kill a command that must not go on (timeout, Ctrl-C), then drop its channel."""
        try:
            if not remote.pids:
                remote.wait_for_pids(time.monotonic() + 1.0)
            self.kill_groups(remote.pids, as_root=as_root)
        finally:
            remote.close()

    def kill_groups(self, pids: list[int], *, as_root: bool = False) -> None:
        """Kill the process groups ``pids`` on the target (best effort, bounded)."""
        if not pids:
            return
        script = " ".join(f"( {kill_command(pid)} ) &" for pid in pids) + " wait"
        try:
            self.run(script, timeout=KILL_TIMEOUT, as_root=as_root)
        except TargetError as exc:
            log.warning("%s: could not kill process group(s) %s: %s", self.address,
                        " ".join(map(str, pids)), exc)


def _exec(channel: paramiko.Channel, remote_command: str, stdin: str, deadline: float) -> None:
    """Start ``remote_command`` and hand it its stdin (sudo's password, or nothing)."""
    exec_command(channel, remote_command, deadline)
    try:
        if stdin:
            channel.sendall(stdin.encode())
        channel.shutdown_write()
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise ExecRefused(str(exc), timed_out=False) from None
