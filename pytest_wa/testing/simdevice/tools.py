"""The device's own command-line tools, as small shell scripts in /system/bin.

They run with the host's sh and coreutils (bound read-only into the device),
and keep their state in plain files under /data, so a test can check what a
workload did (``pm list packages``, ``getprop``, ``logcat -d``). Output
formats follow Android's where clients parse them: ``getprop`` alone prints
``[key]: [value]`` lines (unless the device is a minimal build whose getprop
cannot list), ``pm`` prints ``Success``, ``uiautomator dump``
prints Android's misspelt "UI hierchary dumped to: FILE".
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Collection

from .gfxinfo import DUMPSYS
from .paths import LOG, PACKAGES, PROPS, SETTINGS
from .picture import SCREEN, png, screen_pixels

__all__ = ["LOG", "PACKAGES", "PROPS", "SCRIPTS", "SETTINGS", "install", "package_list"]
SYSTEM_PACKAGES = ("android", "com.android.shell", "com.android.settings",
                   "com.android.systemui", "com.android.launcher3")

SCRIPTS: dict[str, str] = {}

SCRIPTS["getprop"] = f"""\
# getprop [NAME [DEFAULT]]: the properties are NAME=VALUE lines in {PROPS}.
f={PROPS}
if [ $# -eq 0 ]; then
    sort "$f" | while IFS= read -r line; do
        printf '[%s]: [%s]\\n' "${{line%%=*}}" "${{line#*=}}"
    done
    exit 0
fi
while IFS= read -r line; do
    case $line in
        "$1="*) printf '%s\\n' "${{line#*=}}"; exit 0 ;;
    esac
done < "$f"
printf '%s\\n' "$2"
"""

SCRIPTS["setprop"] = f"""\
# setprop NAME VALUE: ro.* properties can be set once, as on Android.
f={PROPS}
if [ $# -ne 2 ]; then
    echo "usage: setprop NAME VALUE" >&2
    exit 1
fi
name=$1
value=$2
fail() {{
    printf "Failed to set property '%s' to '%s'.\\nSee dmesg for error reason.\\n" \\
        "$name" "$value" >&2
    exit 1
}}
case $name in
    ''|*=*|*' '*) fail ;;
esac
case $name in
    ro.*)
        while IFS= read -r line; do
            case $line in "$name="*) fail ;; esac
        done < "$f" ;;
esac
rest=$(while IFS= read -r line; do
    case $line in "$name="*) ;; *) printf '%s\\n' "$line" ;; esac
done < "$f") || fail
{{ [ -n "$rest" ] && printf '%s\\n' "$rest"; printf '%s=%s\\n' "$name" "$value"; }} > "$f" || fail
"""

SCRIPTS["pm"] = f"""\
# pm: a package manager that keeps a list. Each package is a "NAME PATH KIND" line
# in {PACKAGES} (KIND is system or user); an installed APK is copied to
# /data/app/NAME/base.apk. The package name is read from a "package=NAME" text in
# the file when there is one, else taken from the file name.
db={PACKAGES}
remove() {{
    rest=$(while read -r n p k; do [ "$n" = "$1" ] || echo "$n $p $k"; done < "$db")
    if [ -n "$rest" ]; then printf '%s\\n' "$rest" > "$db"; else : > "$db"; fi
}}
find_package() {{
    while read -r n p k; do
        if [ "$n" = "$1" ]; then echo "$p $k"; return 0; fi
    done < "$db"
    return 1
}}
command=$1
[ $# -gt 0 ] && shift
case $command in
install)
    apk=
    while [ $# -gt 0 ]; do
        case $1 in
            -i|-p|-S|--user|--install-location|--abi|--originating-uri|--referrer) shift 2 ;;
            -*) shift ;;
            *) apk=$1; shift ;;
        esac
    done
    if [ -z "$apk" ]; then
        echo "Error: APK path not specified" >&2
        exit 1
    fi
    if [ ! -f "$apk" ] || [ ! -r "$apk" ]; then
        echo "Error: Unable to open file: $apk" >&2
        echo "Consider using a file under /data/local/tmp/" >&2
        echo "Error: Can't open file: $apk" >&2
        exit 1
    fi
    name=$(grep -a -o -m 1 'package=[A-Za-z0-9_.]*' "$apk" | head -n 1)
    name=${{name#package=}}
    if [ -z "$name" ]; then
        name=${{apk##*/}}
        name=${{name%.apk}}
    fi
    if find_package "$name" | grep -q ' system$'; then
        echo "Failure [INSTALL_FAILED_UPDATE_INCOMPATIBLE: $name is a system package]"
        exit 1
    fi
    mkdir -p "/data/app/$name" && cat "$apk" > "/data/app/$name/base.apk" || {{
        echo "Failure [INSTALL_FAILED_INSUFFICIENT_STORAGE]"
        exit 1
    }}
    remove "$name"
    echo "$name /data/app/$name/base.apk user" >> "$db"
    echo "Success"
    ;;
uninstall)
    while [ $# -gt 1 ]; do shift; done
    found=$(find_package "$1")
    case $found in
        *' user') remove "$1"; rm -rf "/data/app/$1"; echo "Success" ;;
        *) echo "Failure [DELETE_FAILED_INTERNAL_ERROR]"; exit 1 ;;
    esac
    ;;
list)
    what=$1
    [ $# -gt 0 ] && shift
    [ "$what" = packages ] || exit 0
    paths= only= filter=
    for arg; do
        case $arg in
            -f) paths=1 ;;
            -3) only=user ;;
            -s) only=system ;;
            -*) ;;
            *) filter=$arg ;;
        esac
    done
    while read -r n p k; do
        [ -n "$only" ] && [ "$k" != "$only" ] && continue
        case $n in *"$filter"*) ;; *) continue ;; esac
        if [ -n "$paths" ]; then echo "package:$p=$n"; else echo "package:$n"; fi
    done < "$db"
    ;;
