"""Warnings pytest-wa shows at the agenda line they are about.

A warning raised from pytest-wa's own source would point the user at our
code; the job's agenda line is where they can act.
"""

from __future__ import annotations

import warnings

from .errors import Location


class PytestWAWarning(UserWarning):
    """A job passed, but something about it deserves attention (e.g. NONCRITICAL)."""


def warn_at(warning: Warning, location: Location) -> None:
    """Show ``warning`` as if raised at ``location`` (an agenda file and line)."""
    warnings.warn_explicit(warning, type(warning), location.path, location.line)
