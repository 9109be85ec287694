"""The run output directory: WA3's layout, written crash-safely, read back by RunOutput.

The reader is imported on first use, so that loading the plugin (which needs
only the run log from this package) stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["JobOutput", "RunOutput", "RunOutputError", "discover"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import reader

        return getattr(reader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
