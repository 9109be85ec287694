"""The kernel's ftrace, driven through tracefs files with one shell command at a time.

The ``trace-cmd`` instrument traces into a tracefs *instance* of its own
(``instances/<name>``: a ring buffer with its own events, switch and marker),
so nothing else that traces on the device (perfetto, atrace, another run) is
touched, and a job cannot inherit events left enabled by someone else. Every
step is a shell script run as root in one round trip: finding (or mounting)
tracefs before the first job, starting the trace before the workload, and
stopping it after, which also reads each CPU's ring-buffer statistics: how
many events were written and how many were lost.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: Starts the lines of facts the scripts print (no event or file content begins so).
FACT = "@@pytest-wa "
#: Written into the trace just after it starts and just before it stops (as WA3 does).
MARKER_START = "TRACE_MARKER_START"
MARKER_STOP = "TRACE_MARKER_STOP"
#: The smallest buffer ``buffer_size_step`` goes down to, in KB (WA3: 1 MB).
MIN_BUFFER_KB = 1000
#: So that tasks have names in the text trace (WA3/devlib: --cmdlines-size 4096).
SAVED_CMDLINES = 4096


@dataclass(frozen=True)
class Tracing:
    """What the device offers for tracing, as found before the first job."""

    root: bool
    path: str  # the tracefs mount point; "" when there is none
    mounted: bool  # whether the discovery mounted it
    trace_cmd: str  # the trace-cmd program on the device; "" when it has none
    instances: bool
    events: tuple[str, ...]  # "system:event", every event the kernel can trace
    tracers: tuple[str, ...] = ()
    missing_functions: tuple[str, ...] = ()
    functions_error: str = ""  # why the traceable functions could not be read


def discovery_script(functions: Sequence[str] = ()) -> str:
    """Find tracefs (mounting it at /sys/kernel/tracing when absent and root), trace-cmd,
    and the events; with ``functions``, the tracers and which functions cannot be traced."""
    lines = [
        "T=; while read -r _ dir type _; do",  # a mount hidden under another one is no use
        '  if [ "$type" = tracefs ] && [ -r "$dir/available_events" ]; then T=$dir; break; fi',
        "done < /proc/mounts",
        "M=; U=$(id -u)",
        'if [ -z "$T" ] && [ "$U" = 0 ]; then',
        "  if [ -d /sys/kernel/tracing ] && mount -t tracefs nodev /sys/kernel/tracing "
        "2>/dev/null; then T=/sys/kernel/tracing; M=1",
        "  elif [ -r /sys/kernel/debug/tracing/available_events ]; then "
        "T=/sys/kernel/debug/tracing; fi",
        "fi",
        f'echo "{FACT}uid=$U"; echo "{FACT}path=$T"; echo "{FACT}mounted=$M"',
        f'echo "{FACT}trace-cmd=$(command -v trace-cmd 2>/dev/null)"',
        '[ -n "$T" ] || exit 0',
        f'[ -d "$T/instances" ] && echo "{FACT}instances=1"',
    ]
    if functions:
        lines += [f'echo "{FACT}tracers=$(cat "$T/available_tracers" 2>/dev/null)"',
                  'F="$T/available_filter_functions"',
                  'if ! e=$(cat "$F" 2>&1 >/dev/null); then '
                  f'echo "{FACT}functions-error=$F: ${{e##*: }}"; else']
        lines.extend(f"  grep -qE {shlex.quote('^' + re.escape(name) + '( |$)')} \"$F\" || "
                     f"echo {shlex.quote(FACT + 'nofunction=' + name)}" for name in functions)
        lines.append("fi")
    lines.append('cat "$T/available_events" 2>/dev/null')
    return "\n".join(lines)


def parse_discovery(output: str) -> Tracing:
    facts: dict[str, str] = {}
    events: list[str] = []
    missing: list[str] = []
    for line in output.splitlines():
        if line.startswith(FACT):
            key, _, value = line[len(FACT):].partition("=")
            if key == "nofunction":
                missing.append(value)
            else:
                facts[key] = value.strip()
        elif ":" in line:
            events.append(line.strip())
    return Tracing(root=facts.get("uid") == "0", path=facts.get("path", ""),
                   mounted=facts.get("mounted") == "1", trace_cmd=facts.get("trace-cmd", ""),
                   instances=facts.get("instances") == "1", events=tuple(events),
                   tracers=tuple(facts.get("tracers", "").split()),
                   missing_functions=tuple(missing),
                   functions_error=facts.get("functions-error", ""))


def match_events(patterns: Iterable[str], available: Iterable[str]
                 ) -> tuple[list[str], list[str]]:
    """The ``system:event`` names the patterns select, and the patterns that select none.

    As trace-cmd's ``-e``: ``system:event`` (either part a glob), or one word
    matched against both event and system names (``sched*``, ``irq``,
    ``sched_switch``).
    """
    known = list(available)
    selected: dict[str, None] = {}
    unmatched = []
    for pattern in patterns:
        found = [name for name in known if _selects(pattern, name)]
        if not found:
            unmatched.append(pattern)
        selected.update(dict.fromkeys(found))
    return list(selected), unmatched


def _selects(pattern: str, name: str) -> bool:
    system, _, event = name.partition(":")
    if ":" in pattern:
        want_system, _, want_event = pattern.partition(":")
        return (fnmatch.fnmatchcase(system, want_system or "*")
                and fnmatch.fnmatchcase(event, want_event or "*"))
    return fnmatch.fnmatchcase(event, pattern) or fnmatch.fnmatchcase(system, pattern)


def _fail_function() -> str:
    return 'fail() { echo "$*" >&2; exit 1; }'


@dataclass(frozen=True)
class TraceSetup:
    """One job's trace: where, what, and how big."""

    tracefs: str
    instance: str
    events: tuple[str, ...]
    buffer_size: int | None = None
    buffer_size_step: int = 1000
    functions: tuple[str, ...] = ()

    @property
    def directory(self) -> str:
        return f"{self.tracefs}/instances/{self.instance}"