path)
    found=$(find_package "$1") || exit 1
    echo "package:${{found% *}}"
    ;;
clear)
    find_package "$1" > /dev/null || {{ echo "Failed"; exit 1; }}
    echo "Success"
    ;;
grant|revoke|enable|disable|disable-user|hide|unhide|set-install-location|trim-caches)
    ;;
*)
    echo "Error: unknown command '$command'" >&2
    exit 1
    ;;
esac
"""

SCRIPTS["cmd"] = """\
# cmd SERVICE ARGS: only the package service exists, served by pm.
# "cmd package install -S SIZE" reads the APK from standard input, as adb's
# streamed install sends it.
service=$1
[ $# -gt 0 ] && shift
case $service in
package)
    if [ "$1" = install ]; then
        shift
        size=
        apk=
        while [ $# -gt 0 ]; do
            case $1 in
                -S) size=$2; shift 2 ;;
                -*) shift ;;
                *) apk=$1; shift ;;
            esac
        done
        if [ -n "$size" ]; then
            tmp=/data/local/tmp/streamed-install-$$.apk
            head -c "$size" > "$tmp"
            pm install "$tmp"
            status=$?
            rm -f "$tmp"
            exit $status
        fi
        exec pm install "$apk"
    fi
    exec pm "$@"
    ;;
*)
    echo "cmd: Can't find service: $service" >&2
    exit 20
    ;;
esac
"""

SCRIPTS["screencap"] = """\
# screencap [-p] [FILE]: a small fixed picture; PNG with -p or a FILE ending in .png,
# else the raw format (width, height, format, dataspace, then RGBA pixels).
png=
out=
while [ $# -gt 0 ]; do
    case $1 in
        -p) png=1 ;;
        -d) shift ;;
        -*) ;;
        *) out=$1 ;;
    esac
    shift
done
case $out in *.png) png=1 ;; esac
src=/system/etc/screencap.raw
[ -n "$png" ] && src=/system/etc/screencap.png
if [ -n "$out" ]; then cat "$src" > "$out"; else cat "$src"; fi
"""

SCRIPTS["uiautomator"] = f"""\
# uiautomator dump [--compressed] [FILE]: writes a window dump of an empty home screen.
if [ "$1" != dump ]; then
    echo "Usage: uiautomator dump [--compressed] [FILE]" >&2
    exit 1
fi
shift
out=/sdcard/window_dump.xml
for arg; do
    case $arg in -*) ;; *) out=$arg ;; esac
done
printf '%s' "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\\"0\\">\\
<node index=\\"0\\" text=\\"\\" resource-id=\\"\\" class=\\"android.widget.FrameLayout\\" \\
package=\\"com.android.launcher3\\" content-desc=\\"\\" checkable=\\"false\\" checked=\\"false\\" \\
clickable=\\"false\\" enabled=\\"true\\" focusable=\\"false\\" focused=\\"false\\" \\
scrollable=\\"false\\" long-clickable=\\"false\\" password=\\"false\\" selected=\\"false\\" \\
bounds=\\"[0,0][{SCREEN[0]},{SCREEN[1]}]\\" /></hierarchy>" > "$out" || exit 1
echo "UI hierchary dumped to: $out"
"""

SCRIPTS["log"] = f"""\
# log [-p PRIORITY] [-t TAG] MESSAGE: appends a threadtime line to {LOG}.
priority=I
tag=log
while [ $# -gt 0 ]; do
    case $1 in
        -p) priority=$(printf '%s' "$2" | cut -c1 | tr 'a-z' 'A-Z'); shift 2 ;;
        -t) tag=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
