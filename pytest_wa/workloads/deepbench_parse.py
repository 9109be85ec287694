"""Reading what DeepBench's Arm benchmarks print, in either of their two formats.

Upstream's ``code/arm`` programs (what WA3 3.3.1 was written for) print a
table: a ``----`` rule, a header whose column names may hold single spaces
(``time (msec)``), and one whitespace-separated row per problem. Arm's
modernized benchmarks (DeepBench pull request #102, the versions that take
``--device``, ``--m`` ...) print CSV instead, with other column names and the
GEMM time in microseconds. Both become WA3's metrics: each row's timings are
metrics and its other columns (the problem's sizes) are their classifiers, so
a run of either version reads the same.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .tool import Reading

TESTS = ("gemm", "conv", "sparse")


@dataclass(frozen=True)
class Figure:
    """A metric of WA3's, as a column of a test's table."""

    units: str | None
    lower_is_better: bool


#: Per test, WA3's metric names (the table's column names); conv's GOPS is in the CSV only.
METRICS: dict[str, dict[str, Figure]] = {
    "gemm": {"time (msec)": Figure("msec", True), "GOPS": Figure("GOP/s", False)},
    "conv": {"fwd_time (usec)": Figure("usec", True), "GOPS": Figure("GOP/s", False)},
    "sparse": {"sparse time (usec)": Figure("usec", True),
               "dense time (usec)": Figure("usec", True),
               "speedup": Figure(None, False)},
}

#: A CSV column -> the table's name for it, and the factor to the table's units.
CSV_COLUMNS: dict[str, tuple[str, float]] = {
    "GEMMOP": ("op", 1), "OP": ("op", 1), "TA": ("a_t", 1), "TB": ("b_t", 1),
    "M": ("m", 1), "N": ("n", 1), "K": ("k", 1),
    "USEC": ("time (msec)", 1e-3), "GOP/s": ("GOPS", 1), "gops": ("GOPS", 1),
    "usecs": ("fwd_time (usec)", 1), "filter_w": ("f_w", 1), "filter_h": ("f_h", 1),
    "wstride": ("stride_w", 1), "hstride": ("stride_h", 1),
}
#: How each version writes "transposed": t/n (gemm's table), 1/0 (sparse's table, where
#: a precedence slip prints the bool), true/false (CSV). Classifiers say t or n.
TRANSPOSED = {"t": "t", "1": "t", "true": "t", "n": "n", "0": "n", "false": "n"}

_RULE = re.compile(r"^-{4,}\s*$")
#: Header columns end at two spaces, or at one space after ")".
_HEADER_GAP = re.compile(r"\s{2,}|(?<=\))\s+")
_CSV_HEADER = re.compile(r"^[A-Za-z_/]+(?:,[A-Za-z_/]+)+$")
_INTEGER = re.compile(r"^[-+]?\d+$")


def value_of(text: str) -> Any:
    """An integer, a float (``1.60563e+06`` too) or the text as it is."""
    if _INTEGER.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def table_rows(lines: list[str]) -> Iterator[dict[str, str]]:
    """The rows of the table after the first ``----`` rule, until a blank line; a row
    with fewer or more fields than the header (cut short by a kill) is left out."""
    start = next((i for i, line in enumerate(lines) if _RULE.match(line)), None)
    if start is None or start + 1 >= len(lines):
        return
    columns = [c for c in _HEADER_GAP.split(lines[start + 1].strip()) if c]
    for line in lines[start + 2:]:
        if not line.strip():
            return
        fields = line.split()
        if not _RULE.match(line) and len(fields) == len(columns):
            yield dict(zip(columns, fields, strict=True))


def csv_rows(lines: list[str]) -> Iterator[dict[str, str]]:
    """The CSV rows after the first CSV header, named as the table names them."""
    start = next((i for i, line in enumerate(lines) if _CSV_HEADER.match(line.strip())), None)
    if start is None:
        return
    header = lines[start].strip().split(",")
    for line in lines[start + 1:]:
        fields = line.strip().split(",")
        if len(fields) == len(header):
            yield {CSV_COLUMNS.get(name, (name, 1))[0]: text
                   for name, text in zip(header, fields, strict=True)}


def _scales(lines: list[str]) -> dict[str, float]:
    """Table name -> factor, for the columns of a CSV header (the GEMM time: usec->msec)."""
    header = next((line.strip() for line in lines if _CSV_HEADER.match(line.strip())), "")
    return {CSV_COLUMNS[name][0]: CSV_COLUMNS[name][1]
            for name in header.split(",") if name in CSV_COLUMNS}


def _reading(name: str, figure: Figure, text: str, scale: float,
             classifiers: dict[str, Any]) -> Reading | None:
    value = value_of(text)
    if isinstance(value, str) or not math.isfinite(value):
        return None  # "Not Supported", or a speedup over a time of 0 ("inf")
    if scale != 1:
        value = value * scale
    return Reading(name, value, figure.units, figure.lower_is_better, dict(classifiers))


def parse_deepbench(output: str, test: str) -> Iterator[Reading]:
    """``test``'s metrics from each row of the table or CSV, the row's other columns as
    classifiers."""
    lines = output.splitlines()
    is_csv = any(_CSV_HEADER.match(line.strip()) for line in lines)
    rows = csv_rows(lines) if is_csv else table_rows(lines)
    scales = _scales(lines) if is_csv else {}
    figures = METRICS[test]
    for row in rows:
        classifiers = {name: _classifier(name, text) for name, text in row.items()
                       if name not in figures}
        for name, text in row.items():
            if name in figures:
                reading = _reading(name, figures[name], text, scales.get(name, 1), classifiers)
                if reading is not None:
                    yield reading


def _classifier(name: str, text: str) -> Any:
    if name in ("a_t", "b_t"):
        return TRANSPOSED.get(text.lower(), text)
    return value_of(text)
