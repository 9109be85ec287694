"""``csv``: WA3's results.csv, one row per metric, with classifiers as columns if asked.

pytest-wa writes a ``results.csv`` for every run already (``output/writer.py``,
WA3's plain columns). Enabling ``csv`` hands that file to this processor: it
adds the classifier columns asked for, lists only the jobs whose agenda
enables it (as WA3's processor does) and puts the run-level metrics last
when the run ends. The file is rewritten whole, atomically, after each job,
so a crash leaves every finished job in it and never a half-written row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..model.parameters import Parameter, boolean, list_of_strings
from ..output.atomic import write_atomic
from .base import OutputProcessor

if TYPE_CHECKING:
    from ..model.results import Metric
    from ..plugins.context import JobContext, RunView

FILE = "results.csv"
#: One output's rows: (id, workload label, iteration) and its metrics.
Output = tuple[tuple[str, str, Any], list["Metric"]]


class Csv(OutputProcessor):
    name = "csv"
    description = """
    Writes results.csv, one row per metric, classifiers as columns if asked.

    Columns id, workload, iteration, metric, the classifiers asked for, value and
    units; one row per metric of every job, and the run's own metrics last (with an
    empty id and iteration, and the run name as workload).
    """
    replaces = (FILE,)
    parameters = [
        Parameter("use_all_classifiers", boolean, False, description=(
            "Add a column for every classifier found on at least one metric (sorted by "
            "name). Cannot be used with extra_columns.")),
        Parameter("extra_columns", list_of_strings, None, description=(
            "Classifiers to add as columns, in this order, between metric and value. "
            "Cannot be used with use_all_classifiers.")),
    ]

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        super().__init__(source_directory, **values)
        self.outputs: dict[tuple[str, Any], Output] = {}  # (id, iteration): the last attempt
        self.artifact_added = False

    def validate(self) -> None:
        """WA3 refuses the two ways of choosing columns together."""
        if self.values.get("use_all_classifiers") and self.values.get("extra_columns"):
            raise ValueError("extra_columns cannot be given when use_all_classifiers is true")

    def pytest_wa_run_start(self, run: RunView) -> None:
        """The file exists from the start, as the default one does; a resumed run
        (``--wa-resume``) keeps the rows of the jobs its earlier sessions finished."""
        writer = run.output
        assert writer is not None
        if any(entry.status.is_final for entry in writer.order):
            from ..output.reader import RunOutput

            for job in RunOutput(writer.directory).jobs:
                if job.status.is_final:
                    self.outputs[(job.id, job.iteration)] = (
                        (job.id, job.label, job.iteration), list(job.metrics))
        self._write(run, [])

    def pytest_wa_job_output(self, job: JobContext) -> None:
        key = (job.output_id, job.iteration)
        self.outputs[key] = ((job.output_id, job.label, job.iteration), list(job.metrics))
        self._write(job.run, [])

    def pytest_wa_run_output(self, run: RunView) -> None:
        writer = run.output
        assert writer is not None
        run_name = writer.info.get("run_name") or ""
        self._write(run, [(("", run_name, ""), list(writer.result.metrics))])

    def columns(self, outputs: Iterable[Output]) -> list[str]:
        """The classifier columns: those named, or every one found (sorted)."""
        if self.values.get("use_all_classifiers"):
            return sorted({str(name) for _, metrics in outputs for metric in metrics
                           for name in metric.classifiers})
        return list(self.values.get("extra_columns") or [])

    def _write(self, run: RunView, run_rows: list[Output]) -> None:
        writer = run.output
        assert writer is not None
        outputs = [*self.outputs.values(), *run_rows]
        write_atomic(writer.directory / FILE, csv_text(outputs, self.columns(outputs)))
        if not self.artifact_added and writer.owns_run_files:
            self.artifact_added = True
            if not any(a.name == "run_result_csv" for a in writer.result.artifacts):
                run.add_artifact("run_result_csv", FILE, "export")


def csv_text(outputs: Iterable[Output], extra: list[str]) -> str:
    """WA3's columns: id, workload, iteration, metric, the extra ones, value, units
    (CRLF line ends, as Python's csv module and WA3 write them)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "workload", "iteration", "metric", *extra, "value", "units"])
    for (job_id, label, iteration), metrics in outputs:
        for metric in metrics:
            writer.writerow([job_id, label, iteration, metric.name,
                             *(str(metric.classifiers.get(c, "")) for c in extra),
                             str(metric.value), metric.units or ""])
    return buffer.getvalue()
