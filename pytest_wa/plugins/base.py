"""One base for every plugin a user names in an agenda: workloads, instruments and
output processors.

What they share is declared once here: a name and aliases to be found by, a
description, typed ``Parameter`` declarations whose values arrive already
checked (agenda problems are reported with file and line at collection), the
agenda's directory to resolve relative files from, and the ``--wa-show`` text.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Sequence
from typing import Any, ClassVar

from ..model.parameters import Parameter, resolve_parameters


class Plugin:
    """Base class of workloads, instruments and output processors."""

    #: What kind of plugin this is, as ``--wa-show`` and error messages say it.
    kind: ClassVar[str] = "plugin"
    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    parameters: ClassVar[Sequence[Parameter]] = ()

    def __init__(self, source_directory: str = ".", **values: Any) -> None:
        #: The directory of the agenda that configured this plugin; relative
        #: file parameters (scripts, assets) are found from here.
        self.source_directory = source_directory
        self.values = dict(values)
        for key, value in values.items():
            setattr(self, key, value)

    @classmethod
    def resolve(cls, given: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The agenda's values checked against ``parameters``, defaults filled in, and
        the ``(name, message)`` problems found (unknown, mistyped or missing)."""
        return resolve_parameters(cls.parameters, dict(given))

    def validate(self) -> None:
        """Check the parameter values together; raise ValueError with a clear message."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.values}>"


def first_line(text: str) -> str:
    """A plugin's one-line summary (``--wa-list``)."""
    stripped = (text or "").strip()
    return stripped.splitlines()[0] if stripped else ""


def describe(cls: type[Plugin], kind: str | None = None) -> str:
    """The ``--wa-show`` text: name, kind, description and every parameter."""
    lines = [f"{cls.name} ({kind or cls.kind})",
             textwrap.indent(inspect.cleandoc(cls.description), "  "),
             "\nparameters:" if cls.parameters else "\nparameters: none"]
    for parameter in cls.parameters:
        lines.append(f"  {parameter.name} ({parameter.kind_name}, {_default(parameter)}"
                     f"{_allowed(parameter)})")
        if parameter.description:
            lines.append(textwrap.indent(textwrap.fill(parameter.description, 72), "      "))
    return "\n".join(lines)


def _default(parameter: Parameter) -> str:
    if parameter.mandatory:
        return "mandatory"
    if parameter.has_default:
        return f"default: {parameter.default!r}"
    return "optional"


def _allowed(parameter: Parameter) -> str:
    if not parameter.allowed_values:
        return ""
    return f"; one of {', '.join(map(repr, parameter.allowed_values))}"
