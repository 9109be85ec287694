"""Declared, typed, documented parameters of workloads and instruments.

A plugin lists its ``Parameter`` objects; values from agendas are converted and
checked against them at collection time, so a typo or a wrong type is reported
with its file and line before anything runs (WA3 checks late, on the target).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import close_matches

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


class ParameterValueError(ValueError):
    """A value does not fit a parameter; the message says what was expected."""


@dataclass(frozen=True)
class Kind:
    """A parameter type: a name for documentation and a converter."""

    name: str
    convert: Callable[[Any], Any]

    def __call__(self, value: Any) -> Any:
        return self.convert(value)


_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (dict, "mapping"),
    (list, "list"), (type(None), "null"),
)
MAX_SHOWN = 80


def type_name(value: Any) -> str:
    """The YAML-level name of a value's type ('mapping', 'list', ...), for messages."""
    for cls, name in _TYPE_NAMES:
        if isinstance(value, cls):
            return name
    return type(value).__name__


def shown(value: Any) -> str:
    """``repr(value)``, cut short: messages quote what the user wrote, not a whole file."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."


def _describe(value: Any) -> str:
    return f"{shown(value)} ({type_name(value)})"


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ParameterValueError(f"expected an integer, got {_describe(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        for base in (10, 0):  # "010" is ten, as in WA3; "0x10" is sixteen
            try:
                return int(value.strip(), base)
            except ValueError:
                pass
    raise ParameterValueError(f"expected an integer, got {_describe(value)}")


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise ParameterValueError(f"expected a number, got {_describe(value)}")
    number: float | int | None = None
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value)
    if number is None:
        raise ParameterValueError(f"expected a number, got {_describe(value)}")
    if not math.isfinite(number):  # .inf seconds would hang a run, .nan compares false
        raise ParameterValueError(f"expected a finite number, got {_describe(value)}")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ParameterValueError(f"expected true or false, got {_describe(value)}")


def _string(value: Any) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise ParameterValueError(f"expected a string, got {_describe(value)}")


def _list_of_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [_string(item) for item in value]
    raise ParameterValueError(f"expected a list of strings, got {_describe(value)}")


def _mapping(value: Any) -> dict:
    if isinstance(value, dict):
        return dict(value)
    raise ParameterValueError(f"expected a mapping, got {_describe(value)}")


def _anything(value: Any) -> Any:
    return value


def _percentage(value: Any) -> float:
    """``5%``, ``5 %``, ``5`` or ``2.5`` as a number of percent (never a fraction: 0.05
    is 0.05 %, as written), at least 0: thresholds and CV targets are written so."""
    text = value.strip().removesuffix("%").strip() if isinstance(value, str) else value
    try:
        found = float(_number(text))
    except ParameterValueError:
        raise ParameterValueError(f"expected a percentage such as 5% or 2.5, got "
                                  f"{_describe(value)}") from None
    if found < 0:
        raise ParameterValueError(f"expected a percentage of at least 0, got "
                                  f"{_describe(value)}")
    return found


integer = Kind("integer", _integer)
number = Kind("number", _number)
boolean = Kind("boolean", _boolean)
string = Kind("string", _string)
list_of_strings = Kind("list of strings", _list_of_strings)
mapping = Kind("mapping", _mapping)
anything = Kind("any", _anything)
percentage = Kind("percentage", _percentage)

_BY_TYPE: dict[Any, Kind] = {
    int: integer, float: number, bool: boolean, str: string, dict: mapping, list: anything,
}


def as_kind(kind: Kind | type | Callable[[Any], Any]) -> Kind:
    """Accept a Kind, a builtin type or any converter callable."""
    if isinstance(kind, Kind):
        return kind
    if kind in _BY_TYPE:
        return _BY_TYPE[kind]
    return Kind(getattr(kind, "__name__", "value"), kind)


_NO_DEFAULT: Any = object()


@dataclass(frozen=True)
class Parameter:
    """One parameter of a workload or instrument.

    ``allowed_values`` restricts the value (each element, for a list kind);
    ``mandatory`` parameters have no default and must be given in the agenda.
    """

    name: str
    kind: Kind | type | Callable[[Any], Any] = string
    default: Any = _NO_DEFAULT
    description: str = ""
    allowed_values: Sequence[Any] | None = None
    mandatory: bool = False
    aliases: tuple[str, ...] = field(default_factory=tuple)

    @property
    def kind_name(self) -> str:
        return as_kind(self.kind).name

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    def convert(self, value: Any) -> Any:
        """Convert and check one value; raises ParameterValueError with a clear message.

        ``null`` stands for "not given", as in WA3: the default, if there is one.
        """
        if value is None:
            if self.mandatory:
                raise ParameterValueError("a value is required")
            return self.default if self.has_default else None
        try:
            converted = as_kind(self.kind)(value)
        except ParameterValueError:
            raise
        except (TypeError, ValueError) as exc:
            raise ParameterValueError(f"invalid value {_describe(value)}: {exc}") from None
        self._check_allowed(converted)
        return converted

    def _check_allowed(self, value: Any) -> None:
        if self.allowed_values is None:
            return
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item not in self.allowed_values:
                allowed = ", ".join(repr(v) for v in self.allowed_values)
                raise ParameterValueError(f"{item!r} is not allowed; choose from {allowed}")


def resolve_parameters(
    parameters: Sequence[Parameter], given: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Fill defaults into ``given`` and validate it against ``parameters``.

    Returns the resolved values and a list of ``(name, message)`` problems
    (unknown, mistyped or missing parameters), so callers can locate each one.
    """
    by_name: dict[str, Parameter] = {p.name: p for p in parameters}
    for parameter in parameters:
        by_name.update({alias: parameter for alias in parameter.aliases})
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, value in given.items():
        found = by_name.get(name)
        if found is None:
            known = ", ".join(sorted(p.name for p in parameters)) or "none"
            problems.append((name, f"unknown parameter.{close_matches(name, by_name)} "
                                   f"Known parameters: {known}."))
            continue
        try:
            values[found.name] = found.convert(value)
        except ParameterValueError as exc:
            problems.append((name, str(exc)))
    for parameter in parameters:
        if parameter.name in values:
            continue
        if parameter.mandatory:
            problems.append((parameter.name, "mandatory parameter is missing"))
        elif parameter.has_default:
            values[parameter.name] = parameter.default
        else:
            values[parameter.name] = None
    return values, problems
