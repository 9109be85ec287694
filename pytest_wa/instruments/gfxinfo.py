"""Reading ``dumpsys gfxinfo <package> framestats``: Android's own frame counts, and each frame.

The output has two parts the ``fps`` instrument reads. The process's summary
(``** Graphics info for pid N [package] **``, then ``Stats since: Tns``,
``Total frames rendered``, ``Janky frames: N (P%)``, the ``Nth percentile: Xms``
lines and the ``Number <reason>: N`` counts) covers every frame since the stats
were last reset. Each window's ``---PROFILEDATA---`` block is a CSV of its last
120 frames (a header of column names, each field followed by a comma), times in
nanoseconds of the device's monotonic clock; a row whose ``Flags`` is not 0 is
not a normal frame (a changed layout, the first frame of a window). Columns are
found by name: Android 6 has 14, Android 7 added the buffer durations, Android
12 the frame timeline ids and deadlines, and so on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

PROFILEDATA = "---PROFILEDATA---"
NO_PROCESS = "No process found for:"
SUMMARY_END = "Profile data in ms:"
_PERCENTILE = re.compile(r"^(\d+)th( gpu)? percentile: (\d+)ms$")
_JANKY = re.compile(r"^Janky frames: (\d+) \(([\d.]+)%\)$")
_NUMBER = re.compile(r"^Number ([A-Za-z ]+): (\d+)$")
_WINDOW = re.compile(r"^\t(.+) \(visibility=\d+\)$")
_HEADER = re.compile(r"^\*\* Graphics info for pid (\d+) \[(.+)\] \*\*$")


@dataclass(frozen=True)
class Frame:
    """One row of a window's framestats: each column's value (nanoseconds but ``Flags``)."""

    window: str
    values: dict[str, int]

    @property
    def flags(self) -> int:
        return self.values.get("Flags", 0)

    @property
    def intended_vsync(self) -> int:
        return self.values["IntendedVsync"]

    @property
    def frame_completed(self) -> int:
        return self.values["FrameCompleted"]

    @property
    def duration(self) -> int:
        """From the vsync the frame was meant for to its completion: its render time."""
        return self.frame_completed - self.intended_vsync


@dataclass
class GfxinfoDump:
    """What one ``dumpsys gfxinfo`` printed about one app."""

    package: str | None = None
    #: The device's uptime in milliseconds when it printed (the clock of the frames).
    uptime_ms: int | None = None
    #: When the summary's counts started (its last reset), device nanoseconds.
    stats_since: int | None = None
    #: The summary's numbers under WA3's metric names (janks, render_time_90th_ptile...).
    summary: dict[str, float] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    #: ``No process found for: PACKAGE``: the app was not running.
    no_process: bool = False


def parse_gfxinfo(text: str) -> GfxinfoDump:
    """One dump's summary and frames; a dump of an app that is not running has neither."""
    dump = GfxinfoDump()
    lines = text.replace("\r\n", "\n").split("\n")
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(NO_PROCESS):
            dump.no_process = True
            dump.package = stripped[len(NO_PROCESS):].strip() or None
        elif stripped.startswith("Uptime: "):
            dump.uptime_ms = int(stripped.split()[1])
    _read_summary(dump, lines)
    for columns, frame in _profile_rows(lines):
        if not dump.columns:
            dump.columns = columns
        dump.frames.append(frame)
    return dump


def _read_summary(dump: GfxinfoDump, lines: list[str]) -> None:
    """The process's summary: from its ``** Graphics info`` line to ``Profile data in ms``."""
    inside = False
    for line in lines:
        stripped = line.strip()
        header = _HEADER.match(stripped)
        if header:
            dump.package, inside = header.group(2), True
        elif stripped == SUMMARY_END:
            return
        elif inside:
            _summary_line(dump, stripped)


def _summary_line(dump: GfxinfoDump, line: str) -> None:
    if line.startswith("Stats since: ") and line.endswith("ns"):
        dump.stats_since = int(line[len("Stats since: "):-2])
    elif line.startswith("Total frames rendered: "):
        dump.summary["total_frames_rendered"] = int(line.rsplit(" ", 1)[1])
    elif match := _JANKY.match(line):
        dump.summary["janks"] = int(match.group(1))
        dump.summary["janks_pc"] = float(match.group(2))
    elif match := _PERCENTILE.match(line):
        prefix = "gpu_render_time" if match.group(2) else "render_time"
        dump.summary[f"{prefix}_{match.group(1)}th_ptile"] = int(match.group(3))
    elif match := _NUMBER.match(line):
        dump.summary[match.group(1).strip().lower().replace(" ", "_")] = int(match.group(2))


def _profile_rows(lines: list[str]) -> Iterator[tuple[list[str], Frame]]:
    """Every row of every window's PROFILEDATA block, with the block's columns."""
    window = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        if found := _WINDOW.match(line):
            window = found.group(1)
        elif line.startswith("Window: "):
            window = window or line[len("Window: "):].strip()
        elif line.strip() == PROFILEDATA and index + 1 < len(lines):
            columns = _fields(lines[index + 1])
            index += 2
            while index < len(lines) and lines[index].strip() != PROFILEDATA:
                values = _fields(lines[index])
                if len(values) == len(columns) and all(_is_int(v) for v in values):
                    yield columns, Frame(window, dict(zip(columns, map(int, values),
                                                          strict=True)))
                index += 1
        index += 1


def _is_int(text: str) -> bool:
    """A row cut short (a read interrupted) or a stray line is not a frame."""
    return text.lstrip("-").isdigit()


def _fields(line: str) -> list[str]:
    """A CSV line whose every field ends with a comma: its fields."""
    fields = line.strip().split(",")
    return fields[:-1] if fields and fields[-1] == "" else fields


def job_frames(dumps: Iterable[GfxinfoDump], since: int | None) -> list[Frame]:
    """The frames of all dumps, each once, in order; none from before ``since`` (a device
    whose reset keeps older frames in the ring still has only the job's counted)."""
    seen: dict[tuple[str, int], Frame] = {}
    for dump in dumps:
        for frame in dump.frames:
            if since is not None and frame.intended_vsync < since:
                continue
            seen.setdefault((frame.window, frame.intended_vsync), frame)
    return sorted(seen.values(), key=lambda frame: (frame.intended_vsync, frame.window))


def frame_rate(frames: list[Frame]) -> float | None:
    """Frames per second over the normal frames' vsyncs: n frames span n-1 intervals."""
    normal = [frame.intended_vsync for frame in frames if frame.flags == 0]
    if len(normal) < 2 or normal[-1] == normal[0]:
        return None
    return (len(normal) - 1) * 1e9 / (normal[-1] - normal[0])
