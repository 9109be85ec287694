"""The OutputProcessor base class: a named, configurable set of output hooks.

WA3's output processors see each job's output and then the run's; here they
implement ``pytest_wa_job_output`` (called for the jobs whose agenda enables
the processor) and ``pytest_wa_run_output`` (once, when the run's results are
final and the output is still open). pytest-wa always writes ``results.csv``
and ``status.txt``; a processor that writes one of them its own way names it
in ``replaces``, and the run directory then leaves that file to it.
"""

from __future__ import annotations

from typing import ClassVar

from ..plugins.base import Plugin


class OutputProcessor(Plugin):
    """Base class of output processors. Subclasses set ``name`` and implement hooks."""

    kind: ClassVar[str] = "output processor"
    #: Files of the run directory this processor writes instead of pytest-wa's
    #: default writer (names relative to the run directory).
    replaces: ClassVar[tuple[str, ...]] = ()

    def finalize(self) -> None:
        """Called once the run's output is closed (run.log detached, every file
        written): the place for what must come last, such as deleting the output."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
