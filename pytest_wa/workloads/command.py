"""``command`` (alias ``shell``): run one command line and turn its output into metrics.

Each declared metric is a regular expression searched in the command's
standard output, then its standard error (``dd`` reports on stderr); the first
group of the first match is the value. A non-zero exit makes the job FAILED;
a declared metric that is not found makes it PARTIAL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model.errors import WorkloadError
from ..model.parameters import Parameter, boolean, mapping, number, string
from ..targets.base import CommandResult
from .base import Workload

if TYPE_CHECKING:
    from ..plugins.context import JobContext


@dataclass(frozen=True)
class MetricPattern:
    name: str
    regex: re.Pattern[str]
    units: str | None
    lower_is_better: bool


def parse_number(text: str) -> int | float:
    """Metric values are numbers: an int when the text is integral, else a float."""
    cleaned = text.strip().replace(",", "")
    try:
        return int(cleaned)
    except ValueError:
        return float(cleaned)


def _pattern(name: str, spec: Any) -> MetricPattern:
    if isinstance(spec, str):
        spec = {"regex": spec}
    if not isinstance(spec, dict) or "regex" not in spec:
        raise ValueError(f"metric {name!r} must be a regex or a mapping with 'regex'")
    unknown = set(spec) - {"regex", "units", "lower_is_better"}
    if unknown:
        raise ValueError(f"metric {name!r} has unknown keys {sorted(unknown)}; allowed: regex, "
                         "units, lower_is_better")
    try:
        regex = re.compile(str(spec["regex"]), re.MULTILINE)
    except re.error as exc:
        raise ValueError(f"metric {name!r}: invalid regex {spec['regex']!r}: {exc}") from None
    if regex.groups < 1:
        raise ValueError(f"metric {name!r}: the regex needs a group, e.g. '([0-9.]+) MB/s', "
                         "whose match is the value")
    units = spec.get("units")
    return MetricPattern(name, regex, None if units is None else str(units),
                         boolean(spec.get("lower_is_better", False)))


def metric_patterns(metrics: dict[str, Any]) -> list[MetricPattern]:
    return [_pattern(str(name), spec) for name, spec in metrics.items()]


class Command(Workload):
    name = "command"
    aliases = ("shell",)
    description = "Run a command line on the target; extract metrics from its output."
    parameters = (
        Parameter("command", string, mandatory=True, description="The shell command line."),
        Parameter("as_root", boolean, default=False, description="Run it as root."),
        Parameter("timeout", number, default=300,
                  description="Seconds before the command is killed (with all it started)."),
        Parameter("metrics", mapping, default={},
                  description="NAME: regex, or NAME: {regex, units, lower_is_better}. "
                              "The regex's first group is the value."),
    )

    command: str
    as_root: bool
    timeout: float
    metrics: dict[str, Any]

    def validate(self) -> None:
        self.patterns = metric_patterns(self.metrics or {})
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")

    def run(self, context: JobContext) -> None:
        self.result: CommandResult | None = None
        self.result = context.target.execute(self.command, timeout=self.timeout,
                                             as_root=self.as_root)
        context.add_output(self.result)
        if not self.result.ok:
            tail = (self.result.stderr or self.result.stdout).strip().splitlines()[-5:]
            raise WorkloadError(f"command exited with code {self.result.exit_code}: "
                                f"{self.command}" + ("\n" + "\n".join(tail) if tail else ""))

    def extract_results(self, context: JobContext) -> None:
        if self.result is None:
            return
        extract_metrics(context, self.patterns, self.result)


def extract_metrics(context: JobContext, patterns: list[MetricPattern],
                    result: CommandResult) -> None:
    """Add one metric per pattern found; raise WorkloadError naming those not found."""
    missing = []
    for pattern in patterns:
        match = pattern.regex.search(result.stdout) or pattern.regex.search(result.stderr)
        if match is None:
            missing.append(pattern.name)
            continue
        try:
            value = parse_number(match.group(1))
        except ValueError:
            raise WorkloadError(f"metric {pattern.name!r}: matched {match.group(1)!r}, which "
                                "is not a number") from None
        context.add_metric(pattern.name, value, pattern.units,
                           lower_is_better=pattern.lower_is_better)
    if missing:
        raise WorkloadError(f"declared metric(s) not found in the output: {', '.join(missing)}")
