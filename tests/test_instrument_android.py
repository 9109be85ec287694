"""The Android instruments: fps (gfxinfo frame statistics), screen_capture and logcat.

The two ``gfxinfo-*-framestats.txt`` files under ``tests/data/outputs/`` were
written by hand from Android's documented format and AOSP's dump layouts (their
headers say so), with made-up but self-consistent numbers; the parser is checked
against them exactly. The instruments then run through adb on the simulated
phone, whose ``dumpsys gfxinfo`` shows the frames of an app started with
``am start`` (pytest_wa/testing/simdevice/gfxinfo.py), and are refused by the
local target, which has no Android abilities.
"""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest

from pytest_wa import RunOutput
from pytest_wa.instruments.gfxinfo import frame_rate, job_frames, parse_gfxinfo

OUTPUTS = Path(__file__).parent / "data" / "outputs"
VSYNC = 16666667
SETTINGS = "com.android.settings"
REGISTER = """\
from pytest_wa.instruments.fps import Fps
from pytest_wa.instruments.logcat import Logcat
from pytest_wa.instruments.screen_capture import ScreenCapture

def pytest_wa_register_instruments(registry):
    for instrument in (Fps, Logcat, ScreenCapture):
        registry.add(instrument)
"""


def dump(name: str):
    return parse_gfxinfo((OUTPUTS / f"gfxinfo-{name}-framestats.txt").read_text())


# --- the parser, on Android's formats ---------------------------------------------------


def test_android_6_framestats() -> None:
    parsed = dump("android6")
    assert (parsed.package, parsed.uptime_ms, parsed.stats_since) == \
        ("com.example.game", 2906633, 2906519344163)
    assert parsed.summary == {
        "total_frames_rendered": 6, "janks": 1, "janks_pc": 16.67,
        "render_time_90th_ptile": 19, "render_time_95th_ptile": 19,
        "render_time_99th_ptile": 19, "missed_vsync": 0, "high_input_latency": 0,
        "slow_ui_thread": 1, "slow_bitmap_uploads": 0, "slow_draw": 0}
    assert len(parsed.columns) == 14 and parsed.columns[-1] == "FrameCompleted"
    assert [frame.flags for frame in parsed.frames] == [1, 0, 0, 0, 0, 0]
    assert [frame.duration for frame in parsed.frames] == [
        31_400_000, 9_100_000, 7_400_000, 19_200_000, 8_000_000, 6_600_000]
    assert parsed.frames[0].window == ("com.example.game/com.example.game.MainActivity/"
                                       "android.view.ViewRootImpl@3ee5a3c")
    assert parsed.frames[0].values["OldestInputEvent"] == 9223372036854775807
    # the flagged first frame is left out: 5 frames, 4 vsync intervals
    assert frame_rate(parsed.frames) == pytest.approx(4e9 / (4 * VSYNC))


