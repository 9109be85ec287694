"""pytest-wa: Workload Automation agendas run as pytest items on real targets.

PYTEST_DONT_REWRITE: pytest-wa's own asserts are internal invariants; pytest
need not rewrite them (and must not warn when the package is already imported).
"""

from __future__ import annotations

import pytest

from .instruments.availability import OPTIONAL, InstrumentUnavailable
from .instruments.base import Instrument, Priority
from .model.errors import (
    AgendaError,
    CommandError,
    CommandTimeoutError,
    ConfigError,
    TargetError,
    TargetNotRespondingError,
    TargetTransientError,
    WorkloadError,
)
from .model.parameters import Parameter
from .model.results import Artifact, Event, Metric
from .model.status import JobStatus
from .processors.base import OutputProcessor
from .workloads.base import Workload

__version__ = "0.1.0"

_LAZY = {"RunOutput", "JobOutput", "RunOutputError", "discover"}


def __getattr__(name: str) -> object:
    """The output reader is imported on first use, so loading the plugin stays cheap."""
    if name in _LAZY:
        from .output import reader

        return getattr(reader, name)
    raise AttributeError(f"module 'pytest_wa' has no attribute {name!r}")

#: Decorator for pytest-wa hook implementations (instruments); same as pytest.hookimpl.
hookimpl = pytest.hookimpl

__all__ = [
    "AgendaError", "Artifact", "CommandError", "CommandTimeoutError", "ConfigError",
    "discover", "Event", "hookimpl", "Instrument", "InstrumentUnavailable", "JobOutput",
    "JobStatus", "Metric", "OutputProcessor",
    "OPTIONAL", "Parameter", "Priority", "RunOutput", "RunOutputError", "TargetError",
    "TargetNotRespondingError", "TargetTransientError", "Workload", "WorkloadError",
    "__version__",
]
