"""The simulated device's ``dumpsys``: ``gfxinfo`` shows the frames of a running app.

An app started with ``am start`` (activity.py) draws at 60 Hz from its launch
until it is stopped. ``am start`` returns at once here, while on a phone
``am start -W`` returns once the first frame is drawn, a few hundred
milliseconds in; so the launch is taken to have begun 300 ms before the
running list changed, and a cold start has drawn its first frames by the
time ``am start`` returns. It draws every frame of the vsync grid, most in 5
to 13 ms, every 20th in 24.1 ms and every 60th in 45.3 ms (a missed vsync
and a slow UI thread), so 5 % of its frames are janky; its very first frame
is flagged (its window's layout changed) and left out of the histogram.
``dumpsys gfxinfo PACKAGE [framestats] [reset]`` prints them in Android's
layout for the device's API level (14 framestats columns on Android 6, 16 on
7 to 11, 23 from 12 on): the summary of every frame since the app started or
was last reset, then, with ``framestats``, the window's last 120 frames;
``reset`` restarts the counts after the dump. Times are nanoseconds of a
clock that counts from a made-up boot, kept in /data/system/gfxinfo/epoch.
Other services dump nothing, as before.
"""

from __future__ import annotations

from .paths import RUNNING

#: Frame columns: Android 6 (API 23), 7 to 11, and 12 on.
COLUMNS_23 = ("Flags IntendedVsync Vsync OldestInputEvent NewestInputEvent HandleInputStart "
              "AnimationStart PerformTraversalsStart DrawStart SyncQueued SyncStart "
              "IssueDrawCommandsStart SwapBuffers FrameCompleted")
COLUMNS_24 = COLUMNS_23 + " DequeueBufferDuration QueueBufferDuration"
COLUMNS_31 = ("Flags FrameTimelineVsyncId IntendedVsync Vsync InputEventId HandleInputStart "
              "AnimationStart PerformTraversalsStart DrawStart FrameDeadline FrameInterval "
              "FrameStartTime SyncQueued SyncStart IssueDrawCommandsStart SwapBuffers "
              "FrameCompleted DequeueBufferDuration QueueBufferDuration GpuCompleted "
              "SwapBuffersCompleted DisplayPresentTime CommandSubmissionCompleted")

