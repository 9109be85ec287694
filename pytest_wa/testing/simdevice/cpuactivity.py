"""How the simulated CPUs spend their time: frequencies and idle states that follow the load.

The device's load is what its own commands use: the CPU time of the device
process's descendants (from /proc, walked through each task's ``children``),
so a ``sleep`` leaves the device idle and a busy loop keeps one of its CPUs
busy, whatever else runs on this host. That time is put on the CPUs from the
highest-numbered one down (a scheduler moves heavy tasks to the big cores).
A kernel without /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN) gives the
host's load instead: device CPU n is as busy as host CPU n mod (host CPUs).
At every tick:

- each cpufreq policy adds the elapsed time to its current frequency
  (``stats/time_in_state``, in the kernel's 10 ms units), then its governor
  picks the next frequency: ``performance`` the highest allowed, ``powersave``
  the lowest, ``userspace`` ``scaling_setspeed``, any other schedutil's rule
  (1.25 x the busiest CPU's load x the highest frequency, rounded up to the
  table), always within ``scaling_min_freq``..``scaling_max_freq``. A change
  of frequency counts in ``stats/total_trans``.
- each online CPU's idle part of the tick is shared among its enabled idle
  states (``disable`` 0), deeper states getting longer stays: ``time`` grows
  in microseconds, ``usage`` by one per stay. A CPU with every state disabled
  polls: its idle time is counted nowhere, as on a kernel.

Files are replaced, never rewritten in place, so a reader never sees one half
written; fractions of a unit are carried over to the next tick.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

HOST_STAT = "/proc/stat"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: schedutil's margin: a CPU at 80% load asks for the highest frequency.
HEADROOM = 1.25
#: Of a CPU's idle time, the share of each idle state (by index) while all are enabled...
IDLE_SHARES = (0.2, 0.5, 0.3)
#: ...and how long one stay in it lasts, in seconds.
STAY_SECONDS = (0.0005, 0.004, 0.02)


@dataclass
class _Clock:
    """What one device's ticks remember: CPU times at the last tick, and fractions of units."""

    commands_time: int | None = None  # clock ticks used by the device's commands
    host_times: dict[int, tuple[int, int]] = field(default_factory=dict)
    carry: dict[str, float] = field(default_factory=dict)

    def busy(self, cpus: list[int], seconds: float) -> dict[int, float]:
        """Each online CPU's busy fraction (0..1) since the last tick."""
        if seconds <= 0:
            return dict.fromkeys(cpus, 0.0)
        used = _commands_time(os.getpid())
        if used is None:  # no children files: the host's load
            host = self._host_busy()
            return {cpu: host[cpu % len(host)] if host else 0.0 for cpu in cpus}
        last, self.commands_time = self.commands_time, used
        left = max(used - last, 0) / CLOCK_TICKS if last is not None else 0.0
        fractions = {}
        for cpu in sorted(cpus, reverse=True):
            fractions[cpu] = min(left / seconds, 1.0)
            left = max(left - seconds, 0.0)
        return fractions

    def _host_busy(self) -> list[float]:
        """Each host CPU's busy fraction since the last call (0 at the first)."""
        busy: list[float] = []
        for cpu, (total, idle) in sorted(_host_cpu_times().items()):
            last_total, last_idle = self.host_times.get(cpu, (total, idle))
            elapsed = total - last_total
            busy.append(min(max(1 - (idle - last_idle) / elapsed, 0.0), 1.0) if elapsed > 0
                        else 0.0)
            self.host_times[cpu] = (total, idle)
        return busy

    def add(self, key: str, value: int, amount: float) -> int:
        """``value`` plus ``amount``, the fraction left over kept for the next tick."""
        exact = self.carry.get(key, 0.0) + amount
        whole = int(exact)
        self.carry[key] = exact - whole
        return value + whole


_CLOCKS: dict[str, _Clock] = {}
#: A policy's file by name (None where it does not exist).
_Files = Callable[[str], "str | None"]


def advance(cpu_root: str, seconds: float) -> None:
    """Advance the statistics under ``cpu_root`` (the device's /sys/devices/system/cpu)."""
    clock = _CLOCKS.setdefault(cpu_root, _Clock())
    online = [int(name[3:]) for name in os.listdir(cpu_root)
              if name.startswith("cpu") and name[3:].isdigit() and _online(cpu_root, int(name[3:]))]
    busy = clock.busy(online, seconds)
    policies = os.path.join(cpu_root, "cpufreq")
    for name in sorted(os.listdir(policies)) if os.path.isdir(policies) else ():
        if name.startswith("policy"):
            _advance_policy(clock, os.path.join(policies, name), busy, seconds)
    for cpu in online:
        _advance_idle(clock, os.path.join(cpu_root, f"cpu{cpu}", "cpuidle"),
                      seconds * (1 - busy[cpu]))


def _commands_time(device: int) -> int | None:
    """Clock ticks used by every descendant of the device process, live or reaped.

    Each tick is in exactly one place: a live process's own utime/stime, or
    the cutime/cstime of the live process (or the device) that reaped it.
    None where the kernel has no /proc/PID/task/TID/children.
    """
    if not os.path.exists(f"/proc/{device}/task/{device}/children"):
        return None
    own = _stat_times(device)
    total = own[2] + own[3] if own else 0
    pending, seen = _children(device), {device}
    while pending:
        pid = pending.pop()
        times = _stat_times(pid) if pid not in seen else None
        seen.add(pid)
        if times is not None:
            total += sum(times)
            pending.extend(_children(pid))
    return total


