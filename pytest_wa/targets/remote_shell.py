"""Running a shell command on a remote target so that it can be killed there.

Closing an SSH channel or an adb shell stream does not stop the command it
started (without a terminal nothing sends SIGHUP), so a command that hung past
its timeout would go on loading the device and skew the next measurement. Each
remote command therefore first prints the process id of the shell running it,
on a line of its own: both sshd and adbd start a command as a session leader,
so the id is also its process group, and a timeout kills the whole group on
the target.
"""

from __future__ import annotations

PID_MARKER = "__pytest_wa_pid="
#: The exit status every POSIX shell (sh, mksh, toybox, busybox) gives a missing command.
COMMAND_NOT_FOUND = 127
#: How long killing a command's process group on the target may take.
KILL_TIMEOUT = 10.0


def with_pid_line(command: str) -> str:
    """``command`` preceded by a line naming the process id of the shell that runs it.

    The command runs in that same shell (no second ``sh -c``: one process
    start less per command, a millisecond on a phone).
    """
    return f"echo {PID_MARKER}$$; {command}"


def split_pid_line(stdout: bytes) -> tuple[int | None, bytes]:
    """The process id from a wrapped command's output, and the output without it.

    Returns ``(None, stdout)`` while the first line is not complete yet.
    """
    marker = PID_MARKER.encode()
    if not stdout.startswith(marker):
        return None, stdout
    end = stdout.find(b"\n")
    if end < 0:
        return None, stdout
    try:
        pid = int(stdout[len(marker):end])
    except ValueError:
        return None, stdout
    return pid, stdout[end + 1:]


def kill_command(pid: int) -> str:
    """A shell command that kills process group ``pid`` (and the process, if no group).

    TERM first, KILL a moment later for whatever ignored it. The KILL waits in
    the background, so a stop costs one round trip, not 200 ms more: instruments
    stop background samplers on every job.
    """
    # "kill -SIG -PGID": dash, bash, busybox and toybox all take it ("--" breaks dash).
    return (f"kill -TERM -{pid} 2>/dev/null || kill -TERM {pid} 2>/dev/null; "
            f"(sleep 0.2; kill -KILL -{pid} 2>/dev/null || kill -KILL {pid} 2>/dev/null) "
            ">/dev/null 2>&1 </dev/null & true")
