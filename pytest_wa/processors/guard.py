"""Output processors as registered with pluggy: enabled per job, never fatal to the run.

A processor runs after the results it processes are written, so its failure
must cost nothing but its own file: each hook implementation is wrapped so
that an exception becomes a warning and a run event (``result.json``), and
the run, the other processors and the files already written go on untouched.
Job hooks pass straight through for jobs whose spec does not enable the
processor (``augmentations``), as WA3 enables processors per job.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

from ..plugins.registry import identifier


class ProcessorWarning(UserWarning):
    """An output processor failed; the run went on without its output."""


def report_failure(processor: Any, where: str, error: BaseException, run: Any) -> None:
    """A warning, and an event of the run when its output is open."""
    message = (f"output processor {processor.name!r} failed in {where}: "
               f"{type(error).__name__}: {error}")
    warnings.warn(ProcessorWarning(message), stacklevel=3)
    if run is not None and getattr(run, "output", None) is not None:
        try:
            run.add_event(message)
        except Exception:  # noqa: BLE001 - the run directory itself may be gone
            warnings.warn(ProcessorWarning(f"{message} (not recorded as a run event)"),
                          stacklevel=3)


def _guard(processor: Any, hook: str, method: Callable[..., Any]) -> Callable[..., Any]:
    names = frozenset(identifier(n) for n in (processor.name, *processor.aliases))
    parameters = list(inspect.signature(method).parameters)

    def argument(args: tuple, kwargs: dict, name: str) -> Any:
        if name in parameters and parameters.index(name) < len(args):
            return args[parameters.index(name)]
        return kwargs.get(name)

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        job = argument(args, kwargs, "job")
        if job is not None and not any(identifier(n) in names
                                       for n in job.spec.augmentations):
            return None
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            run = job.run if job is not None else argument(args, kwargs, "run")
            report_failure(processor, hook, exc, run)
            return None
    return guarded


class GuardedProcessor:
    """What is registered with pluggy in place of an output processor."""

    def __init__(self, processor: Any) -> None:
        self.name = processor.name
        self.processor = processor

    def __repr__(self) -> str:
        return f"<guarded {self.processor!r}>"


def guarded_processor(processor: Any) -> GuardedProcessor:
    """A stand-in for ``processor`` whose hook implementations cannot break the run.

    Processors implement plain hooks (a wrapper around a stage is an
    instrument's business); a generator method is refused here, by name.
    """
    proxy = GuardedProcessor(processor)
    for name in dir(type(processor)):
        method = getattr(processor, name)
        if not name.startswith("pytest_") or not inspect.isroutine(method):
            continue
        if inspect.isgeneratorfunction(method):
            raise TypeError(f"output processor {processor.name!r}: {name} is a hook "
                            "wrapper; output processors implement plain hooks")
        setattr(proxy, name, _guard(processor, name, method))
    return proxy
