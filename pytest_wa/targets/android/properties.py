"""What an Android device is: properties, uname, CPUs, screen and id, read in one command.

Each fact is a part of one command (``fact_command``), so a device without
a tool (``settings`` or ``wm`` on an older Android or an Android-based board)
or a file loses that fact only, recorded as absent. Where ``getprop`` cannot
list every property (minimal builds take a name only), the properties the
facts need are read by name instead, in the same command.

Besides the common facts, ``extra`` holds what WA3's AndroidTargetInfo
records (its reader requires them), so that WA3 tools read a pytest-wa run.
"""

from __future__ import annotations

from typing import Any

from ..base import TargetProperties
from ..fact_command import FactPart, FactReading, fact_command, split_parts
from ..linux_facts import POSSIBLE_CPUS, count_cpus

#: The properties the facts are made of: what is read where ``getprop`` cannot list.
NEEDED_PROPERTIES = (
    "ro.product.model", "ro.product.name", "ro.product.device", "ro.product.cpu.abi",
    "ro.build.fingerprint", "ro.build.version.sdk", "ro.build.version.release",
    "ro.build.version.incremental", "ro.build.version.codename",
    "ro.build.version.security_patch", "net.hostname")


def getprop_command(names: tuple[str, ...] = NEEDED_PROPERTIES) -> str:
    """Every property as ``[key]: [value]`` lines: listed, or else read one by one."""
    return ('p=$(getprop); case $p in "["*) printf "%s\\n" "$p" ;; '
            f'*) for n in {" ".join(names)}; do v=$(getprop "$n") && [ -n "$v" ] && '
            'printf "[%s]: [%s]\\n" "$n" "$v"; done ;; esac')


PARTS = (
    FactPart("prop", getprop_command()),
    FactPart("kernel", "uname -r"),
    FactPart("arch", "uname -m"),
    FactPart("kernel_version", "uname -v"),
    FactPart("cpus", f"cat {POSSIBLE_CPUS}"),
    FactPart("screen_resolution", "wm size"),
    FactPart("android_id", "settings get secure android_id"),
)
PROPERTIES_COMMAND = fact_command(PARTS)


def parse_properties(stdout: str, stderr: str, serial: str, is_rooted: bool
                     ) -> TargetProperties:
    """``PROPERTIES_COMMAND``'s output as TargetProperties; a failed part leaves its fact
    empty (None in ``extra``) and listed in ``absent``."""
    reading = FactReading(split_parts(PARTS, stdout, stderr))
    props = _properties(reading)
    arch = reading.text("arch") or ""
    return TargetProperties(
        os="android", kernel=reading.text("kernel") or "",
        abi=props.get("ro.product.cpu.abi", arch), cpus=reading.parsed("cpus", count_cpus) or 0,
        hostname=props.get("net.hostname", serial), model=props.get("ro.product.model", ""),
        extra={"sdk": _int_or_text(props.get("ro.build.version.sdk", "")),
               "release": props.get("ro.build.version.release", ""),
               "serial": serial, "arch": arch,
               "kernel_version": reading.text("kernel_version") or "",
               "fingerprint": props.get("ro.build.fingerprint", ""),
               "product": props.get("ro.product.name", ""),
               "device": props.get("ro.product.device", ""),
               **_wa3_extras(reading, props, is_rooted)},
        absent=reading.absent)


def _properties(reading: FactReading) -> dict[str, str]:
    """The system properties; none (and ``prop`` absent) when neither way gave any.

    The part's exit status says nothing here: reading by name ends with the
    status of the last name read, which may well be unset.
    """
    result = reading.parts["prop"]
    props = parse_getprop(result.output)
    if not props:
        reading.absent["prop"] = result.reason() if result.errors else "getprop gave none"
    return props


def _wa3_extras(reading: FactReading, props: dict[str, str], is_rooted: bool
                ) -> dict[str, Any]:
    """What WA3's AndroidTargetInfo records (its reader requires them)."""
    android_id = reading.text("android_id")
    return {"is_rooted": is_rooted,
            "os_version": {key.rsplit(".", 1)[-1]: value for key, value in props.items()
                           if key.startswith("ro.build.version.")},
            "screen_resolution": reading.parsed("screen_resolution", parse_screen_size),
            "android_id": android_id if android_id not in (None, "", "null") else None,
            "prop": props}


def parse_screen_size(text: str) -> list[int] | None:
    """``wm size``'s last line, ``Physical size: 1080x2400``, as [1080, 2400] (WA3's
    screen_resolution); an ``Override size`` line, when there is one, comes last."""
    lines = text.strip().splitlines() or [""]
    _, _, size = lines[-1].rpartition(" ")
    width, sep, height = size.partition("x")
    return [int(width), int(height)] if sep and width.isdigit() and height.isdigit() else None


def _int_or_text(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def parse_getprop(text: str) -> dict[str, str]:
    """``getprop``'s ``[key]: [value]`` lines as a dict."""
    props: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("]: [")
        if sep and key.startswith("[") and value.endswith("]"):
            props[key[1:]] = value[:-1]
    return props
