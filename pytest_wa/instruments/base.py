"""The Instrument base class: a named, configurable set of stage-hook wrappers.

An instrument is a plugin whose methods are ``pytest_wa_*`` hook
implementations, usually ``@pytest.hookimpl(wrapper=True)`` around a stage.
It runs only for jobs whose agenda enables it (``augmentations: [name]``).
``priority`` orders instruments around the workload: the higher, the closer
(WA's very_fast ... very_slow); a power meter should be closest. ``check``
refuses a device that lacks what the instrument needs, before the first job.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, ClassVar

from ..plugins.base import Plugin

if TYPE_CHECKING:
    from ..targets.protocols import Target


class Priority(enum.IntEnum):
    VERY_SLOW = -20
    SLOW = -10
    NORMAL = 0
    FAST = 10
    VERY_FAST = 20


class Instrument(Plugin):
    """Base class of instruments. Subclasses set ``name`` and implement stage hooks."""

    kind: ClassVar[str] = "instrument"
    priority: ClassVar[int] = Priority.NORMAL

    def check(self, target: Target) -> None:
        """Raise ``InstrumentUnavailable`` (instruments/availability.py) when ``target``
        cannot give what this instrument records; called once, before the first job.
        The default accepts every device."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
