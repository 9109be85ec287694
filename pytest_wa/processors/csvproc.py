"""``csv``: WA3's results.csv, one row per metric, with classifiers as columns if asked.

pytest-wa writes a ``results.csv`` for every run already (``output/writer.py``,
WA3's plain columns). Enabling ``csv`` hands that file to this processor: it
adds the classifier columns asked for, lists only the jobs whose agenda
enables it (as WA3's processor does) and puts the run-level metrics last
when the run ends. Each job's rows are on disk when the job ends: appended
in one write(2), or the file rewritten whole and renamed over the old one
when a retry replaces a job's rows or a new classifier adds a column (WA3
rewrites it after every job, which grows with the square of the run). A
crash leaves every finished job in it and never a half-written row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..model.parameters import Parameter, boolean, list_of_strings
from ..output.atomic import append_record, write_atomic
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
        self.classifiers: set[str] = set()  # every classifier seen (use_all_classifiers)
        self.written_columns: list[str] | None = None
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
                    self._keep((job.id, job.iteration), (job.id, job.label, job.iteration),
                               job.metrics)
        self._write(run, [], rewrite=True)

    def pytest_wa_job_output(self, job: JobContext) -> None:
        key = (job.output_id, job.iteration)
        again = key in self.outputs  # a retry: the earlier attempt's rows must go
        output = self._keep(key, (job.output_id, job.label, job.iteration), job.metrics)
        self._write(job.run, [output], rewrite=again)

    def pytest_wa_run_output(self, run: RunView) -> None:
        writer = run.output
        assert writer is not None
        run_name = writer.info.get("run_name") or ""
        output = self._keep(("", ""), ("", run_name, ""), writer.result.metrics)
        self._write(run, [output], rewrite=False)

    def _keep(self, key: tuple[str, Any], row: tuple[str, str, Any],
              metrics: Iterable[Metric]) -> Output:
        output = (row, list(metrics))
        self.outputs[key] = output
        self.classifiers.update(str(name) for metric in output[1]
                                for name in metric.classifiers)
        return output

    def columns(self) -> list[str]:
        """The classifier columns: those named, or every one found so far (sorted)."""
        if self.values.get("use_all_classifiers"):
            return sorted(self.classifiers)
        return list(self.values.get("extra_columns") or [])

    def _write(self, run: RunView, new: list[Output], rewrite: bool) -> None:
        """Append ``new``'s rows in one write(2), or rewrite the file whole (atomically)
        when a job's rows are replaced or a new classifier adds a column: a job costs
        its own rows, not the whole file again, and a crash leaves whole rows only."""
        writer = run.output
        assert writer is not None
        columns = self.columns()
        path = writer.directory / FILE
        if rewrite or columns != self.written_columns:
            write_atomic(path, csv_text(self.outputs.values(), columns))
        else:
            append_record(path, csv_text(new, columns, header=False))
        self.written_columns = columns
        if not self.artifact_added and writer.owns_run_files:
            self.artifact_added = True
            if not any(a.name == "run_result_csv" for a in writer.result.artifacts):
                run.add_artifact("run_result_csv", FILE, "export")


def csv_text(outputs: Iterable[Output], extra: list[str], header: bool = True) -> str:
    """WA3's columns: id, workload, iteration, metric, the extra ones, value, units
    (CRLF line ends, as Python's csv module and WA3 write them)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(["id", "workload", "iteration", "metric", *extra, "value", "units"])
    for (job_id, label, iteration), metrics in outputs:
        for metric in metrics:
            writer.writerow([job_id, label, iteration, metric.name,
                             *(str(metric.classifiers.get(c, "")) for c in extra),
                             str(metric.value), metric.units or ""])
    return buffer.getvalue()
