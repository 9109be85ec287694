"""The simulated device's activity manager: ``am start -W`` answers as Android does.

Every package has one launcher activity, ``.MainActivity``. An app is COLD
until it is started, then HOT until ``am force-stop``; the times are made up
but plausible (a cold start costs hundreds of milliseconds, a hot one tens).
The report's layout follows ``ro.build.version.sdk``: before Android 10 it has
``ThisTime``, from Android 10 on ``LaunchState`` instead, as real devices do.
"""

from __future__ import annotations

from .paths import PACKAGES, RUNNING

AM = f"""\
# am: start (with -W, the launch report), force-stop, broadcast.
db={PACKAGES}
running={RUNNING}
[ -f "$running" ] || : > "$running"
installed() {{ while read -r n p k; do [ "$n" = "$1" ] && return 0; done < "$db"; return 1; }}
is_running() {{ while read -r n; do [ "$n" = "$1" ] && return 0; done < "$running"; return 1; }}
stop_app() {{
    rest=$(while read -r n; do [ "$n" = "$1" ] || echo "$n"; done < "$running")
    if [ -n "$rest" ]; then printf '%s\\n' "$rest" > "$running"; else : > "$running"; fi
}}
start() {{
    wait= component= package= intent="$*"
    while [ $# -gt 0 ]; do
        case $1 in
            -W) wait=1; shift ;;
            -S) stop_first=1; shift ;;
            -n) component=$2; shift 2 ;;
            -p) package=$2; shift 2 ;;
            -a|-c|-d|-t|-f|--user|--es|--ez|--ei) shift 2 ;;
            *) shift ;;
        esac
    done
    [ -n "$component" ] && package=${{component%%/*}}
    echo "Starting: Intent {{ $intent }}"
    activity=${{component#*/}}
    if [ -z "$package" ] || ! installed "$package" || \\
       {{ [ -n "$component" ] && [ "$activity" != .MainActivity ] && \\
          [ "$activity" != "$package.MainActivity" ]; }}; then
        echo "Error type 3"
        echo "Error: Activity class {{${{component:-$package}}}} does not exist."
        return 0
    fi
    [ -n "$stop_first" ] && stop_app "$package"
    if is_running "$package"; then state=HOT; total=$((40 + $$ % 60))
    else state=COLD; total=$((280 + $$ % 240)); echo "$package" >> "$running"; fi
    [ -n "$wait" ] || return 0
    sdk=$(getprop ro.build.version.sdk)
    echo "Status: ok"
    [ "${{sdk:-33}}" -ge 29 ] && echo "LaunchState: $state"
    echo "Activity: $package/.MainActivity"
    [ "${{sdk:-33}}" -lt 29 ] && echo "ThisTime: $total"
    echo "TotalTime: $total"
    echo "WaitTime: $((total + 9))"
    echo "Complete"
}}
command=$1
[ $# -gt 0 ] && shift
case $command in
    start|start-activity) start "$@" ;;
    force-stop|kill) stop_app "$1" ;;
    startservice|start-service|start-foreground-service) echo "Starting service: Intent {{ $* }}" ;;
    broadcast) echo "Broadcasting: Intent {{ $* }}"; echo "Broadcast completed: result=0" ;;
esac
exit 0
"""
