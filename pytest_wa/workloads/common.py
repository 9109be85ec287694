"""Parameters many of WA3's program-running workloads share, defined once.

``cpus`` (alias ``taskset_mask``) pins a program to CPUs with WA3's cpu_mask
forms; ``uninstall`` removes, at the end of the run, the copy pytest-wa pushed.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from ..agenda.tagged import WaCpuMask
from ..model.parameters import Kind, Parameter, ParameterValueError, boolean, integer
from ..targets.protocols import ExecutablesDirectory

if TYPE_CHECKING:
    from ..plugins.context import JobContext


def _cpu_mask(value: Any) -> int:
    """WA3's ``cpu_mask``: an integer is the mask itself, ``0x..`` a hexadecimal mask,
    other text CPU numbers and ranges (``0-3,6``), a list CPU numbers; 0 is every CPU."""
    if isinstance(value, WaCpuMask):
        return value.mask()
    if isinstance(value, bool):
        raise ParameterValueError(f"expected a CPU mask, got {value!r}")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, list):
        cpus = {integer(item) for item in value}
        if any(cpu < 0 for cpu in cpus):
            raise ParameterValueError(f"CPU numbers are 0 or more, got {value!r}")
        return sum(1 << cpu for cpu in cpus)
    if isinstance(value, str):
        return WaCpuMask.from_text(value).mask() if value.strip() else 0
    raise ParameterValueError("expected a CPU mask: 0x0f, '0-3,6' or a list of CPU numbers, "
                              f"got {value!r}")


cpu_mask = Kind("cpu mask", _cpu_mask)


def mask_cpus(mask: int) -> list[int]:
    """The CPU numbers a mask selects, lowest first."""
    return [cpu for cpu in range(mask.bit_length()) if mask >> cpu & 1]


#: WA3's parameter of every workload; WA3 defaults to true, which would push the
#: program again in every run (pytest-wa keeps the pushed copy while its hash matches).
UNINSTALL = Parameter("uninstall", boolean, default=False,
                      description="At the end of the run, remove the program pytest-wa pushed "
                                  "to the device (never the device's own).")


def remove_pushed(context: JobContext, program: str) -> None:
    """``uninstall``: delete the copy in the executables directory, if this run put it there."""
    target = context.target
    if (isinstance(target, ExecutablesDirectory)
            and program.startswith(f"{target.executables_directory}/")):
        target.execute(f"rm -f {shlex.quote(program)}", timeout=60)