def start_script(setup: TraceSetup) -> str:
    """A fresh instance, its buffer size, events (and function filter), tracing on,
    then the start marker."""
    i = shlex.quote(setup.directory)
    lines = [_fail_function(), f"I={i}",
             '[ -d "$I" ] && rmdir "$I" 2>/dev/null',  # left by an interrupted job
             'mkdir "$I" || fail "cannot create the tracefs instance $I"',
             'echo 0 > "$I/tracing_on" || fail "cannot write $I/tracing_on"']
    if setup.buffer_size:
        lines += [f"s={setup.buffer_size}",
                  'until echo "$s" > "$I/buffer_size_kb" 2>/dev/null; do',
                  f"  s=$((s - {setup.buffer_size_step}))",
                  f'  [ "$s" -ge {MIN_BUFFER_KB} ] || fail "cannot set buffer_size_kb to '
                  f'{setup.buffer_size} (nor to any size down to {MIN_BUFFER_KB} in steps of '
                  f'{setup.buffer_size_step})"; done']
    cmdlines = shlex.quote(f"{setup.tracefs}/saved_cmdlines_size")
    lines.append(f'[ "$(cat {cmdlines} 2>/dev/null || echo {SAVED_CMDLINES})" -ge '
                 f"{SAVED_CMDLINES} ] || echo {SAVED_CMDLINES} > {cmdlines} 2>/dev/null")
    if setup.events:
        words = " ".join(shlex.quote(event) for event in setup.events)
        lines += [f"printf '%s\\n' {words} > \"$I/set_event\" || "
                  'fail "cannot enable the events in $I/set_event"',
                  'n=$(grep -c . "$I/set_event")',
                  f'[ "$n" = {len(setup.events)} ] || fail "only $n of {len(setup.events)} '
                  'events could be enabled"']
    if setup.functions:
        words = " ".join(shlex.quote(name) for name in setup.functions)
        lines += [f"printf '%s\\n' {words} > \"$I/set_ftrace_filter\" || "
                  'fail "cannot set the function filter $I/set_ftrace_filter"',
                  'echo function > "$I/current_tracer" || '
                  'fail "cannot select the function tracer in $I/current_tracer"']
    lines += ['echo 1 > "$I/tracing_on" || fail "cannot turn tracing on in $I"',
              f'echo {MARKER_START} > "$I/trace_marker"']
    return "\n".join(lines)


@dataclass(frozen=True)
class TraceStop:
    """What stopping a trace found: the files it left on the device and the counts."""

    instance: str
    tracing_on: bool  # whether tracing was still on at the end of the job
    entries: int  # events in the ring buffers, the markers included
    overrun: int  # events overwritten because the buffer was full
    dropped: int  # events dropped because the buffer was full (non-overwrite mode)
    files: dict[str, str] = field(default_factory=dict)  # artifact file -> device path

    @property
    def events(self) -> int:
        """Events the kernel wrote into the trace, the two markers left out."""
        markers = 2 if self.tracing_on else 1
        return max(0, self.entries + self.overrun - markers)

    @property
    def lost(self) -> int:
        return self.overrun + self.dropped


def stop_script(setup: TraceSetup, workdir: str, extract: str, report: str = "") -> str:
    """Stop marker, tracing off, the statistics, then ``extract`` (a command that writes the
    trace into ``workdir``) and ``report``; the instance is removed whatever happens."""
    w = shlex.quote(workdir)
    lines = [_fail_function(), f"I={shlex.quote(setup.directory)}; W={w}",
             'trap \'rmdir "$I" 2>/dev/null\' EXIT',
             'rm -f "$W/trace.dat" "$W/trace.txt"',
             '[ -d "$I" ] || fail "the tracefs instance $I was removed during the job"',
             'on=$(cat "$I/tracing_on")',
             f'[ "$on" = 1 ] && echo {MARKER_STOP} > "$I/trace_marker"',
             'echo 0 > "$I/tracing_on"',
             f'echo "{FACT}tracing_on=$on"',
             'cat "$I"/per_cpu/cpu*/stats']
    if setup.functions:
        lines.append('echo nop > "$I/current_tracer"')
    lines.append(extract)
    if report:
        lines.append(report)
    return "\n".join(lines)


def parse_stop(output: str, instance: str, files: dict[str, str]) -> TraceStop:
    """The facts ``stop_script`` printed: the switch, and each CPU's statistics summed."""
    sums = {"entries": 0, "overrun": 0, "dropped events": 0}
    tracing_on = False
    for line in output.splitlines():
        if line.startswith(FACT + "tracing_on="):
            tracing_on = line.rpartition("=")[2].strip() == "1"
            continue
        key, _, value = line.partition(":")
        if key in sums and value.strip().isdigit():
            sums[key] += int(value)
    return TraceStop(instance, tracing_on, sums["entries"], sums["overrun"], sums["dropped events"],
                     files)
