"""``idle``: do nothing on the target for a while (WA3's idle workload).

Used to measure a device at rest (power, temperature, background activity)
and, with ``duration: 0``, to measure the framework itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model.errors import WorkloadError
from ..model.parameters import Parameter, boolean, number
from .base import Workload

if TYPE_CHECKING:
    from ..plugins.context import JobContext


class Idle(Workload):
    name = "idle"
    description = "Do nothing for the given duration; the target sleeps."
    parameters = (
        Parameter("duration", number, default=20,
                  description="How long to idle, in seconds (0 returns at once)."),
        Parameter("screen_off", boolean, default=False,
                  description="Android only: turn the screen off before idling."),
    )

    duration: float
    screen_off: bool

    def validate(self) -> None:
        if self.duration < 0:
            raise ValueError(f"duration must be 0 or more seconds, got {self.duration}")

    def setup(self, context: JobContext) -> None:
        if self.screen_off and context.target.properties.os != "android":
            raise WorkloadError("screen_off needs an Android target; this one runs "
                                f"{context.target.properties.os}")
        if self.screen_off:
            context.target.execute("input keyevent KEYCODE_SLEEP", timeout=30, check=True)

    def run(self, context: JobContext) -> None:
        if self.duration > 0:
            context.target.execute(f"sleep {self.duration:g}", timeout=self.duration + 30,
                                   check=True)
