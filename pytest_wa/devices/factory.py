"""Turning a configured device into a (not yet connected) target of its kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .entry import DeviceEntry

if TYPE_CHECKING:
    from ..targets.protocols import Target


def build_target(entry: DeviceEntry) -> Target:
    """A target object for ``entry``; modules of other kinds are not imported."""
    values = entry.settings
    common: dict[str, Any] = {"working_directory": values.get("working_directory"),
              "executables_directory": values.get("executables_directory"),
              "hard_reset_command": values.get("hard_reset_command"),
              "boot_timeout": values.get("boot_timeout")}
    if entry.kind == "ssh":
        from ..targets.ssh import SshTarget

        return SshTarget(entry.name, values["host"], port=values["port"],
                         username=values["username"], password=values["password"],
                         keyfile=values["keyfile"],
                         strict_host_check=values["strict_host_check"],
                         known_hosts=values["known_hosts"], sudo_cmd=values["sudo_cmd"],
                         connect_timeout=values["timeout"], **common)
    if entry.kind == "adb":
        from ..targets.android import AndroidTarget

        return AndroidTarget(entry.name, serial=values["device"],
                             adb_server=values["adb_server"], adb_port=values["adb_port"],
                             adb_as_root=values["adb_as_root"],
                             capture_on_failure=values["capture_on_failure"],
                             logcat=values["logcat"], connect_timeout=values["timeout"],
                             **common)
    from ..targets.local import LocalTarget

    return LocalTarget(entry.name, working_directory=values.get("working_directory"))
