"""What an SSH board is: uname, CPUs, hostname and model, read in one round trip.

Each fact is a part of one command (``fact_command``): a board without a
tool or a file (no ``/sys/devices/system/cpu`` in a minimal root, no
``hostname``) loses that fact only, which is recorded as absent.
"""

from __future__ import annotations

from ..base import TargetProperties
from ..fact_command import FactPart, FactReading, fact_command, split_parts
from ..linux_facts import POSSIBLE_CPUS, abi_of, count_cpus

PARTS = (
    FactPart("os", "uname -s"),
    FactPart("kernel", "uname -r"),
    FactPart("arch", "uname -m"),
    FactPart("kernel_version", "uname -v"),
    FactPart("cpus", f"cat {POSSIBLE_CPUS}"),
    FactPart("hostname", "hostname 2>/dev/null || uname -n"),
    FactPart("model", "cat /proc/device-tree/model 2>/dev/null || "
                      "cat /sys/class/dmi/id/product_name"),
)
PROPERTIES_COMMAND = fact_command(PARTS)


def parse_properties(stdout: str, stderr: str = "") -> TargetProperties:
    """``PROPERTIES_COMMAND``'s output as TargetProperties; a failed part leaves its fact
    empty and listed in ``absent``."""
    reading = FactReading(split_parts(PARTS, stdout, stderr))
    machine = reading.text("arch") or ""
    return TargetProperties(
        os=(reading.text("os") or "").lower(), kernel=reading.text("kernel") or "",
        abi=abi_of(machine), cpus=reading.parsed("cpus", count_cpus) or 0,
        hostname=reading.text("hostname") or "",
        # many PCs and VMs have neither: a model is a bonus, its absence no news
        model=(reading.text("model", expected=False) or "").strip("\x00 \n"),
        extra={"kernel_version": reading.text("kernel_version") or "", "arch": machine},
        absent=reading.absent)