def test_android_14_framestats() -> None:
    parsed = dump("android14")
    assert (parsed.package, parsed.uptime_ms, parsed.stats_since) == \
        ("com.example.app", 74822851, 74822700412958)
    assert parsed.summary == {
        "total_frames_rendered": 7, "janks": 2, "janks_pc": 28.57,
        "render_time_50th_ptile": 8, "render_time_90th_ptile": 34,
        "render_time_95th_ptile": 34, "render_time_99th_ptile": 34, "missed_vsync": 1,
        "high_input_latency": 0, "slow_ui_thread": 1, "slow_bitmap_uploads": 0,
        "slow_issue_draw_commands": 0, "frame_deadline_missed": 2,
        "gpu_render_time_50th_ptile": 3, "gpu_render_time_90th_ptile": 6,
        "gpu_render_time_95th_ptile": 6, "gpu_render_time_99th_ptile": 6}
    assert len(parsed.columns) == 23 and parsed.columns[1] == "FrameTimelineVsyncId"
    assert [frame.flags for frame in parsed.frames] == [0, 0, 0, 0, 4, 0, 0, 0]
    assert parsed.frames[2].values["Vsync"] - parsed.frames[2].intended_vsync == VSYNC
    assert [frame.duration // 100_000 for frame in parsed.frames] == \
        [73, 61, 348, 89, 52, 117, 179, 65]
    # 7 normal frames from the first vsync to the eighth: 6 frames in 7 intervals
    assert frame_rate(parsed.frames) == pytest.approx(6e9 / (7 * VSYNC))


def test_an_app_that_is_not_running() -> None:
    parsed = parse_gfxinfo("No process found for: com.example.gone\n")
    assert parsed.no_process and parsed.package == "com.example.gone"
    assert parsed.summary == {} and parsed.frames == [] and parsed.stats_since is None


def test_a_read_cut_short_keeps_its_whole_rows() -> None:
    text = (OUTPUTS / "gfxinfo-android14-framestats.txt").read_text()
    cut = text[:text.rindex("\n0,1250368,") + 30]  # the last row, cut in its third field
    assert len(parse_gfxinfo(cut).frames) == 7


def test_frames_read_twice_count_once_and_none_from_before_the_reset() -> None:
    first, second = dump("android14"), dump("android14")
    second.frames = second.frames[3:]  # a later read: the ring moved on
    since = first.frames[1].intended_vsync  # as if reset between the first two frames
    frames = job_frames([first, second], since)
    assert [frame.intended_vsync for frame in frames] == \
        [frame.intended_vsync for frame in first.frames[1:]]


# --- the simulated phone's dumpsys gfxinfo ------------------------------------------------


@pytest.fixture
def phone(wa_simulated_devices, monkeypatch):
    def make(**kwargs):
        device = wa_simulated_devices(**kwargs)
        monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(device.adb_port))
        return device
    return make


def gfxinfo(device, *args: str):
    return parse_gfxinfo(device.shell(" ".join(("dumpsys gfxinfo", SETTINGS) + args)).stdout)


def test_the_simulated_app_draws_frames_as_android_counts_them(phone) -> None:
    device = phone(sdk=34)
    assert gfxinfo(device, "framestats").no_process
    device.shell(f"am start -W -n {SETTINGS}/.MainActivity")
    device.shell("sleep 0.5")
    parsed = gfxinfo(device, "framestats")
    assert parsed.package == SETTINGS and len(parsed.columns) == 23
    normal = [frame for frame in parsed.frames if frame.flags == 0]
    assert parsed.frames[0].flags == 1  # the launch frame
    assert parsed.summary["total_frames_rendered"] == len(parsed.frames) >= 30
    janky = [frame for frame in normal if frame.duration >= VSYNC]
    assert parsed.summary["janks"] == len(janky)
    assert parsed.summary["frame_deadline_missed"] == len(janky)
    durations = {frame.duration // 1_000_000 for frame in normal}
    ptiles = [parsed.summary[f"render_time_{p}th_ptile"] for p in (50, 90, 95, 99)]
    assert ptiles == sorted(ptiles) and ptiles[0] in durations
    assert ptiles[-1] == (44 if 45 in durations else max(durations))  # 45 ms: bucket 44
    assert parsed.stats_since <= parsed.frames[0].intended_vsync
    assert parsed.uptime_ms * 1_000_000 >= parsed.frames[-1].frame_completed
    assert frame_rate(parsed.frames) == pytest.approx(1e9 / VSYNC)
    gfxinfo(device, "reset")
    after = gfxinfo(device, "framestats")
    assert after.stats_since > parsed.frames[-1].intended_vsync
    assert after.summary["total_frames_rendered"] < parsed.summary["total_frames_rendered"]
    assert all(frame.intended_vsync >= after.stats_since for frame in after.frames)
    device.shell(f"am force-stop {SETTINGS}")
    assert gfxinfo(device, "framestats").no_process


def test_android_6_has_its_own_layout(phone) -> None:
    device = phone(sdk=23)
    device.shell(f"am start -n {SETTINGS}/.MainActivity")
    parsed = gfxinfo(device, "framestats")
    assert len(parsed.columns) == 14 and "slow_draw" in parsed.summary
    assert "render_time_50th_ptile" not in parsed.summary
    plain = device.shell(f"dumpsys gfxinfo {SETTINGS}").stdout
    assert "---PROFILEDATA---" not in plain and "Total frames rendered" in plain


# --- refused where there is no Android ---------------------------------------------------


@pytest.mark.parametrize(("name", "missing"), [
    ("fps", "it reads an app's frames with Android's dumpsys gfxinfo, and this device runs "
            "no Android apps (it lacks the Packages ability of an Android device)"),
    ("screen_capture", "it takes screenshots, and this device has no screen to capture (it "
                       "lacks the Screens ability of an Android device: screencap)"),
    ("logcat", "it keeps the device's Android log, and this device has no logcat (it lacks "
               "the Logcat ability of an Android device)"),
])
def test_the_local_target_is_refused_unless_optional(pytester: pytest.Pytester, name: str,
                                                     missing: str) -> None:
    pytester.makeconftest(REGISTER)
    pytester.makefile(".yaml", agenda=textwrap.dedent(f"""
        workloads:
          - {{name: command, params: {{command: "true"}}, augmentations: [{name}]}}
    """))
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*agenda.yaml:2: augmentations: {name}: instrument "
                                 f"'{name}' cannot work on device 'local': {missing}. *"])
    pytester.makefile(".yaml", agenda=textwrap.dedent(f"""
        config: {{augmentations: [{name}], {name}: {{optional: true}}}}
        workloads: [{{name: command, params: {{command: "true"}}}}]
    """))
    pytester.runpytest().assert_outcomes(passed=1)


