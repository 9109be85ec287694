"""The Instrument base class: a named, configurable set of stage-hook wrappers.

An instrument is a plain class whose methods are ``pytest_wa_*`` hook
implementations, usually ``@pytest.hookimpl(wrapper=True)`` around a stage.
It runs only for jobs whose agenda enables it (``augmentations: [name]``).
``priority`` orders instruments around the workload: the higher, the closer
(WA's very_fast ... very_slow); a power meter should be closest.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, ClassVar

from ..parameters import Parameter


class Priority(enum.IntEnum):
    VERY_SLOW = -20
    SLOW = -10
    NORMAL = 0
    FAST = 10
    VERY_FAST = 20


class Instrument:
    """Base class of instruments. Subclasses set ``name`` and implement stage hooks."""

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    parameters: ClassVar[Sequence[Parameter]] = ()
    priority: ClassVar[int] = Priority.NORMAL

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        self.source_directory = source_directory
        self.values = dict(values)
        for key, value in values.items():
            setattr(self, key, value)

    def validate(self) -> None:
        """Check the parameter values together; raise ValueError with a clear message."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
