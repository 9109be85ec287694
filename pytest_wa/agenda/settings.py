"""Run-wide settings of an agenda's ``config`` section (WA3's RunConfiguration).

Each value is checked here (allowed names, types, ranges) and located, so a
misspelt ``execution_order`` is reported at its line before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model.errors import Location, close_matches
from ..model.parameters import ParameterValueError, boolean, integer, number, string, type_name
from .entries import ProblemList
from .spec import (
    EXECUTION_ORDER_ALIASES,
    EXECUTION_ORDERS,
    REBOOT_POLICIES,
    REBOOT_POLICY_ALIASES,
    RETRYABLE_STATUSES,
    RunSettings,
)


def _choice(choices: tuple[str, ...], aliases: dict[str, str]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = string(value).strip().lower().replace(" ", "_")
        text = aliases.get(text, text)
        if text not in choices:
            raise ParameterValueError(f"{value!r} is not one of {', '.join(choices)}."
                                      f"{close_matches(text, [*choices, *aliases])}")
        return text
    return convert


def _statuses(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ParameterValueError(f"expected a list of statuses, got {value!r}")
    result = []
    for item in items:
        name = string(item).strip().upper()
        if name not in RETRYABLE_STATUSES:
            raise ParameterValueError(f"{item!r} is not a status a job can end in; choose from "
                                      f"{', '.join(RETRYABLE_STATUSES)}")
        result.append(name)
    return tuple(result)


def _non_negative(value: Any) -> int:
    count = integer(value)
    if count < 0:
        raise ParameterValueError(f"must be 0 or more, got {count}")
    return count


def _positive_seconds(value: Any) -> float | None:
    if value is None:
        return None
    seconds = number(value)
    if seconds <= 0:
        raise ParameterValueError(f"must be a number of seconds above 0, got {seconds!r}")
    return float(seconds)


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParameterValueError(f"expected a mapping, got {type_name(value)}")
    return dict(value)


def _stage(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    return string(value)


RUN_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "run_name": string,
    "project": string,
    "project_stage": _stage,
    "execution_order": _choice(EXECUTION_ORDERS, EXECUTION_ORDER_ALIASES),
    "reboot_policy": _choice(REBOOT_POLICIES, REBOOT_POLICY_ALIASES),
    "retry_on_status": _statuses,
    "max_retries": _non_negative,
    "bail_on_init_failure": boolean,
    "bail_on_job_failure": boolean,
    "allow_phone_home": boolean,
    "job_timeout": _positive_seconds,
    "device": string,
    "device_config": _mapping,
    "db": string,
}
RUN_SETTING_NAMES = tuple(RUN_SETTINGS)


@dataclass(frozen=True)
class ReadSettings:
    value: RunSettings
    explicit: frozenset[str]
    locations: dict[str, Location]


def read_run_settings(raw: dict[str, tuple[Any, Location, str]], problems: ProblemList
                      ) -> ReadSettings:
    """Convert the run settings found in config/global; bad values become problems.

    ``raw`` maps each setting to its value, location and key path as written.
    """
    values: dict[str, Any] = {}
    for name, (value, where, key_path) in raw.items():
        try:
            values[name] = RUN_SETTINGS[name](value)
        except ParameterValueError as exc:
            problems.add(where, key_path, str(exc))
    locations = {name: where for name, (_, where, _) in raw.items()}
    return ReadSettings(RunSettings(**values), frozenset(values), locations)