# --- on the simulated phone -----------------------------------------------------------------


def run_agenda(pytester: pytest.Pytester, device, agenda: str) -> RunOutput:
    pytester.makeconftest(REGISTER)
    pytester.makefile(".yaml", agenda=textwrap.dedent(agenda))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v",
                                           f"--wa-device=adb:{device.serial}")
    assert "Traceback" not in result.stdout.str(), result.stdout.str()
    return RunOutput(pytester.path / "wa_output")


FPS_AGENDA = f"""\
    config:
      augmentations: [fps]
      fps: {{package: {SETTINGS}, period: 0.5, keep_raw: true}}
      max_retries: 0
    workloads:
      - {{id: launch, name: app_launch, params: {{package: {SETTINGS}}}}}
      - id: play
        name: command
        params: {{command: "am start -n {SETTINGS}/.MainActivity >/dev/null; sleep 1.5"}}
      - id: crash
        name: command
        params:
          command: "am start -n {SETTINGS}/.MainActivity >/dev/null; sleep 1.2;
                    am force-stop {SETTINGS}; sleep 1"
    """


def frames_csv(job) -> list[dict[str, int]]:
    with open(job.artifact_path("frames"), newline="") as handle:
        return [{key: int(value) for key, value in row.items()}
                for row in csv.DictReader(handle)]


