"""The two text summaries of a run, as WA3's csv and status output processors write them."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Sequence
from typing import Any

from ..model.results import Event, Metric
from ..model.status import JobStatus


def csv_rows(job_id: str, label: str, iteration: int | str, metrics: Iterable[Metric]) -> str:
    """``id,workload,iteration,metric,value,units`` rows with WA3's CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for metric in metrics:
        writer.writerow([job_id, label, iteration, metric.name, metric.value,
                         metric.units or ""])
    return buffer.getvalue()


def without_job_rows(text: str, job_id: str, iteration: int | str) -> str | None:
    """``results.csv`` (``text``) less the rows of one job iteration, or None if it has none.

    An attempt that is no longer a job's last (a retry, a job run again by
    ``--wa-resume``) must leave no rows: WA3's file lists final jobs only.
    ``("", "")`` names the run-level rows, which a resumed run writes again
    at its end. What is kept is written back as ``csv`` reads it, which is
    byte for byte what ``csv_rows`` wrote.
    """
    rows = list(csv.reader(io.StringIO(text, newline="")))
    key = [job_id, str(iteration)]
    kept = [row for row in rows if len(row) < 3 or [row[0], row[2]] != key]
    if len(kept) == len(rows):
        return None
    buffer = io.StringIO()
    csv.writer(buffer).writerows(kept)
    return buffer.getvalue()


def _first_line(message: str) -> str:
    lines = message.strip().splitlines() or [""]
    return lines[0] + ("[...]" if len(lines) > 1 else "")


def _event_summary(events: Sequence[str]) -> str:
    if not events:
        return ""
    more = "[...]" if len(events) > 1 and "[...]" not in _first_line(events[0]) else ""
    return f"({len(events)} event(s)): {_first_line(events[0])}{more}"


def status_text(run_name: str | None, status: JobStatus, run_events: Sequence[Event],
                entries: Sequence[Any], ok_only: bool = False) -> str:
    """WA3's status.txt: header, run events, a padded table of every job.

    The count of jobs "completed without error" takes in NONCRITICAL jobs,
    which pytest passes too; ``ok_only`` counts only OK ones, as WA3's
    ``status`` processor does.
    """
    lines = [f"Run name: {run_name or ''}", f"Run status: {status.name}",
             f"Date: {time.strftime('%c')}"]
    if run_events:
        lines.append("Events:")
        lines += [f"\t{_first_line(event.message)}" for event in run_events]
    done = [e for e in entries if e.status.is_final and e.status != JobStatus.SKIPPED]
    ok = sum(1 for e in done if (e.status == JobStatus.OK if ok_only else e.status.passed))
    lines += [f"{ok}/{len(done)} iterations completed without error", ""]
    rows = [(e.id, e.label, str(e.iteration), e.status.name, _event_summary(e.events))
            for e in done]
    if rows:
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]),
                     row[2].rjust(widths[2]), row[3].rjust(widths[3]), row[4].ljust(widths[4])]
            lines.append(" ".join(cells))
    return "\n".join(lines) + "\n"
