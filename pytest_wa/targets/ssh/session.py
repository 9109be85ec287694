"""One remote command on one SSH session channel, read as its output arrives.

fabric's ``Connection.run`` (invoke's runner) polls its streams with sleeps,
which costs milliseconds per command; here the channel's stdout and stderr
buffers wake the reader directly (paramiko sets an event whenever data or the
end of a stream arrives), so a short command costs little more than the
server's own work.

The command is wrapped (``remote_shell.with_pid_line``) so that its first
stdout line names its process group; the reader strips that line and keeps
the id, so that a command that runs past its timeout can be killed on the
target.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable

import paramiko

from ..remote_shell import PID_MARKER, split_pid_line

CHUNK = 1 << 16


class Watchdog:
    """Runs an action at a deadline unless disarmed first: one thread for all targets.

    paramiko's ``exec_command`` waits for the server's answer without a
    timeout; a hung server (alive enough to keep TCP open) would block the
    caller for good. Closing the channel at the deadline wakes it. One shared
    thread, woken only when a new deadline is earlier than the one it sleeps
    for, keeps this off the hot path (a ``threading.Timer`` per command would
    start a thread per command).
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._actions: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        self._wake_at = float("inf")
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, action: Callable[[], None]) -> int:
        with self._cv:
            token = next(self._ids)
            self._actions[token] = action
            heapq.heappush(self._heap, (deadline, token))
            while self._heap[0][1] not in self._actions:  # drop disarmed ones
                heapq.heappop(self._heap)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pytest-wa-ssh-watchdog",
                                                daemon=True)
                self._thread.start()
            elif deadline < self._wake_at:
                self._cv.notify()
            return token

    def disarm(self, token: int) -> None:
        with self._cv:
            self._actions.pop(token, None)

    def _run(self) -> None:
        with self._cv:
            while True:
                now = time.monotonic()
                due: list[Callable[[], None]] = []
                while self._heap and (self._heap[0][0] <= now
                                      or self._heap[0][1] not in self._actions):
                    _, token = heapq.heappop(self._heap)
                    action = self._actions.pop(token, None)
                    if action is not None:
                        due.append(action)
                if due:
                    self._cv.release()
                    try:
                        for action in due:
                            _quietly(action)
                    finally:
                        self._cv.acquire()
                    continue
                self._wake_at = self._heap[0][0] if self._heap else float("inf")
                self._cv.wait(None if not self._heap else self._wake_at - now)
                self._wake_at = float("inf")


def _quietly(action: Callable[[], None]) -> None:
    with contextlib.suppress(Exception):  # a failed close must not kill the watchdog
        action()


WATCHDOG = Watchdog()


class ExecRefused(Exception):
    """The server did not start the command (or did not answer before the deadline)."""

    def __init__(self, reason: str, *, timed_out: bool) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


def exec_command(channel: paramiko.Channel, command: str, deadline: float) -> None:
    """``channel.exec_command`` that gives up at ``deadline``."""
    token = WATCHDOG.arm(deadline, channel.close)
    try:
        channel.exec_command(command)
    except (paramiko.SSHException, EOFError, OSError) as exc:  # paramiko re-raises the
        # transport's own exception (EOFError, ConnectionResetError) if the link died
        raise ExecRefused(str(exc) or type(exc).__name__,
                          timed_out=time.monotonic() >= deadline) from None
    finally:
        WATCHDOG.disarm(token)


class RemoteCommand:
    """A command started on a channel: collects both streams and the exit status.

    ``pid_lines`` is how many wrapper lines (``with_pid_line``) precede the
    command's own output: 1 normally, 2 through sudo (the login shell's group
    and the root shell's group, which sudo may have put in a session of its own).
    """

    def __init__(self, channel: paramiko.Channel, pid_lines: int) -> None:
        self.channel = channel
        self.pids: list[int] = []
        self._expected = pid_lines
        self._head = b""
        self._stdout: list[bytes] = []
        self._stderr: list[bytes] = []
        self._wake = threading.Event()
        channel.in_buffer.set_event(self._wake)
        channel.in_stderr_buffer.set_event(self._wake)
        self._lock = threading.Lock()

    # --- reading ---

    def _drain(self) -> bool:
        """Read what is buffered; True once both streams have ended and been read."""
        channel = self.channel
        while True:
            ended = channel.eof_received or channel.closed  # read before the buffers
            read = False
            if channel.recv_ready():
                self._take_stdout(channel.recv(CHUNK))
                read = True
            if channel.recv_stderr_ready():
                self._stderr.append(channel.recv_stderr(CHUNK))
                read = True
            if not read:
                return ended

    def _take_stdout(self, data: bytes) -> None:
        if len(self.pids) >= self._expected:
            self._stdout.append(data)
            return
        self._head += data
        while len(self.pids) < self._expected:
            pid, rest = split_pid_line(self._head)
            if pid is None:
                if _may_become_pid_line(self._head):
                    return  # the line is not complete yet
                self._expected = len(self.pids)  # no (more) pid lines will come
                break
            self.pids.append(pid)
            self._head = rest
        if self._head:
            self._stdout.append(self._head)
        self._head = b""

    def wait_for_pids(self, deadline: float) -> bool:
        """Read until the wrapper's pid lines arrived (or the streams ended)."""
        with self._lock:
            while len(self.pids) < self._expected:
                if self._drain() and len(self.pids) < self._expected:
                    return False
                if len(self.pids) >= self._expected:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(remaining)
            return True

    def finish(self, deadline: float | None) -> bool:
        """Read both streams to their end and wait for the exit status.

        Returns False if ``deadline`` came first. Also returns (True) when the
        connection died: then ``exit_status`` is None and ``link_lost`` is True.
        """
        with self._lock:
            while not self._drain():
                if not self._wait(deadline, self._wake):
                    return False
            return self._wait(deadline, self.channel.status_event)

    @staticmethod
    def _wait(deadline: float | None, event: threading.Event) -> bool:
        if deadline is None:
            event.wait()
            return True
        remaining = deadline - time.monotonic()
        return remaining > 0 and event.wait(remaining)

    # --- results ---

    @property
    def exit_status(self) -> int | None:
        """The exit code; -1 if the command died of a signal; None if never reported."""
        if not self.channel.status_event.is_set():
            return None
        if self.channel.exit_status == -1 and self.link_lost:
            return None
        return int(self.channel.exit_status)

    @property
    def link_lost(self) -> bool:
        transport = self.channel.get_transport()
        return transport is None or not transport.is_active()

    @property
    def stdout(self) -> str:
        return b"".join([*self._stdout, self._head]).decode("utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode("utf-8", errors="replace")

    def close(self) -> None:
        self.channel.close()


def _may_become_pid_line(head: bytes) -> bool:
    """Whether ``head`` is the start of a pid line that has not fully arrived yet."""
    marker = PID_MARKER.encode()
    if b"\n" in head:
        return False
    if len(head) <= len(marker):
        return marker.startswith(head)
    return head.startswith(marker) and head[len(marker):].isdigit()
