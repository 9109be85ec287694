"""Statistics of a metric over iterations (``summary``), in pure Python (``tdist``).

Below every other package but the model: the terminal report, the run
directory's statistics file and the HTML report all compute them the same way.
"""

from __future__ import annotations

from .summary import UNSTABLE_CV, Summary, summarize

__all__ = ["UNSTABLE_CV", "Summary", "summarize"]