def _stat_times(pid: int) -> tuple[int, int, int, int] | None:
    """utime, stime, cutime, cstime of a process (None once it is gone)."""
    text = _read(f"/proc/{pid}/stat")
    fields = text.rpartition(")")[2].split() if text else []
    if len(fields) < 15:
        return None
    return int(fields[11]), int(fields[12]), int(fields[13]), int(fields[14])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return found
    for task in tasks:
        found.extend(int(child) for child in
                     (_read(f"/proc/{pid}/task/{task}/children") or "").split())
    return found


def _host_cpu_times() -> dict[int, tuple[int, int]]:
    """(total, idle) jiffies of each host CPU, from the ``cpuN`` lines of /proc/stat."""
    times: dict[int, tuple[int, int]] = {}
    for line in (_read(HOST_STAT) or "").splitlines():
        words = line.split()
        if not (words and words[0].startswith("cpu") and words[0][3:].isdigit()):
            continue
        counts = [int(word) for word in words[1:9]]  # user .. steal (guest is in user)
        times[int(words[0][3:])] = (sum(counts), counts[3] + counts[4])  # idle + iowait
    return times


def _online(cpu_root: str, cpu: int) -> bool:
    state = _read(os.path.join(cpu_root, f"cpu{cpu}", "online"))
    return state != "0"  # no file: a CPU that cannot go offline (cpu0)


def _advance_policy(clock: _Clock, policy: str, busy: dict[int, float], seconds: float) -> None:
    """Account ``seconds`` to the current frequency, then let the governor choose."""
    def value(name: str) -> str | None:
        return _read(os.path.join(policy, name))

    current, table = _integer(value("scaling_cur_freq")), _time_in_state(value)
    if current is None or table is None or current not in table:
        return
    path = os.path.join(policy, "stats", "time_in_state")
    table[current] = clock.add(f"{path}:{current}", table[current], seconds * 100)
    _replace(path, "\n".join(f"{freq} {units}" for freq, units in table.items()))
    cpus = [int(cpu) for cpu in (value("related_cpus") or "").split() if cpu.isdigit()]
    load = max((busy[cpu] for cpu in cpus if cpu in busy), default=0.0)
    low, high = _integer(value("scaling_min_freq")), _integer(value("scaling_max_freq"))
    allowed = [freq for freq in table if (low or 0) <= freq <= (high or freq)] or [current]
    chosen = _governed(value("scaling_governor"), allowed, list(table), current,
                       _integer(value("scaling_setspeed")), load)
    if chosen != current:
        transitions = _integer(value("stats/total_trans")) or 0
        _replace(os.path.join(policy, "stats", "total_trans"), str(transitions + 1))
        for name in ("scaling_cur_freq", "cpuinfo_cur_freq"):
            _replace(os.path.join(policy, name), str(chosen))


def _time_in_state(value: _Files) -> dict[int, int] | None:
    """stats/time_in_state as {kHz: 10 ms units}, in the table's order; None if unreadable."""
    text = value("stats/time_in_state")
    if not text:
        return None
    table: dict[int, int] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) != 2 or not (words[0].isdigit() and words[1].isdigit()):
            return None
        table[int(words[0])] = int(words[1])
    return table


def _governed(governor: str | None, allowed: list[int], table: list[int], current: int,
              setspeed: int | None, load: float) -> int:
    """The frequency ``governor`` picks among ``allowed`` (ascending) for ``load`` (0..1)."""
    if governor == "performance":
        return allowed[-1]
    if governor == "powersave":
        return allowed[0]
    if governor == "userspace":
        wanted = setspeed if setspeed is not None else current
    elif governor in ("schedutil", "ondemand", "conservative", "interactive"):
        wanted = int(HEADROOM * load * table[-1])
    else:  # being written, or a governor this device does not know: stay
        return current
    return next((freq for freq in allowed if freq >= wanted), allowed[-1])


def _advance_idle(clock: _Clock, cpuidle: str, idle_seconds: float) -> None:
    """Share ``idle_seconds`` among the enabled idle states under ``cpuidle``."""
    if idle_seconds <= 0 or not os.path.isdir(cpuidle):
        return
    states = sorted((int(name[5:]), os.path.join(cpuidle, name)) for name in os.listdir(cpuidle)
                    if name.startswith("state") and name[5:].isdigit())
    enabled = [(index, path) for index, path in states
               if _read(os.path.join(path, "disable")) in ("0", None)]
    weights = {index: IDLE_SHARES[index] if index < len(IDLE_SHARES) else 0.1
               for index, _ in enabled}
    total = sum(weights.values())
    for index, path in enabled:
        seconds = idle_seconds * weights[index] / total
        stay = STAY_SECONDS[index] if index < len(STAY_SECONDS) else STAY_SECONDS[-1]
        for name, amount in (("time", seconds * 1e6), ("usage", seconds / stay)):
            file = os.path.join(path, name)
            old = _integer(_read(file))
            if old is not None:
                _replace(file, str(clock.add(file, old, amount)))


def _read(path: str) -> str | None:
    """A small file's text (os-level calls: this runs a hundred times per tick)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, ProcessLookupError):  # gone, or a process that just ended
        return None
    try:
        return os.read(descriptor, 65536).decode("ascii", "replace").strip()
    except ProcessLookupError:
        return None
    finally:
        os.close(descriptor)


def _integer(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None


def _replace(path: str, text: str) -> None:
    """Write ``path`` whole, as root's 0644 file, through a dot-file the globs skip."""
    directory, name = os.path.split(path)
    temporary = os.path.join(directory, f".{name}.tick")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.fchmod(descriptor, 0o644)  # whatever the umask
        os.write(descriptor, (text + "\n").encode("ascii"))
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
