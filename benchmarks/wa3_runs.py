"""What the benchmarks that compare with WA3 3.3.1 share: where WA3's ``wa`` command is."""

from __future__ import annotations

import os
import tempfile


def wa3_program() -> str | None:
    """WA3's ``wa`` command: beside $WA3_PYTHON (as .ci/run sets it), else in the venv
    .ci/run makes; None when WA3 is not installed."""
    python = os.environ.get("WA3_PYTHON") or os.path.join(
        tempfile.gettempdir(), "pytest-wa-wa3venv", "bin", "python")
    wa = os.path.join(os.path.dirname(python), "wa")
    return wa if os.access(wa, os.X_OK) else None
