"""What one session will run, as the output directory needs to know it up front.

One pytest session is one WA run, whatever number of agendas it collects. Job
ids are unique within an agenda, not across agendas; when two agendas of the
session use the same id, the output names each such job ``<agenda>.<id>``
(``.`` is legal in WA ids, ``-`` is not) so that no job directory is shared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..agenda.spec import Agenda, Job, JobSpec


@dataclass(frozen=True)
class PlannedJob:
    job: Job
    agenda: Agenda
    output_id: str


def _agenda_names(agendas: list[Agenda]) -> dict[str, str]:
    """A short, unique name per agenda: its stem, with as many parent folders as it
    takes to tell agendas apart (``teamA.cpu``), numbered if even that is not enough."""
    paths = [Path(agenda.path).with_suffix("") for agenda in agendas]
    depth = max((len(path.parts) for path in paths), default=1)
    for parts in range(1, depth + 1):
        names = [".".join(path.parts[-parts:]).replace("-", "_").lstrip("._") or "agenda"
                 for path in paths]
        if len(set(names)) == len(names):
            break
    else:
        names = [f"{name}{index}" for index, name in enumerate(names, 1)]
    return {agenda.path: name for agenda, name in zip(agendas, names, strict=True)}


class RunPlan:
    """The session's jobs in run order, with the ids the output uses for them."""

    def __init__(self, entries: Iterable[tuple[Job, Agenda]]) -> None:
        pairs = list(entries)
        agendas = list({agenda.path: agenda for _, agenda in pairs}.values())
        users: dict[str, set[str]] = defaultdict(set)
        for job, agenda in pairs:
            users[job.spec.id].add(agenda.path)
        names = _agenda_names(agendas)
        self.agendas = agendas
        self.jobs = [PlannedJob(job, agenda, f"{names[agenda.path]}.{job.spec.id}"
                                if len(users[job.spec.id]) > 1 else job.spec.id)
                     for job, agenda in pairs]
        self._ids = {(p.job.spec.agenda, p.job.spec.id): p.output_id for p in self.jobs}

    def keep(self, jobs: Iterable[Job]) -> None:
        """Narrow the plan to the jobs that will run (after -k, --lf, resume...);
        output ids stay those computed over everything collected."""
        wanted = {id(job) for job in jobs}
        self.jobs = [planned for planned in self.jobs if id(planned.job) in wanted]

    def output_id(self, spec: JobSpec) -> str:
        return self._ids.get((spec.agenda, spec.id), spec.id)

    def raw_files(self) -> list[str]:
        return [path for agenda in self.agendas for path in agenda.files]

    def first_settings(self) -> Any:
        return self.agendas[0].settings if self.agendas else None
