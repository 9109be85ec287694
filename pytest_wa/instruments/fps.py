"""``fps``: an app's frame rate and frame statistics while the workload runs (WA3's instrument).

Android counts every frame an app draws (``dumpsys gfxinfo``): how many, how
many were janky, the render-time percentiles and why frames were slow, since
the counts were last reset; and it keeps each window's last 120 frames with
their timestamps (``framestats``). So the instrument resets the app's counts
just before the workload runs, reads framestats every ``period`` seconds in a
loop on the device (a ring of 120 frames lasts two seconds at 60 Hz, one at
120 Hz), and once more when the workload is done: four commands per job,
whatever its length. The frame rate comes from the frames' own vsync times;
the counts and percentiles are Android's.

The app is the workload's ``package`` (app_launch has one); for a workload
without one, name it with the ``package`` parameter.
"""

from __future__ import annotations

import csv
import shlex
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..model.errors import ConfigError, InstrumentError
from ..model.parameters import Parameter, boolean, number, string
from ..targets.protocols import Packages
from .availability import OPTIONAL, InstrumentUnavailable
from .base import Instrument, Priority
from .gfxinfo import Frame, GfxinfoDump, frame_rate, job_frames, parse_gfxinfo
from .reading import BackgroundSampler

if TYPE_CHECKING:
    from ..plugins.context import JobContext
    from ..targets.protocols import Target

#: gfxinfo's framestats exist from Android 6 on.
MIN_SDK = 23
#: A shorter stretch of frames says nothing about a crash (an app just launched drew a few).
CRASH_WINDOW_NS = 1_000_000_000
COUNTS = ("janks", "missed_vsync", "high_input_latency", "slow_ui_thread",
          "slow_bitmap_uploads", "slow_issue_draw_commands", "slow_draw",
          "frame_deadline_missed")