def test_fps_of_a_launch_a_running_app_and_a_crash(pytester, phone) -> None:
    device = phone(sdk=34)
    output = run_agenda(pytester, device, FPS_AGENDA)
    launch, play, crash = (output.job(name, 1) for name in ("launch", "play", "crash"))
    assert (launch.status.name, play.status.name, crash.status.name) == \
        ("OK", "OK", "PARTIAL")
    fps = play.metric("fps")
    assert (fps.units, fps.lower_is_better) == ("fps", False)
    assert fps.value == pytest.approx(1e9 / VSYNC)
    rows = frames_csv(play)
    normal = [row for row in rows if row["Flags"] == 0]
    assert play.metric("total_frames").value == len(normal) >= 90
    assert (play.metric("total_frames").units, play.metric("janks").units) == \
        ("frames", "count")
    janky = [row for row in normal if row["FrameCompleted"] - row["IntendedVsync"] >= VSYNC]
    assert play.metric("janks").value == len(janky) > 0
    assert play.metric("janks_pc").value == pytest.approx(100 * len(janky) / len(rows),
                                                          abs=0.01)
    ptile = play.metric("render_time_99th_ptile")
    assert (ptile.units, ptile.lower_is_better) == ("time_ms", True)
    assert ptile.value in (24, 44)  # the 45.3 ms frames are 1 in 60: one or two of them
    assert {a.name: a.kind for a in play.artifacts if a.name in
            ("frames", "fps", "frames_raw")} == {"frames": "raw", "fps": "data",
                                                 "frames_raw": "raw"}
    assert "---PROFILEDATA---" in play.artifact_path("frames_raw").read_text()
    # the launch: the workload's own package, its first frames counted since it started
    assert launch.metric("total_frames").value >= 10
    assert launch.metric("fps").value == pytest.approx(1e9 / VSYNC)
    assert any("no longer running at the end of the workload: its content appears to "
               "have crashed" in event.message for event in crash.events)
    assert crash.metric("total_frames").value > 0


def test_screen_capture_and_an_fps_job_without_a_package(pytester, phone) -> None:
    device = phone()
    output = run_agenda(pytester, device, """\
        config:
          max_retries: 0
          screen_capture: {period: 1}
        workloads:
          - id: shots
            name: command
            params: {command: "sleep 1.5"}
            augmentations: [screen_capture]
          - {id: nopkg, name: command, params: {command: "true"}, augmentations: [fps]}
        """)
    shots = output.job("shots", 1)
    assert shots.status.name == "OK"
    assert [a.kind for a in shots.artifacts if a.name == "screen_capture"] == ["data"]
    pictures = sorted(shots.artifact_path("screen_capture").glob("screencap_*.png"))
    assert len(pictures) >= 1
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in pictures)
    nopkg = output.job("nopkg", 1)
    assert nopkg.status.name == "PARTIAL" and not nopkg.metrics
    assert any("the workload 'command' has no package" in event.message
               for event in nopkg.events)


def test_logcat_filtered_and_a_log_that_wrapped(pytester, phone) -> None:
    """The job's logcat.log is the instrument's, filtered: the device's own capture of
    every Android job (control/evidence.py) steps aside for a job that enables it."""
    device = phone()
    output = run_agenda(pytester, device, """\
        config:
          max_retries: 0
          logcat: {filters: ["MyApp:W", "*:S"]}
        workloads:
          - id: logs
            name: command
            params:
              command: "log -t MyApp -p w kept; log -t MyApp -p i dropped;
                        log -t Other -p e noise"
            augmentations: [logcat]
          - id: wrapped
            name: command
            params: {command: "logcat -c; log -t MyApp -p e after"}
            augmentations: [logcat]
          - {id: plain, name: command, params: {command: "log -t Other -p e unfiltered"}}
        """)
    logs = output.job("logs", 1)
    assert logs.status.name == "OK"
    assert [a.kind for a in logs.artifacts if a.name == "logcat"] == ["log"]
    lines = logs.artifact_path("logcat").read_text().splitlines()
    assert [line.split(": ", 1)[1] for line in lines if "MyApp" in line] == ["kept"]
    assert not any("noise" in line or "pytest-wa" in line for line in lines)
    wrapped = output.job("wrapped", 1)
    assert wrapped.status.name == "PARTIAL"
    assert any("the log buffer wrapped during the job" in event.message
               for event in wrapped.events)
    assert "after" in wrapped.artifact_path("logcat").read_text()
    # a job without the instrument keeps the device's own, unfiltered capture
    assert "unfiltered" in output.job("plain", 1).artifact_path("logcat").read_text()
