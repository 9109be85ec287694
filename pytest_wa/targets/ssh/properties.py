"""What an SSH board is: uname, CPUs, hostname and model, read in one round trip.

One command prints every fact separated by a control character, so that a
board over a slow link answers ``properties`` in one round trip, and a probe
that fails (no device-tree model on a PC) leaves an empty field, not an error.
"""

from __future__ import annotations

from ...model.errors import TargetError
from ..base import TargetProperties
from ..local import _ABIS

_SEP = "\x1f"  # between the fields of the properties command's output

PROPERTIES_COMMAND = "; ".join(f'printf "%s{_SEP}" "$( {probe} )"' for probe in (
    "uname -s", "uname -r", "uname -m", "uname -v",
    "nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo",
    "hostname 2>/dev/null || uname -n",
    "(cat /proc/device-tree/model || cat /sys/class/dmi/id/product_name) 2>/dev/null"
    " | tr -d '\\000'",
))


def parse_properties(output: str, address: str) -> TargetProperties:
    """``PROPERTIES_COMMAND``'s output as TargetProperties (``address`` names the board)."""
    fields = output.split(_SEP)
    if len(fields) < 7:
        raise TargetError(f"{address}: unexpected output from the properties "
                          f"command: {output!r}")
    system, kernel, machine, version, cpus, hostname, model = (f.strip() for f in fields[:7])
    return TargetProperties(
        os=system.lower(), kernel=kernel, abi=_ABIS.get(machine.lower(), machine),
        cpus=int(cpus) if cpus.isdigit() else 1, hostname=hostname, model=model,
        extra={"kernel_version": version, "arch": machine})