class Fps(Instrument):
    name = "fps"
    description = """Frame rate and frame statistics of the workload's app (gfxinfo).

    Metrics: fps, total_frames, janks, janks_pc, render_time_50th/90th/95th/99th_ptile
    (ms), Android's counts of slow frames by cause; frames.csv holds every frame."""
    priority = Priority.NORMAL
    parameters = (
        Parameter("drop_threshold", number, 5,
                  "Frames whose own rate (one second over their render time) is below this "
                  "are left out of fps.csv (loading screens, menus)."),
        Parameter("keep_raw", boolean, False,
                  "Keep every dumpsys gfxinfo output read during the job, as frames.csv.raw."),
        Parameter("crash_threshold", number, 0.7,
                  "When the frames counted over at least a second are fewer than this share "
                  "of those expected at the measured rate (or the app is gone at the end), "
                  "the app's content is taken to have crashed: the job is PARTIAL. 0: no "
                  "check."),
        Parameter("period", number, 1,
                  "Seconds between two reads of the frames while the workload runs; Android "
                  "keeps only each window's last 120 frames."),
        Parameter("force_surfaceflinger", boolean, False,
                  "WA3's SurfaceFlinger method for Android 5 and older; pytest-wa reads "
                  "gfxinfo only, so true is refused."),
        Parameter("package", string, None,
                  "The app to measure when the workload has no package of its own "
                  "(a pytest-wa addition)."),
        OPTIONAL,
    )

    drop_threshold: float
    keep_raw: bool
    crash_threshold: float
    period: float
    force_surfaceflinger: bool
    package: str | None

    def check(self, target: Target) -> None:
        if self.force_surfaceflinger:
            raise ConfigError("instrument 'fps': force_surfaceflinger: true is not supported; "
                              "pytest-wa reads frames with dumpsys gfxinfo (Android 6 and "
                              "later)")
        if self.period <= 0:
            raise ConfigError(f"instrument 'fps': period must be more than 0 seconds, got "
                              f"{self.period:g}")
        if not isinstance(target, Packages):
            raise InstrumentUnavailable(
                "it reads an app's frames with Android's dumpsys gfxinfo, and this device "
                "runs no Android apps (it lacks the Packages ability of an Android device)")
        sdk = target.properties.extra.get("sdk")
        if isinstance(sdk, int) and sdk < MIN_SDK:
            raise InstrumentUnavailable(
                f"dumpsys gfxinfo framestats needs Android 6 (API level {MIN_SDK}) or later, "
                f"and this device has API level {sdk}")

    @pytest.hookimpl(wrapper=True)
    def pytest_wa_job_execute(self, job: JobContext) -> Generator[None, None, None]:
        self._dumps: list[str] = []
        package = shlex.quote(self._package(job))
        target = job.target
        target.execute(f"dumpsys gfxinfo {package} reset", timeout=30, check=True)
        sampler = BackgroundSampler(target, f"dumpsys gfxinfo {package} framestats",
                                    self.period)
        try:
            return (yield)
        finally:
            self._dumps = [text for _, text in sampler.stop()]
            self._dumps.append(target.execute(f"dumpsys gfxinfo {package} framestats",
                                              timeout=30, check=True).stdout)

    def pytest_wa_job_extract_results(self, job: JobContext) -> None:
        dumps = getattr(self, "_dumps", [])
        if not dumps:
            return  # the execute stage did not start it (its failure is already told)
        self._dumps = []
        package = self._package(job)
        parsed = [parse_gfxinfo(text) for text in dumps]
        if self.keep_raw:
            self._save_raw(job, dumps)
        counted = [dump for dump in parsed if not dump.no_process and dump.stats_since]
        if not counted:
            raise InstrumentError(f"{package} was not running while the workload ran "
                                  "(dumpsys gfxinfo: no process): no frames to measure")
        last = counted[-1]
        frames = job_frames(counted, last.stats_since)
        self._save_frames(job, frames, last.columns)
        self._report(job, package, frames, last)
        reason = self._crashed(package, frames, last, parsed[-1])
        if reason:
            raise InstrumentError(reason)

    def _package(self, job: JobContext) -> str:
        """The workload's app, else the one configured; refused when there is neither."""
        package = getattr(job.workload, "package", None) or self.package
        if not isinstance(package, str) or not package:
            raise InstrumentError(
                f"the workload {job.spec.workload_name!r} has no package: name the app to "
                "measure with the fps parameter package (config: {fps: {package: NAME}})")
        return package

    def _report(self, job: JobContext, package: str, frames: list[Frame],
                last: GfxinfoDump) -> None:
        """WA3's metrics: the rate and count of the job's frames, Android's own statistics."""
        normal = [frame for frame in frames if frame.flags == 0]
        if not normal:
            raise InstrumentError(f"{package} drew no frames while the workload ran "
                                  "(dumpsys gfxinfo framestats had none)")
        fps = frame_rate(frames)
        if fps is None:
            job.add_event(f"fps: {package} drew one frame only: no frame rate")
        else:
            job.add_metric("fps", fps, "fps")
        job.add_metric("total_frames", len(normal), "frames")
        for name, value in last.summary.items():
            if name == "total_frames_rendered":
                continue
            units = "percent" if name == "janks_pc" else \
                "time_ms" if name.endswith("_ptile") else "count"
            job.add_metric(name, value, units, lower_is_better=True)
        self._note_lost(job, package, frames, last)

    @staticmethod
    def _note_lost(job: JobContext, package: str, frames: list[Frame],
                   last: GfxinfoDump) -> None:
        """Android counted more frames than were read: its ring overflowed between reads."""
        counted = last.summary.get("total_frames_rendered")
        if counted is not None and counted > len(frames):
            job.add_event(f"fps: at least {int(counted) - len(frames)} of the {int(counted)} "
                          f"frames Android counted for {package} were not read (it keeps a "
                          "window's last 120 frames): fps and frames.csv miss them; lower "
                          "period")

    def _crashed(self, package: str, frames: list[Frame], last: GfxinfoDump,
                 final: GfxinfoDump) -> str | None:
        """Why the app's content seems to have crashed, or None (WA3's check, and an app
        gone by the end of the workload)."""
        normal = [frame for frame in frames if frame.flags == 0]
        if not self.crash_threshold or not normal:
            return None
        if final.no_process:
            return (f"{package} drew {len(normal)} frames, then was no longer running at the "
                    "end of the workload: its content appears to have crashed")
        fps = frame_rate(frames)
        if fps is None or last.uptime_ms is None:
            return None
        window = last.uptime_ms * 1_000_000 - normal[0].intended_vsync
        if window < CRASH_WINDOW_NS:
            return None
        ratio = len(normal) / (fps * window / 1e9)
        if ratio >= self.crash_threshold:
            return None
        return (f"{package} drew {ratio:.2f} of the frames expected at {fps:.1f} fps over "
                f"{window / 1e9:.1f} s (crash_threshold {self.crash_threshold:g}): its "
                "content appears to have crashed")

    def _save_frames(self, job: JobContext, frames: list[Frame], columns: list[str]) -> None:
        """frames.csv (every frame, Android's columns) and fps.csv (WA3's per-frame rates)."""
        directory = self._directory(job)
        with open(directory / "frames.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for frame in frames:
                writer.writerow([frame.values.get(column, "") for column in columns])
        job.add_artifact("frames", "frames.csv", "raw",
                         "Every frame the app drew during the job (dumpsys gfxinfo "
                         "framestats; times in nanoseconds)")
        with open(directory / "fps.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["fps"])
            for frame in frames:
                rate = 1e9 / frame.duration if frame.duration > 0 else 0.0
                if frame.flags == 0 and rate > self.drop_threshold:
                    writer.writerow([f"{rate:.3f}"])
        job.add_artifact("fps", "fps.csv", "data",
                         "Each normal frame's rate (one second over its render time), "
                         "above drop_threshold")

    def _save_raw(self, job: JobContext, dumps: list[str]) -> None:
        path = self._directory(job) / "frames.csv.raw"
        path.write_text("\n".join(dumps), encoding="utf-8")
        job.add_artifact("frames_raw", path.name, "raw",
                         "Every dumpsys gfxinfo output read during the job (keep_raw)")

    @staticmethod
    def _directory(job: JobContext) -> Path:
        if job.output_directory is None:
            raise InstrumentError("the job has no output directory")
        return job.output_directory
