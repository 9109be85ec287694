"""Instrument data the report draws as plots, when the run has it.

Read from the metrics the instruments recorded (their names and classifiers
are documented in docs/instruments.md), not from their CSV artifacts: the
metrics are already loaded, and the artifacts stay one click away in the
jobs table.

- **frequency residency** (``cpufreq``): each job's mean share of time at each
  frequency, per cpufreq policy (``cpufreq_<policy>_<f>khz_residency``);
- **idle-state residency** (``cpuidle``): each job's mean share of time in each
  idle state, per CPU, and the rest of the time as ``active``;
- **energy and power** (``energy_measurement``, ``hwmon``): every metric in
  joules, or in watts over the job (not hwmon's momentary readings before and
  after it), a bar per job (mean and 95 % CI);
- **temperature** (``thermal``, ``hwmon``): every metric in degrees, per job in
  the order the jobs ran, per device: a device warming up across a run shows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..model.status import JobStatus
from .metrics import num

if TYPE_CHECKING:
    from ..compare.runs import Key
    from ..output.reader import RunOutput

FREQUENCY = re.compile(r"^cpufreq_(?P<group>.+)_(?P<bin>\d+)khz_residency$")
IDLE = re.compile(r"^cpuidle_(?P<group>cpu\d+)_(?P<bin>.+)_residency$")
ENERGY_UNITS = ("joules", "watts")
TEMPERATURE_UNITS = ("degrees",)
MOMENTARY = re.compile(r"_(before|after)$")
SIDES = re.compile(r"^(?P<sensor>.+?)_(?P<side>before|after|max)$")

Rows = list[tuple["Key", dict[str, Any]]]


def _frequency_label(khz: str) -> str:
    value = int(khz)
    return f"{value / 1e6:g} GHz" if value >= 1_000_000 else f"{value / 1e3:g} MHz"


def _shades(bars: dict[tuple[str, str], list[tuple[float, str, float]]]
            ) -> dict[tuple[str, float], float]:
    """Each (group, bin order) as 0..1 among the group's bins in every job: the same
    frequency of a policy is the same colour in every bar."""
    orders: dict[str, set[float]] = {}
    for (_, group), segments in bars.items():
        orders.setdefault(group, set()).update(order for order, _, _ in segments)
    shades = {}
    for group, seen in orders.items():
        ranked = sorted(seen)
        for index, order in enumerate(ranked):
            shades[group, order] = index / (len(ranked) - 1) if len(ranked) > 1 else 0.5
    return shades


def _residency(rows: Rows, counted: dict[str, int], pattern: re.Pattern[str], order: str,
               label: Any, remainder: str | None) -> list[dict[str, Any]]:
    """Bars of (job, group) with a segment ``[bin, mean %, shade]`` per bin, in ``order``
    (a classifier); ``remainder`` names what is left of 100 % (shade None). A bin an
    iteration did not report (cpufreq leaves out frequencies never used) counts as 0 %
    in it: the mean is over the job's ``counted`` iterations, so a bar adds up to 100 %."""
    bars: dict[tuple[str, str], list[tuple[float, str, float]]] = {}
    for key, row in rows:
        match = pattern.match(row["name"])
        classifiers = dict(key[2])
        if not match or order not in classifiers or row["mean"] is None:
            continue
        share = row["mean"] * row["n"] / max(counted.get(row["job"], 0), row["n"])
        bars.setdefault((f"{row['job']}-{row['label']}", match["group"]), []).append(
            (float(classifiers[order]), label(match["bin"], classifiers), share))
    shades = _shades(bars)
    found = []
    for (job, group), segments in bars.items():
        segments.sort()
        shares: list[list[Any]] = [[name, share, num(shades[group, at])]
                                   for at, name, share in segments]
        rest = 100.0 - sum(share for _, _, share in segments)
        if remainder and rest > 0.05:
            shares.append([remainder, rest, None])
        shares = [[name, num(share), shade] for name, share, shade in shares]
        found.append({"job": job, "group": group, "bins": shares})
    return found


def residencies(rows: Rows, counted: dict[str, int]) -> list[dict[str, Any]]:
    """Frequency and idle-state residency charts (only those with data); ``counted``:
    each job id's iterations that ended OK."""
    charts = [
        {"title": "Frequency residency (cpufreq): share of each job's time at each frequency",
         "bars": _residency(rows, counted, FREQUENCY, "frequency",
                            lambda khz, _: _frequency_label(khz), None)},
        {"title": "Idle-state residency (cpuidle): share of each job's time in each idle "
                  "state", "bars": _residency(rows, counted, IDLE, "state",
                                             lambda _, c: str(c.get("idle_state")), "active")}]
    return [chart for chart in charts if chart["bars"]]


def energy(rows: Rows) -> list[dict[str, Any]]:
    """Per metric name in joules, or in watts over the job (not a momentary ``_before``
    or ``_after`` reading): the indices of its rows in the metrics table."""
    charts: dict[str, dict[str, Any]] = {}
    for index, (_, row) in enumerate(rows):
        if row["units"] in ENERGY_UNITS and not MOMENTARY.search(row["name"]):
            chart = charts.setdefault(row["name"], {"name": row["name"], "units": row["units"],
                                                    "rows": []})
            chart["rows"].append(index)
    return list(charts.values())


def counted(status: JobStatus) -> bool:
    """Whether a job's metrics count (as in ``compare`` and the statistics)."""
    return status in (JobStatus.OK, JobStatus.NONCRITICAL)


def _first(point: list[Any]) -> Any:
    return point[0]


def temperatures(run: RunOutput, jobs: list[dict[str, Any]], devices: list[str]
                 ) -> list[dict[str, Any]]:
    """Per sensor: a series per side (before/after/max) and device, one point a job
    (its start, in s from the run's start, and the value), in the order the jobs ran."""
    charts: dict[str, dict[str, Any]] = {}
    for job, row in zip(run.jobs, jobs, strict=True):
        if row["t0"] is None or not counted(job.status):
            continue
        for metric in job.metrics:
            if metric.units not in TEMPERATURE_UNITS:
                continue
            match = SIDES.match(metric.name)
            sensor, side = (match["sensor"], match["side"]) if match else (metric.name, "")
            chart = charts.setdefault(sensor, {"name": sensor, "units": metric.units,
                                               "series": {}})
            name = " ".join(part for part in (devices[row["dev"]] if len(devices) > 1
                                              else "", side) if part) or sensor
            chart["series"].setdefault(name, []).append([row["t0"], num(metric.value)])
    return [{**chart, "series": [{"label": label, "points": sorted(points, key=_first)}
                                 for label, points in chart["series"].items()]}
            for chart in charts.values()]
