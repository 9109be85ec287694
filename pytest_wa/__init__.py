"""pytest-wa: Workload Automation agendas run as pytest items on real targets.

PYTEST_DONT_REWRITE: pytest-wa's own asserts are internal invariants; pytest
need not rewrite them (and must not warn when the package is already imported).
"""

from __future__ import annotations

import pytest

from .errors import (
    AgendaError,
    CommandError,
    CommandTimeoutError,
    ConfigError,
    TargetError,
    TargetNotRespondingError,
    TargetTransientError,
    WorkloadError,
)
from .instruments.base import Instrument, Priority
from .parameters import Parameter
from .results import Artifact, Event, Metric
from .status import JobStatus
from .workloads.base import Workload

__version__ = "0.1.0"

#: Decorator for pytest-wa hook implementations (instruments); same as pytest.hookimpl.
hookimpl = pytest.hookimpl

__all__ = [
    "AgendaError", "Artifact", "CommandError", "CommandTimeoutError", "ConfigError", "Event",
    "Instrument", "JobStatus", "Metric", "Parameter", "Priority", "TargetError",
    "TargetNotRespondingError", "TargetTransientError", "Workload", "WorkloadError",
    "__version__", "hookimpl",
]