# The awk program that draws the frames and prints them; no single quote may appear in it.
FRAMES = r"""
function dur(k,  m) {
    m = k % 60
    if (m == 59) return 45300000
    if (m % 20 == 19) return 24100000
    return (5 + (m * 7) % 9) * 1000000 + 300000
}
function bucket(ms) {
    if (ms <= 5) return 5
    if (ms <= 32) return ms
    if (ms <= 48) return ms - ms % 2
    if (ms < 52) return 48
    if (ms < 150) return (ms > 133) ? 133 : ms - (ms - 52) % 4 + 1
    return ms - ms % 50
}
function percentile(p,  pos, left, i) {
    pos = int(p * total / 100); left = total - pos
    for (i = nb; i >= 1; i--) { left -= count[times[i]]; if (left <= 0) return times[i] }
    return 0
}
function cell(c, k,  I, V, d, draw) {
    I = k * P; d = dur(k); V = (k % 60 == 59) ? I + P : I
    draw = V + 1150000 + ((k % 60 == 59) ? 20000000 : 0)
    if (c == "Flags") return (k == launch) ? 1 : 0
    if (c == "FrameTimelineVsyncId") return 1000000 + k * 3
    if (c == "IntendedVsync") return sprintf("%.0f", I)
    if (c == "Vsync" || c == "FrameStartTime") return sprintf("%.0f", V)
    if (c == "OldestInputEvent") return "9223372036854775807"
    if (c == "NewestInputEvent" || c == "InputEventId" || c == "DisplayPresentTime") return 0
    if (c == "HandleInputStart") return sprintf("%.0f", V + 95000)
    if (c == "AnimationStart") return sprintf("%.0f", V + 131000)
    if (c == "PerformTraversalsStart") return sprintf("%.0f", V + 170000)
    if (c == "DrawStart") return sprintf("%.0f", draw)
    if (c == "FrameDeadline") return sprintf("%.0f", I + P)
    if (c == "FrameInterval") return P
    if (c == "SyncQueued") return sprintf("%.0f", draw + 377000)
    if (c == "SyncStart") return sprintf("%.0f", draw + 429000)
    if (c == "IssueDrawCommandsStart") return sprintf("%.0f", draw + 730000)
    if (c == "SwapBuffers") return sprintf("%.0f", I + d - 640000)
    if (c == "CommandSubmissionCompleted") return sprintf("%.0f", I + d - 605000)
    if (c == "GpuCompleted") return sprintf("%.0f", I + d - 210000)
    if (c == "DequeueBufferDuration") return 118000
    if (c == "QueueBufferDuration") return 162000
    return sprintf("%.0f", I + d)
}
function stats(  i, line) {
    printf "\nStats since: %.0fns\nTotal frames rendered: %d\n", since, total
    printf "Janky frames: %d (%.2f%%)\n", janky, total ? janky * 100 / total : 0
    if (sdk >= 24) printf "50th percentile: %dms\n", percentile(50)
    printf "90th percentile: %dms\n95th percentile: %dms\n", percentile(90), percentile(95)
    printf "99th percentile: %dms\nNumber Missed Vsync: %d\n", percentile(99), slow
    printf "Number High input latency: 0\nNumber Slow UI thread: %d\n", slow
    printf "Number Slow bitmap uploads: 0\nNumber Slow %s: %d\n", \
        (sdk >= 24) ? "issue draw commands" : "draw", draw
    if (sdk >= 31) printf "Number Frame deadline missed: %d\n", janky
    line = "HISTOGRAM:"
    for (i = 1; i <= nb; i++) line = line " " times[i] "ms=" (count[times[i]] + 0)
    if (sdk >= 24) print line
}
BEGIN {
    P = 16666667; launch = int((started + P - 1) / P)
    nb = split("5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 " \
          "34 36 38 40 42 44 46 48 53 57 61 65 69 73 77 81 85 89 93 97 101 105 109 113 117 " \
          "121 125 129 133 150 200 250 300", times, " ")
    for (k = int((since + P - 1) / P); k * P + dur(k) <= now; k++) {
        last = k; if (!first) first = k; total++
        if (k == launch) continue
        count[bucket(int(dur(k) / 1000000))]++
        if (dur(k) >= P) janky++
        if (k % 60 == 59) slow++; else if (k % 20 == 19) draw++
    }
    window = pkg "/" pkg ".MainActivity"
    printf "Applications Graphics Acceleration Info:\nUptime: %d Realtime: %d\n", \
        now / 1000000, now / 1000000
    printf "\n** Graphics info for pid %d [%s] **\n", pid, pkg
    stats()
    printf "\nPipeline=Skia (OpenGL)\n\nProfile data in ms:\n\n"
    printf "\t%s/android.view.ViewRootImpl@5e0b1c2 (visibility=0)\n", window
    if (framestats) {
        if (sdk >= 29) { printf "Window: %s", window; stats() }
        printf "\n\n---PROFILEDATA---\n"
        n = split(columns, names, " ")
        for (i = 1; i <= n; i++) printf "%s,", names[i]
        for (k = (last - 119 > first) ? last - 119 : first; total && k <= last; k++) {
            printf "\n"
            for (i = 1; i <= n; i++) printf "%s,", cell(names[i], k)
        }
        printf "\n---PROFILEDATA---\n\n"
    }
    printf "\nView hierarchy:\n\n  %s/android.view.ViewRootImpl@5e0b1c2\n", window
    printf "  23 views, 40.48 kB of render nodes\n\n\nTotal ViewRootImpl   : 1\n"
    printf "Total attached Views : 23\nTotal RenderNode     : 40.48 kB (used) / 69.11 kB" \
        " (capacity)\n"
}
"""

DUMPSYS = """\
# dumpsys SERVICE [ARGS]: gfxinfo shows a running app's frames; other services dump nothing.
[ "$1" = gfxinfo ] || exit 0
shift
package= framestats= reset=
for arg; do
    case $arg in
        framestats) framestats=1 ;;
        reset) reset=1 ;;
        -*) ;;
        *) package=$arg ;;
    esac
done
running=@RUNNING@
if [ -z "$package" ] || ! grep -qxF -- "$package" "$running" 2>/dev/null; then
    echo "No process found for: $package"
    exit 0
fi
state=/data/system/gfxinfo
mkdir -p "$state"
[ -s "$state/epoch" ] || echo $(( $(date +%s%N) - 100000000000000 )) > "$state/epoch"
epoch=$(cat "$state/epoch")
now=$(( $(date +%s%N) - epoch ))
started=$(( $(date -r "$running" +%s%N) - epoch - 300000000 ))
since=$started
[ -s "$state/$package" ] && [ "$(cat "$state/$package")" -gt "$since" ] && \\
    since=$(cat "$state/$package")
sdk=$(getprop ro.build.version.sdk)
sdk=${sdk:-33}
columns="@COLUMNS_31@"
[ "$sdk" -lt 31 ] && columns="@COLUMNS_24@"
[ "$sdk" -lt 24 ] && columns="@COLUMNS_23@"
pid=$(( $(printf %s "$package" | cksum | cut -d' ' -f1) % 20000 + 3000 ))
awk -v now="$now" -v since="$since" -v started="$started" -v sdk="$sdk" -v pid="$pid" \\
    -v pkg="$package" -v framestats="$framestats" -v columns="$columns" '@FRAMES@'
[ -n "$reset" ] && echo "$now" > "$state/$package"
exit 0
"""

DUMPSYS = (DUMPSYS.replace("@RUNNING@", RUNNING).replace("@COLUMNS_31@", COLUMNS_31)
           .replace("@COLUMNS_24@", COLUMNS_24).replace("@COLUMNS_23@", COLUMNS_23)
           .replace("@FRAMES@", FRAMES))
