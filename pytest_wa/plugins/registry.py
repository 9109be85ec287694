"""Where plugin classes are found: built-ins (given by the caller), entry points, hooks.

No directory walking and no metaclasses: a class is known because a package
declares it (``pytest_wa.workloads`` / ``pytest_wa.instruments`` /
``pytest_wa.output_processors`` entry points) or a conftest registers it
(``pytest_wa_register_workloads``...).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import metadata
from typing import Any

from ..model.errors import ConfigError

WORKLOAD_GROUP = "pytest_wa.workloads"
INSTRUMENT_GROUP = "pytest_wa.instruments"
PROCESSOR_GROUP = "pytest_wa.output_processors"


def identifier(name: str) -> str:
    """A plugin name as WA3 compares them: case and ``-``/``_`` do not matter, so
    ``rt_app`` finds ``rt-app`` and ``Stress-NG`` finds ``stress_ng``."""
    return name.lower().replace("-", "_")


def _name(cls: Any) -> str:
    return str(cls.name)


class Registry:
    """Classes of one kind (workloads, instruments or output processors) by name and alias."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._by_name: dict[str, type] = {}  # identifier -> class
        self._aliases: dict[str, str] = {}  # identifier -> the class's identifier

    def add(self, cls: type) -> type:
        """Register ``cls`` under its ``name`` (and ``aliases``); usable as a decorator."""
        name = getattr(cls, "name", "")
        if not name or not isinstance(name, str):
            raise ConfigError(f"{self.kind} class {cls.__qualname__} has no 'name'")
        self._by_name[identifier(name)] = cls
        for alias in getattr(cls, "aliases", ()):
            self._aliases[identifier(alias)] = identifier(name)
        return cls

    def get(self, name: str) -> Any:
        key = identifier(str(name))
        return self._by_name.get(self._aliases.get(key, key))

    def names(self) -> list[str]:
        return sorted(_name(cls) for cls in self._by_name.values())

    def classes(self) -> list[type]:
        return sorted(self._by_name.values(), key=_name)


@functools.cache
def _declared_entry_points() -> dict[str, list[metadata.EntryPoint]]:
    """Our groups' entry points, from one scan of the installed distributions.

    ``metadata.entry_points`` reads only each distribution's entry_points.txt
    and drops a distribution found twice on sys.path; asking every
    distribution for its name instead parses all their METADATA files, which
    cost ~20 ms in every process (each xdist worker included).
    """
    declared = metadata.entry_points()
    return {group: list(declared.select(group=group))
            for group in (WORKLOAD_GROUP, INSTRUMENT_GROUP, PROCESSOR_GROUP)}


@functools.cache
def entry_point_classes(group: str) -> tuple[type, ...]:
    """Classes declared by installed packages under ``group`` (loaded once)."""
    classes = []
    for entry in _declared_entry_points()[group]:
        try:
            classes.append(entry.load())
        except Exception as exc:  # a broken third-party package must be named, not crash
            raise ConfigError(f"cannot load {group} entry point {entry.name!r} "
                              f"({entry.value}): {exc}") from exc
    return tuple(classes)


class Catalog:
    """The workloads, instruments and output processors that apply to one agenda file.

    Instruments and output processors share one namespace, as in WA3: both are
    enabled by name in ``augmentations`` and configured by name in ``config``.
    """

    def __init__(self, workloads: Registry, instruments: Registry,
                 processors: Registry | None = None) -> None:
        self.workloads = workloads
        self.instruments = instruments
        self.processors = processors or Registry("output processor")

    def workload(self, name: str) -> Any:
        return self.workloads.get(name)

    def workload_names(self) -> list[str]:
        return self.workloads.names()

    def instrument(self, name: str) -> Any:
        return self.instruments.get(name)

    def instrument_names(self) -> list[str]:
        return self.instruments.names()

    def processor(self, name: str) -> Any:
        return self.processors.get(name)

    def processor_names(self) -> list[str]:
        return self.processors.names()


def build_catalog(hook: Any, builtin_workloads: Iterable[type] = (),
                  builtin_instruments: Iterable[type] = (),
                  builtin_processors: Iterable[type] = ()) -> Catalog:
    """Built-ins, then entry points, then ``hook`` registrations (later ones win)."""
    workloads, instruments = Registry("workload"), Registry("instrument")
    processors = Registry("output processor")
    for registry, builtins, group in ((workloads, builtin_workloads, WORKLOAD_GROUP),
                                      (instruments, builtin_instruments, INSTRUMENT_GROUP),
                                      (processors, builtin_processors, PROCESSOR_GROUP)):
        for cls in (*builtins, *entry_point_classes(group)):
            registry.add(cls)
    hook.pytest_wa_register_workloads(registry=workloads)
    hook.pytest_wa_register_instruments(registry=instruments)
    hook.pytest_wa_register_output_processors(registry=processors)
    return Catalog(workloads, instruments, processors)
