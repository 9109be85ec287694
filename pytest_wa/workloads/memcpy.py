"""``memcpy``: WA3's memory copy benchmark, with pytest-wa's own program.

The program (``src/memcpy.c``) copies a ``buffer_size`` buffer ``loops``
times and prints the time it took and the bandwidth (MB/s, 10^6 bytes per
second); its command line and result lines are those of WA3's, so a WA3
user's binary in a resource directory runs here unchanged. The metrics are
WA3's: ``time`` and ``bandwidth``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..model.parameters import Parameter, integer
from .common import UNINSTALL, cpu_mask, mask_cpus, remove_pushed
from .resources import Tool
from .tool import BINARY, Reading, ToolWorkload

if TYPE_CHECKING:
    from ..plugins.context import JobContext

TOTAL_TIME = re.compile(r"Total time: ([0-9.]+) s")
BANDWIDTH = re.compile(r"Bandwidth: ([0-9.]+) MB/s")


class Memcpy(ToolWorkload):
    name = "memcpy"
    description = """
    Copy a buffer in memory with memcpy; report the time taken and the bandwidth.

    A buffer of buffer_size bytes is copied loops times, on one thread; the
    bandwidth is in MB/s.

    The program is pytest-wa's own (built from its C source for this host), or
    a 'memcpy' from --wa-resources, WA3's dependencies directory or the device's
    PATH.
    """
    tool = Tool("memcpy", source="memcpy.c")
    parameters = (
        Parameter("buffer_size", integer, default=5 * 1024 * 1024,
                  description="Bytes copied by each memcpy."),
        Parameter("loops", integer, default=1000, aliases=("iterations",),
                  description="How many times the buffer is copied. Alias: iterations."),
        Parameter("cpus", cpu_mask, default=0,
                  description="CPUs the copying process may run on: a mask (0x0f), CPU "
                              "numbers and ranges ('0-3,6') or a list of CPU numbers; 0 is "
                              "any CPU."),
        UNINSTALL,
        BINARY,
    )

    buffer_size: int
    loops: int
    cpus: int
    uninstall: bool

    def validate(self) -> None:
        if self.buffer_size < 1 or self.loops < 1:
            raise ValueError(f"buffer_size and loops must be 1 or more, got {self.buffer_size} "
                             f"and {self.loops}")

    def command_line(self, context: JobContext) -> str:
        pinned = "".join(f" -c {cpu}" for cpu in mask_cpus(self.cpus))
        return f"{shlex.quote(self.program)} -i {self.loops} -s {self.buffer_size}{pinned}"

    def time_limit(self) -> float:
        return 300.0

    def parse(self, output: str) -> Iterable[Reading]:
        return parse_memcpy(output)

    def finalize(self, context: JobContext) -> None:
        if self.uninstall:
            remove_pushed(context, self.program)


def parse_memcpy(output: str) -> list[Reading]:
    """The copy time and bandwidth, under WA3's names and units."""
    readings = []
    total_time = TOTAL_TIME.search(output)
    if total_time:
        readings.append(Reading("time", float(total_time.group(1)), "seconds",
                                lower_is_better=True))
    bandwidth = BANDWIDTH.search(output)
    if bandwidth:
        readings.append(Reading("bandwidth", float(bandwidth.group(1)), "MB/s"))
    return readings
