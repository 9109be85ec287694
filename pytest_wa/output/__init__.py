"""The run output directory: WA3's layout, written crash-safely, read back by RunOutput."""

from __future__ import annotations

from .reader import JobOutput, RunOutput, RunOutputError, discover

__all__ = ["JobOutput", "RunOutput", "RunOutputError", "discover"]
