"""What an Android device is: getprop, uname, CPUs and screen, read in one command.

Besides the common facts, ``extra`` holds what WA3's AndroidTargetInfo
records (its reader requires them), so that WA3 tools read a pytest-wa run.
"""

from __future__ import annotations

from ..base import TargetProperties

PROPERTIES_COMMAND = ("getprop; echo ---; uname -r; uname -m; uname -v; "
                      "cat /sys/devices/system/cpu/possible; "
                      "wm size 2>/dev/null | tail -n 1; "
                      "settings get secure android_id 2>/dev/null")


def parse_properties(output: str, serial: str, is_rooted: bool) -> TargetProperties:
    """``PROPERTIES_COMMAND``'s output as TargetProperties."""
    props_text, _, rest = output.partition("---\n")
    props = parse_getprop(props_text)
    lines = rest.splitlines() + [""] * 6
    kernel, arch, version, possible, size, android_id = (line.strip() for line in lines[:6])
    return TargetProperties(
        os="android", kernel=kernel, abi=props.get("ro.product.cpu.abi", arch),
        cpus=count_cpus(possible), hostname=props.get("net.hostname", serial),
        model=props.get("ro.product.model", ""),
        extra={"sdk": _int_or_text(props.get("ro.build.version.sdk", "")),
               "release": props.get("ro.build.version.release", ""),
               "serial": serial, "arch": arch, "kernel_version": version,
               "fingerprint": props.get("ro.build.fingerprint", ""),
               "product": props.get("ro.product.name", ""),
               "device": props.get("ro.product.device", ""),
               # What WA3's AndroidTargetInfo records (its reader requires them):
               "is_rooted": is_rooted,
               "os_version": {key.rsplit(".", 1)[-1]: value for key, value in props.items()
                              if key.startswith("ro.build.version.")},
               "screen_resolution": parse_screen_size(size),
               "android_id": android_id if android_id not in ("", "null") else None,
               "prop": props})


def parse_screen_size(text: str) -> list[int] | None:
    """``wm size``'s ``Physical size: 1080x2400`` as [1080, 2400] (WA3's screen_resolution)."""
    _, _, size = text.rpartition(" ")
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


def count_cpus(possible: str) -> int:
    """The number of CPUs in a kernel cpu list such as ``0-3,6-7``."""
    count = 0
    for part in possible.split(","):
        low, _, high = part.strip().partition("-")
        if low.isdigit():
            count += (int(high) - int(low) + 1) if high.isdigit() else 1
    return count or 1
