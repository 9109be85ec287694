"""The SSH target: a Linux board reached over SSH (fabric 3 / paramiko).

One persistent connection per target; every command gets a session channel of
its own (``ssh_session``), so a command costs two round trips plus the board's
own work. A command that runs past its timeout, or is interrupted with Ctrl-C,
is killed on the board too (closing a channel does not stop what it started).
If the connection died (the board rebooted, sshd restarted), the next call
reconnects once by itself; a board that does not answer is reported as
``TargetNotRespondingError``, naming the device.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import shlex
import subprocess
import threading
import time

import fabric
import paramiko

from ..errors import CommandError, CommandTimeoutError, TargetError, TargetNotRespondingError
from .base import DEFAULT_TIMEOUT, CommandResult, TargetProperties
from .local import _ABIS
from .remote_shell import kill_command, with_pid_line
from .ssh_connect import ConnectFailure, Secret, SshSettings, open_connection
from .ssh_session import WATCHDOG, ExecRefused, RemoteCommand, exec_command
from .ssh_transfer import TransferExpired
from .ssh_transfer import pull as sftp_pull
from .ssh_transfer import push as sftp_push
from .values import ShellValues

log = logging.getLogger("pytest_wa.targets.ssh")

SUDO_CMD = "sudo -S -p '' -- sh -c {}"
RESPONSIVE_TIMEOUT = 5.0
KILL_TIMEOUT = 10.0
SETUP_TIMEOUT = 30.0
_SEP = "\x1f"  # between the fields of the properties command's output

_PROPERTIES_COMMAND = "; ".join(f'printf "%s{_SEP}" "$( {probe} )"' for probe in (
    "uname -s", "uname -r", "uname -m", "uname -v",
    "nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo",
    "hostname 2>/dev/null || uname -n",
    "(cat /proc/device-tree/model || cat /sys/class/dmi/id/product_name) 2>/dev/null"
    " | tr -d '\\000'",
))


class SshTarget(ShellValues):
    """A device reached over SSH, with key file, ssh-agent or password authentication.

    ``as_root`` runs commands directly when the login user is root and through
    ``sudo_cmd`` otherwise (the password, if any, goes to sudo's stdin, never
    on a command line). ``working_directory`` is the directory under which
    ``connect`` creates this run's ``pytest-wa-run-XXXXXX`` (default: the
    target's ``$TMPDIR`` or /tmp); ``disconnect`` removes it.
    """

    kind = "ssh"
    reboot_command = "reboot"

    def __init__(self, name: str, host: str, *, port: int = 22, username: str | None = None,
                 password: str | None = None, keyfile: str | None = None,
                 strict_host_check: bool = True, known_hosts: str | None = None,
                 sudo_cmd: str = SUDO_CMD, working_directory: str | None = None,
                 executables_directory: str | None = None, connect_timeout: float = 10.0,
                 hard_reset_command: str | None = None, boot_timeout: float = 120.0) -> None:
        self.name = name
        self.settings = SshSettings(
            host=host, port=int(port), username=username or getpass.getuser(),
            password=Secret(password) if password is not None else None, keyfile=keyfile,
            strict_host_check=strict_host_check, known_hosts=known_hosts,
            connect_timeout=float(connect_timeout))
        self.sudo_cmd = sudo_cmd
        self.hard_reset_command = hard_reset_command
        self.boot_timeout = boot_timeout
        self._base_directory = working_directory
        self._executables_directory = executables_directory
        self.working_directory = ""
        self.executables_directory = executables_directory or ""
        self._connection: fabric.Connection | None = None
        self._connected = False
        self._lock = threading.RLock()
        self._sftp: paramiko.SFTPClient | None = None
        self._sftp_lock = threading.Lock()
        self._is_root = False
        self._sudo_asks_password: bool | None = None
        self._properties: TargetProperties | None = None

    def __repr__(self) -> str:
        return f"<SshTarget {self.name!r} {self.address}>"

    @property
    def address(self) -> str:
        """``ssh user@host:port``: how messages name this device."""
        return self.settings.address

    # --- connection ---

    def connect(self) -> None:
        """Log in, learn whether we are root, and create this run's working directory."""
        with self._lock:
            if self._connected:
                return
            try:
                self._connection = open_connection(self.settings)
            except ConnectFailure as exc:
                raise TargetError(f"cannot connect to {self.address}: {exc}") from None
            self._connected = True
        try:
            self._setup()
        except BaseException:
            self.disconnect()
            raise

    def _setup(self) -> None:
        base = shlex.quote(self._base_directory) if self._base_directory else '"${TMPDIR:-/tmp}"'
        make_bin = "" if self._executables_directory else ' && mkdir -p "$d/bin"'
        result = self._run(
            f'id -u && mkdir -p {base} && d=$(mktemp -d {base}/pytest-wa-run-XXXXXX)'
            f'{make_bin} && echo "$d"', timeout=SETUP_TIMEOUT, cwd=False)
        lines = result.stdout.split()
        if not result.ok or len(lines) != 2:
            raise TargetError(f"{self.address}: cannot create a working directory: "
                              f"{(result.stderr or result.stdout).strip()}")
        self._is_root = lines[0] == "0"
        self.working_directory = lines[1]
        self.executables_directory = self._executables_directory or f"{lines[1]}/bin"

    def disconnect(self) -> None:
        """Remove the working directory (if the board still answers) and close the link."""
        with self._lock:
            if self.working_directory and self._live():
                with contextlib.suppress(TargetError):
                    self._run(f"rm -rf {shlex.quote(self.working_directory)}", timeout=30,
                              cwd=False, reconnect=False)
            self.working_directory = ""
            self._connected = False
            self._close_connection()

    def is_responsive(self) -> bool:
        """Whether a quick ``true`` comes back (reconnecting once if the link had died)."""
        if not self._connected:
            return False
        try:
            return self._run("true", timeout=RESPONSIVE_TIMEOUT, cwd=False).ok
        except TargetError:
            return False

    def _live(self) -> paramiko.Transport | None:
        connection = self._connection
        transport = connection.client.get_transport() if connection is not None else None
        return transport if transport is not None and transport.is_active() else None

    def _transport(self, reconnect: bool) -> tuple[paramiko.Transport, bool]:
        """The live transport, and whether it was just reconnected."""
        transport = self._live()
        if transport is not None:
            return transport, False
        if not self._connected:
            raise TargetError(f"{self.address} is not connected: call connect() first")
        if not reconnect:
            raise TargetNotRespondingError(f"{self.address} is not responding: "
                                           "the connection dropped")
        with self._lock:
            transport = self._live()
            if transport is not None:
                return transport, False
            self._close_connection()
            try:
                self._connection = open_connection(self.settings)
            except ConnectFailure as exc:
                raise TargetNotRespondingError(
                    f"{self.address} is not responding: {exc}") from None
            log.info("%s: reconnected", self.address)
            self._recreate_working_directory()
            transport = self._live()
        if transport is None:
            raise TargetNotRespondingError(f"{self.address} is not responding: "
                                           "the connection dropped right after reconnecting")
        return transport, True

    def _recreate_working_directory(self) -> None:
        """After a reboot /tmp may be empty again: make sure our directories exist."""
        if self.working_directory:
            directories = " ".join(shlex.quote(d) for d in
                                   {self.working_directory, self.executables_directory} if d)
            with contextlib.suppress(TargetError):
                self._run(f"mkdir -p {directories}", timeout=SETUP_TIMEOUT, cwd=False,
                          reconnect=False)

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        with self._sftp_lock:
            self._sftp = None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    # --- commands ---

    def execute(self, command: str, *, timeout: float = DEFAULT_TIMEOUT, as_root: bool = False,
                check: bool = False) -> CommandResult:
        return self._run(command, timeout=timeout, as_root=as_root, check=check)

    def _run(self, command: str, *, timeout: float, as_root: bool = False, check: bool = False,
             cwd: bool = True, reconnect: bool = True) -> CommandResult:
        started = time.monotonic()
        deadline = started + timeout
        remote = self._start(command, as_root=as_root, deadline=deadline, timeout=timeout,
                             cwd=cwd, reconnect=reconnect)
        try:
            finished = remote.finish(deadline)
        except BaseException:  # Ctrl-C and friends: never leave the command running
            self._abort(remote, as_root)
            raise
        if not finished:
            self._abort(remote, as_root)
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

    def _start(self, command: str, *, as_root: bool, deadline: float, timeout: float,
               cwd: bool = True, reconnect: bool = True) -> RemoteCommand:
        """Start ``command`` on a new channel, wrapped so that its process group is known."""
        script = command
        if cwd and self.working_directory:
            script = f"cd {shlex.quote(self.working_directory)} || exit 1\n{command}"
        stdin = ""
        if as_root and not self._is_root:
            stdin = self._sudo_stdin()
            remote_command = with_pid_line(self.sudo_cmd.format(shlex.quote(with_pid_line(script))))
            pid_lines = 2
        else:
            remote_command, pid_lines = with_pid_line(script), 1
        channel = self._open_channel(deadline, reconnect, command, timeout)
        try:
            exec_command(channel, remote_command, deadline)
            try:
                if stdin:
                    channel.sendall(stdin.encode())
                channel.shutdown_write()
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise ExecRefused(str(exc), timed_out=False) from None
        except ExecRefused as exc:
            channel.close()
            if exc.timed_out:
                raise CommandTimeoutError(command, timeout) from None
            if self._live() is None:
                raise TargetNotRespondingError(
                    f"{self.address} is not responding: the connection dropped while "
                    f"starting {command!r}") from None
            raise TargetError(f"{self.address} refused to run {command!r}: {exc}") from None
        except BaseException:
            channel.close()
            raise
        return RemoteCommand(channel, pid_lines)

    def _open_channel(self, deadline: float, reconnect: bool, command: str, timeout: float
                      ) -> paramiko.Channel:
        """A new session channel; ``command`` and ``timeout`` only name what timed out."""
        for attempt in range(2):
            transport, fresh = self._transport(reconnect)
            try:
                return transport.open_session(timeout=max(deadline - time.monotonic(), 0.001))
            except (paramiko.SSHException, EOFError, OSError) as exc:
                if transport.is_active():
                    if "Timeout" in str(exc):  # it never started: nothing to kill
                        if timeout < 1.0:  # too short to tell a slow answer from none
                            raise CommandTimeoutError(command, timeout) from None
                        # sshd opens a channel without forking: a second of silence
                        # means a hung server or a link that died without a word
                        raise TargetNotRespondingError(
                            f"{self.address} is not responding: no answer to opening a "
                            f"session within {timeout:g} s") from None
                    raise TargetError(f"{self.address} refused a session: {exc}") from None
                if fresh or attempt or not reconnect:
                    break
        raise TargetNotRespondingError(f"{self.address} is not responding: the connection "
                                       "dropped")

    def _sudo_stdin(self) -> str:
        """The password line for ``sudo -S``, if a password is set and sudo wants one.

        Without the check, a command that reads stdin would get the password
        when sudo does not ask for it (NOPASSWD), and could print it.
        """
        password = self.settings.password
        if password is None or not self.sudo_cmd.lstrip().startswith("sudo"):
            return ""
        if self._sudo_asks_password is None:
            probe = self._run("sudo -n true", timeout=SETUP_TIMEOUT, cwd=False)
            self._sudo_asks_password = not probe.ok
        return password.reveal() + "\n" if self._sudo_asks_password else ""

    def _abort(self, remote: RemoteCommand, as_root: bool) -> None:
        """Kill a command that must not go on (timeout, Ctrl-C), then drop its channel."""
        try:
            if not remote.pids:
                remote.wait_for_pids(time.monotonic() + 1.0)
            self._kill_groups(remote.pids, as_root=as_root)
        finally:
            remote.close()

    def _kill_groups(self, pids: list[int], *, as_root: bool = False) -> None:
        """Kill the process groups ``pids`` on the target (best effort, bounded)."""
        if not pids:
            return
        script = " ".join(f"( {kill_command(pid)} ) &" for pid in pids) + " wait"
        try:
            self._run(script, timeout=KILL_TIMEOUT, as_root=as_root, cwd=False)
        except TargetError as exc:
            log.warning("%s: could not kill process group(s) %s: %s", self.address,
                        " ".join(map(str, pids)), exc)

    def background(self, command: str, *, as_root: bool = False) -> SshBackgroundCommand:
        started = time.monotonic()
        deadline = started + self.settings.connect_timeout
        remote = self._start(command, as_root=as_root, deadline=deadline,
                             timeout=self.settings.connect_timeout)
        remote.wait_for_pids(deadline)
        return SshBackgroundCommand(self, command, remote, as_root, started)

    # --- files ---

    def push(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._transfer("push", source, destination, timeout)

    def pull(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._transfer("pull", source, destination, timeout)

    def _transfer(self, what: str, source: str, destination: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        move = sftp_push if what == "push" else sftp_pull
        where = (f"{source} to {self.address}:{destination}" if what == "push"
                 else f"{self.address}:{source} to {destination}")
        with self._sftp_lock:
            sftp = self._open_sftp(deadline, f"{what} {source} {destination}", timeout)
            try:
                move(sftp, source, destination, deadline)
            except (TransferExpired, TimeoutError):
                self._drop_sftp(sftp)
                raise CommandTimeoutError(f"{what} {source} {destination}", timeout) from None
            except (paramiko.SSHException, EOFError) as exc:
                self._drop_sftp(sftp)
                if self._live() is None:
                    raise TargetNotRespondingError(
                        f"{self.address} is not responding: the connection dropped during "
                        f"{what} of {where}") from None
                raise TargetError(f"cannot {what} {where}: {exc}") from None
            except OSError as exc:
                if self._live() is None:
                    self._drop_sftp(sftp)
                    raise TargetNotRespondingError(
                        f"{self.address} is not responding: the connection dropped during "
                        f"{what} of {where}") from None
                reason = exc.strerror or str(exc)
                name = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
                raise TargetError(f"cannot {what} {where}: {reason}{name}") from None

    def _open_sftp(self, deadline: float, what: str, timeout: float) -> paramiko.SFTPClient:
        """The SFTP session (opened once per connection), you holding ``_sftp_lock``."""
        sftp = self._sftp
        if sftp is not None and self._live() is not None \
                and sftp.get_channel().get_transport() is self._live():
            return sftp
        channel = self._open_channel(deadline, True, what, timeout)
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

    def _drop_sftp(self, sftp: paramiko.SFTPClient) -> None:
        self._sftp = None
        with contextlib.suppress(Exception):
            sftp.close()

    # --- power ---

    def reboot(self, *, hard: bool = False, timeout: float | None = None) -> None:
        """Reboot and wait until the board answers again (``boot_timeout`` by default).

        Soft: ``reboot_command`` as root, then wait for the link to drop (a
        board may go on answering for a moment). Hard: ``hard_reset_command``
        on this host (a relay, a smart plug); the link is dropped at once, since
        a board without power sends no goodbye.
        """
        limit = timeout or self.boot_timeout
        deadline = time.monotonic() + limit
        if hard:
            self._hard_reset()
        else:
            command = self.background(self.reboot_command, as_root=True)
            self._wait_for_drop(command, deadline, limit)
        self._come_back(deadline, limit)

    def _hard_reset(self) -> None:
        if not self.hard_reset_command:
            raise TargetError(f"{self.address}: no hard reset is configured (set "
                              "hard_reset_command to a command that power-cycles the board)")
        try:
            subprocess.run(self.hard_reset_command, shell=True, check=True, timeout=60,
                           stdin=subprocess.DEVNULL, capture_output=True)
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or b"").decode(errors="replace").strip()
            raise TargetError(f"{self.address}: hard_reset_command exited with code "
                              f"{exc.returncode}: {detail}") from None
        except (OSError, subprocess.SubprocessError) as exc:
            raise TargetError(f"{self.address}: hard_reset_command failed: {exc}") from None

    def _wait_for_drop(self, command: SshBackgroundCommand, deadline: float,
                       timeout: float) -> None:
        while time.monotonic() < deadline:
            if self._live() is None:
                return
            if command.finished:
                code = command.exit_code
                if code not in (None, 0, -1):
                    raise TargetError(f"{self.address}: {self.reboot_command!r} failed with "
                                      f"code {code}: {command.output.strip()}")
            if not self._probe(min(2.0, max(deadline - time.monotonic(), 0.01))):
                return
            command.done.wait(min(0.5, max(deadline - time.monotonic(), 0)))
        raise TargetError(f"{self.address}: the connection did not drop within {timeout:g} s "
                          f"of {self.reboot_command!r}")

    def _probe(self, timeout: float) -> bool:
        try:
            return self._run("true", timeout=timeout, cwd=False, reconnect=False).ok
        except TargetError:
            return False

    def _come_back(self, deadline: float, timeout: float) -> None:
        with self._lock:
            self._close_connection()
        last = "no answer"
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TargetNotRespondingError(
                    f"{self.address} is not responding: not back within {timeout:g} s of "
                    f"rebooting ({last})")
            try:
                connection = open_connection(self.settings,
                                             min(self.settings.connect_timeout, remaining))
            except ConnectFailure as exc:
                last = str(exc)
                time.sleep(min(1.0, max(deadline - time.monotonic(), 0)))
                continue
            with self._lock:
                self._connection = connection
            if self._probe(min(RESPONSIVE_TIMEOUT, max(deadline - time.monotonic(), 0.01))):
                break
        self._properties = None  # a new kernel may have booted
        self._recreate_working_directory()

    # --- facts ---

    @property
    def properties(self) -> TargetProperties:
        """uname, CPUs, hostname and model, read in one round trip and cached."""
        if self._properties is None:
            result = self._run(_PROPERTIES_COMMAND, timeout=SETUP_TIMEOUT, check=True, cwd=False)
            fields = result.stdout.split(_SEP)
            if len(fields) < 7:
                raise TargetError(f"{self.address}: unexpected output from the properties "
                                  f"command: {result.stdout!r}")
            system, kernel, machine, version, cpus, hostname, model = (
                f.strip() for f in fields[:7])
            self._properties = TargetProperties(
                os=system.lower(), kernel=kernel, abi=_ABIS.get(machine.lower(), machine),
                cpus=int(cpus) if cpus.isdigit() else 1, hostname=hostname, model=model,
                extra={"kernel_version": version, "arch": machine})
        return self._properties


class SshBackgroundCommand:
    """A command running on the target; its output is drained as it comes.

    Draining matters: a command whose output nobody reads blocks once the
    channel's window (2 MB) is full, and would stop doing its work.
    """

    def __init__(self, target: SshTarget, command: str, remote: RemoteCommand, as_root: bool,
                 started: float) -> None:
        self.command = command
        self._target = target
        self._remote = remote
        self._as_root = as_root
        self._started = started
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="pytest-wa-ssh-background",
                                        daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            self._remote.finish(None)
        finally:
            self.done.set()

    @property
    def pids(self) -> list[int]:
        """The process groups on the target (the root shell's last, through sudo)."""
        return list(self._remote.pids)

    @property
    def finished(self) -> bool:
        return self.done.is_set()

    @property
    def exit_code(self) -> int | None:
        return self._remote.exit_status if self.finished else None

    @property
    def output(self) -> str:
        return self._remote.stderr or self._remote.stdout

    def poll(self) -> int | None:
        if not self.finished:
            return None
        code = self._remote.exit_status
        if code is None:
            raise self._lost()
        return code

    def _lost(self) -> TargetNotRespondingError:
        return TargetNotRespondingError(
            f"{self._target.address} is not responding: the connection dropped while running "
            f"{self.command!r}")

    def _result(self, code: int) -> CommandResult:
        return CommandResult(self.command, code, self._remote.stdout, self._remote.stderr,
                             time.monotonic() - self._started)

    def wait(self, timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        if not self.done.wait(timeout):
            self.stop()
            raise CommandTimeoutError(self.command, timeout, self._remote.stdout)
        self._remote.close()
        code = self._remote.exit_status
        if code is None:
            raise self._lost()
        return self._result(code)

    def stop(self) -> CommandResult:
        """Kill the command's process groups on the target; exit code -1 if it was killed."""
        if not self.finished:
            self._target._kill_groups(self._remote.pids, as_root=self._as_root)
            if not self.done.wait(KILL_TIMEOUT):
                self._remote.close()
                self.done.wait(KILL_TIMEOUT)
        self._remote.close()
        code = self._remote.exit_status
        return self._result(-1 if code is None else code)
