"""System properties: one NAME=VALUE a line in /data/property/props.

The file is shared with the device's getprop/setprop scripts, which is why it
is plain text and world-writable (setprop runs as the shell user). At every
boot the non-persistent properties go back to the device's defaults, while
``persist.*`` ones survive, as on Android.
"""

from __future__ import annotations

import os

RELEASES = {21: "5.0", 22: "5.1", 23: "6.0", 24: "7.0", 25: "7.1.1", 26: "8.0.0", 27: "8.1.0",
            28: "9", 29: "10", 30: "11", 31: "12", 32: "12", 33: "13", 34: "14", 35: "15",
            36: "16"}


def default_properties(*, model: str, name: str, device: str, sdk: int, serial: str,
                       debuggable: bool, abi: str = "arm64-v8a") -> dict[str, str]:
    release = RELEASES.get(sdk, str(max(sdk - 20, 1)))
    build_type = "userdebug" if debuggable else "user"
    return {
        "ro.product.model": model,
        "ro.product.name": name,
        "ro.product.device": device,
        "ro.product.brand": "simdevice",
        "ro.product.manufacturer": "pytest-wa",
        "ro.product.board": device,
        "ro.product.cpu.abi": abi,
        "ro.product.cpu.abilist": abi,
        "ro.build.version.sdk": str(sdk),
        "ro.build.version.release": release,
        "ro.build.type": build_type,
        "ro.build.tags": "test-keys" if debuggable else "release-keys",
        "ro.build.id": "SIM1.0",
        "ro.build.fingerprint": f"simdevice/{name}/{device}:{release}/SIM1.0/1:{build_type}/"
                                "test-keys",
        "ro.hardware": "simdevice",
        "ro.board.platform": "simdevice",
        "ro.debuggable": "1" if debuggable else "0",
        "ro.secure": "1",
        "ro.serialno": serial,
        "ro.boot.serialno": serial,
        "persist.sys.timezone": "UTC",
    }


class Properties:
    """Reads and rewrites the property file; the file is the only state."""

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> dict[str, str]:
        values: dict[str, str] = {}
        try:
            with open(self.path, encoding="utf-8") as handle:
                for line in handle:
                    key, sep, value = line.rstrip("\n").partition("=")
                    if sep:
                        values[key] = value
        except FileNotFoundError:
            pass
        return values

    def save(self, values: dict[str, str]) -> None:
        """Replace the file in one rename, so a getprop never reads half of it."""
        temporary = f"{self.path}.new"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in sorted(values.items()))
        os.chmod(temporary, 0o666)
        os.replace(temporary, self.path)

    def get(self, key: str, default: str = "") -> str:
        return self.load().get(key, default)

    def update(self, **values: str) -> None:
        current = self.load()
        current.update(values)
        self.save(current)

    def boot(self, defaults: dict[str, str]) -> None:
        """The properties a fresh boot has: defaults plus the persist.* ones kept."""
        kept = {key: value for key, value in self.load().items() if key.startswith("persist.")}
        self.save({**defaults, **kept})