printf '%s %5d %5d %s %-8s: %s\\n' "$(date '+%m-%d %H:%M:%S.%3N')" $$ $$ "$priority" "$tag" \\
    "$*" >> {LOG}
"""

SCRIPTS["logcat"] = f"""\
# logcat [-c] [-d] [-t N]: the log is {LOG}, written by "log" and cleared at boot.
# Formats (-v) and filters are accepted and ignored: lines are always threadtime.
f={LOG}
clear= dump= lines=
while [ $# -gt 0 ]; do
    case $1 in
        -c|--clear) clear=1 ;;
        -d) dump=1 ;;
        -t) lines=$2; dump=1; shift ;;
        -T) lines=$2; shift ;;
        -v|-b|-f|-r|-n|-e|-m|-P|-G|--pid|--format|--buffer) shift ;;
    esac
    shift
done
if [ -n "$clear" ]; then
    : > "$f"
    exit
fi
echo "--------- beginning of main"
if [ -n "$lines" ]; then tail -n "$lines" "$f"; else cat "$f"; fi
[ -n "$dump" ] && exit 0
exec tail -n 0 -f "$f"
"""

SCRIPTS["input"] = "# input: key and touch events go nowhere.\nexit 0\n"
SCRIPTS["monkey"] = "# monkey: events go nowhere.\nexit 0\n"
SCRIPTS["dumpsys"] = DUMPSYS

SCRIPTS["wm"] = f"""\
# wm size / wm density: the simulated screen.
case $1 in
    size) echo "Physical size: {SCREEN[0]}x{SCREEN[1]}" ;;
    density) echo "Physical density: 440" ;;
esac
exit 0
"""

SCRIPTS["settings"] = f"""\
# settings get|put|delete NAMESPACE KEY [VALUE]: NAMESPACE/KEY=VALUE lines in {SETTINGS}.
f={SETTINGS}
action=$1
key=$2/$3
case $action in
get)
    while IFS= read -r line; do
        case $line in "$key="*) printf '%s\\n' "${{line#*=}}"; exit 0 ;; esac
    done < "$f"
    echo null ;;
put|delete)
    rest=$(while IFS= read -r line; do
        case $line in "$key="*) ;; *) printf '%s\\n' "$line" ;; esac
    done < "$f")
    {{ [ -n "$rest" ] && printf '%s\\n' "$rest"
      if [ "$action" = put ]; then printf '%s=%s\\n' "$key" "$4"; fi; }} > "$f" ;;
*)
    echo "usage: settings get|put|delete NAMESPACE KEY [VALUE]" >&2
    exit 1 ;;
esac
"""


#: Put before ``getprop`` on a device whose getprop cannot list (``getprop_lists=False``).
GETPROP_NAME_ONLY = """\
# A minimal build's getprop: it reads one property, and lists none.
if [ $# -eq 0 ]; then
    echo "usage: getprop NAME [DEFAULT]" >&2
    exit 1
fi
"""


def install(system: str, *, missing: Collection[str] = (), getprop_lists: bool = True
            ) -> None:
    """Write the tools into ``system``/bin and their data into ``system``/etc.

    The ``missing`` tools are left out (removed from a kept tree), as on an
    older Android or an Android-based board that lacks them.
    """
    bin_dir = os.path.join(system, "bin")
    etc_dir = os.path.join(system, "etc")
    for directory in (bin_dir, etc_dir, os.path.join(system, "xbin")):
        os.makedirs(directory, mode=0o755, exist_ok=True)
    from .activity import AM

    for name, body in {**SCRIPTS, "am": AM}.items():
        path = os.path.join(bin_dir, name)
        if name in missing:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            continue
        if name == "getprop" and not getprop_lists:
            body = GETPROP_NAME_ONLY + body
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("#!/system/bin/sh\n" + body)
        os.chmod(path, 0o755)
    shell = os.path.join(bin_dir, "sh")
    if not os.path.lexists(shell):
        os.symlink("/bin/sh", shell)
    width, height, pixels = screen_pixels()
    _write(os.path.join(etc_dir, "screencap.png"), png(width, height, pixels))
    _write(os.path.join(etc_dir, "screencap.raw"),
           struct.pack("<4I", width, height, 1, 0) + pixels)


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o644)


def package_list() -> str:
    """The initial package list: the system packages every phone has."""
    return "".join(f"{name} /system/app/{name}/{name}.apk system\n" for name in SYSTEM_PACKAGES)
