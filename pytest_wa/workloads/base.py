"""The Workload base class: declared parameters plus WA's lifecycle methods.

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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from ..parameters import Parameter

if TYPE_CHECKING:
    from ..job import JobContext


class Workload:
    """Base class of every workload. Subclasses set ``name`` and ``parameters``."""

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    parameters: ClassVar[Sequence[Parameter]] = ()

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        #: The directory of the agenda that configured this workload; relative
        #: file parameters (scripts, assets) are found from here.
        self.source_directory = source_directory
        self.values = dict(values)
        for key, value in values.items():
            setattr(self, key, value)

    def validate(self) -> None:
        """Check the parameter values together; raise ValueError with a clear message."""

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

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.values}>"
