"""The SSH target: a Linux board reached over SSH (fabric 3 / paramiko).

The target puts together the pieces of this package: one persistent
connection (``link``), commands on channels of their own (``commands``),
SFTP copies (``files``), reboots (``reboot``) and the board's facts
(``properties``). What it keeps itself is what a run sees: the board's name
and address, and the run's working directory on it.
"""

from __future__ import annotations

import contextlib
import getpass
import shlex
import time

from ...model.errors import TargetError
from ..base import DEFAULT_TIMEOUT, CommandResult, TargetProperties
from ..values import ShellValues
from . import reboot as rebooting
from .background import SshBackgroundCommand
from .commands import RESPONSIVE_TIMEOUT, SETUP_TIMEOUT, SUDO_CMD, SshShell
from .connect import Secret, SshSettings
from .files import transfer
from .link import SshLink
from .properties import PROPERTIES_COMMAND, parse_properties


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
        self.hard_reset_command = hard_reset_command
        self.boot_timeout = boot_timeout
        self._base_directory = working_directory
        self._executables_directory = executables_directory
        self.working_directory = ""
        self.executables_directory = executables_directory or ""
        self._link = SshLink(self.settings, on_reconnect=self._recreate_working_directory)
        self._shell = SshShell(self._link, sudo_cmd)
        self._properties: TargetProperties | None = None
        self._absent_at_connect: dict[str, str] = {}  # facts the login could not tell

    def __repr__(self) -> str:
        return f"<SshTarget {self.name!r} {self.address}>"

    @property
    def address(self) -> str:
        """``ssh user@host:port``: how messages name this device."""
        return self.settings.address

    @property
    def sudo_cmd(self) -> str:
        """How ``as_root`` becomes root when the login user is not (``{}``: the command)."""
        return self._shell.sudo_cmd

    @sudo_cmd.setter
    def sudo_cmd(self, value: str) -> None:
        self._shell.sudo_cmd = value

    @property
    def can_hard_reset(self) -> bool:
        """Whether ``reboot(hard=True)`` can power-cycle the board (HardReset)."""
        return bool(self.hard_reset_command)

    # --- connection ---

    def connect(self) -> None:
        """Log in, learn whether we are root, and create this run's working directory."""
        if not self._link.open():
            return
        try:
            self._setup()
        except BaseException:
            self.disconnect()
            raise

    def _setup(self) -> None:
        """Create the working directory (the run needs it) and learn whether we are root
        (only ``as_root`` needs that, so a board without ``id`` is warned about, no more)."""
        base = shlex.quote(self._base_directory) if self._base_directory else '"${TMPDIR:-/tmp}"'
        make_bin = "" if self._executables_directory else ' && mkdir -p "$d/bin"'
        result = self._shell.run(
            f'echo "uid=$(id -u)"; mkdir -p {base} && d=$(mktemp -d {base}/pytest-wa-run-XXXXXX)'
            f'{make_bin} && echo "dir=$d"', timeout=SETUP_TIMEOUT)
        said = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        if not result.ok or not said.get("dir"):
            raise TargetError(f"{self.address}: cannot create a working directory: "
                              f"{(result.stderr or result.stdout).strip()}")
        uid = said.get("uid", "")
        if not uid.isdigit():
            self._absent_at_connect["uid"] = (f"`id -u` gave no user id; as_root commands go "
                                              f"through {self.sudo_cmd!r}")
        self._shell.is_root = uid == "0"
        self.working_directory = said["dir"]
        self.executables_directory = self._executables_directory or f"{said['dir']}/bin"

    def disconnect(self) -> None:
        """Remove the working directory (if the board still answers) and close the link."""
        with self._link.lock:
            if self.working_directory and self._link.live():
                with contextlib.suppress(TargetError):
                    self._shell.run(f"rm -rf {shlex.quote(self.working_directory)}",
                                    timeout=30, reconnect=False)
            self.working_directory = ""
            self._link.close()

    def is_responsive(self) -> bool:
        """Whether a quick ``true`` comes back (reconnecting once if the link had died)."""
        if not self._link.connected:
            return False
        try:
            return self._shell.run("true", timeout=RESPONSIVE_TIMEOUT).ok
        except TargetError:
            return False

    def _recreate_working_directory(self) -> None:
        """After a reboot /tmp may be empty again: make sure our directories exist."""
        if self.working_directory:
            directories = " ".join(shlex.quote(d) for d in
                                   {self.working_directory, self.executables_directory} if d)
            with contextlib.suppress(TargetError):
                self._shell.run(f"mkdir -p {directories}", timeout=SETUP_TIMEOUT,
                                reconnect=False)

    # --- commands ---

    def execute(self, command: str, *, timeout: float = DEFAULT_TIMEOUT, as_root: bool = False,
                check: bool = False) -> CommandResult:
        return self._shell.run(command, timeout=timeout, as_root=as_root, check=check,
                               cwd=self.working_directory)

    def background(self, command: str, *, as_root: bool = False) -> SshBackgroundCommand:
        return self._shell.background(command, as_root=as_root, cwd=self.working_directory)

    # --- files ---

    def push(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        transfer(self._link, "push", source, destination, timeout)

    def pull(self, source: str, destination: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        transfer(self._link, "pull", source, destination, timeout)

    # --- power ---

    def reboot(self, *, hard: bool = False, timeout: float | None = None) -> None:
        """Reboot and wait until the board answers again (``boot_timeout`` by default).

        Soft: ``reboot_command`` as root, then wait for the link to drop. Hard:
        ``hard_reset_command`` on this host (see ``reboot.py``).
        """
        limit = timeout or self.boot_timeout
        deadline = time.monotonic() + limit
        if hard:
            rebooting.hard_reset(self.address, self.hard_reset_command)
        else:
            command = self.background(self.reboot_command, as_root=True)
            rebooting.wait_for_drop(self._link, self._probe, command, deadline, limit)
        rebooting.wait_until_back(self._link, self._probe, deadline, limit)
        self._properties = None  # a new kernel may have booted
        self._recreate_working_directory()

    def _probe(self, timeout: float) -> bool:
        try:
            return self._shell.run("true", timeout=timeout, reconnect=False).ok
        except TargetError:
            return False

    # --- facts ---

    @property
    def properties(self) -> TargetProperties:
        """uname, CPUs, hostname and model, read in one round trip and cached; what the
        board cannot tell is recorded as absent (the run names it in run.log)."""
        if self._properties is None:
            result = self._shell.run(PROPERTIES_COMMAND, timeout=SETUP_TIMEOUT)
            facts = parse_properties(result.stdout, result.stderr)
            facts.absent.update(self._absent_at_connect)
            self._properties = facts
        return self._properties
