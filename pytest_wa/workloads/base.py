"""The Workload base class: WA's lifecycle methods on top of the plugin base.

One instance is made per job spec, so state set in ``initialize`` or
``setup`` is shared by that spec's iterations, as in WA3. The run calls:

- ``validate()`` at collection, without a target: check parameter combinations;
- ``initialize(context)`` once per run, before the spec's first job;
- ``setup``, ``run``, ``extract_results``, ``teardown`` for every job;
- ``finalize(context)`` once at the end of the run if ``initialize`` ran.

``context`` is the job (``JobContext``): ``context.target`` runs commands,
``context.add_metric(...)`` records results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..plugins.base import Plugin

if TYPE_CHECKING:
    from ..plugins.context import JobContext


class Workload(Plugin):
    """Base class of every workload. Subclasses set ``name`` and ``parameters``."""

    kind: ClassVar[str] = "workload"

    def initialize(self, context: JobContext) -> None:
        """Once per run, before the first job of this spec (install, prepare assets)."""

    def setup(self, context: JobContext) -> None:
        """Before each job: prepare the target for a measurement."""

    def run(self, context: JobContext) -> None:
        """Run the workload once. Keep only the measured work here."""

    def extract_results(self, context: JobContext) -> None:
        """Collect results from the target into metrics and artifacts."""

    def teardown(self, context: JobContext) -> None:
        """After each job: undo what setup did."""

    def finalize(self, context: JobContext) -> None:
        """Once at the end of the run: undo what initialize did."""
