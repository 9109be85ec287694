"""Instruments as registered with pluggy: enabled per job, and never fatal to the run.

Each hook implementation of an instrument is wrapped before it is registered.
The wrapper passes straight through for a job whose spec does not enable the
instrument (``augmentations``), so one registration serves every job. Plain
implementations have their exceptions caught; wrappers (``wrapper=True``
generators) are driven step by step so that a failure in the instrument's code
before or after ``yield`` is caught, while the stage's own outcome (its result
or its exception) passes through untouched. A caught failure is a warning and
an event of the job, which the lifecycle then makes PARTIAL: its numbers are
missing, so it is not fully OK (WA3 only logs it and leaves the job OK).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Generator
from typing import Any

from ..plugins.registry import identifier


class InstrumentWarning(UserWarning):
    """An instrument failed; the job went on without it."""


def _report(instrument: Any, hook: str, error: BaseException, job: Any) -> None:
    message = f"instrument {instrument.name!r} failed in {hook}: {type(error).__name__}: {error}"
    if job is None:
        warnings.warn(InstrumentWarning(message), stacklevel=3)
        return
    job.record_instrument_failure(instrument.name, message)
    where = job.spec.location  # point at the agenda line of the job, not at this file
    warnings.warn_explicit(InstrumentWarning(message), InstrumentWarning, where.path, where.line)


def _names(instrument: Any) -> frozenset[str]:
    """The names an agenda may enable ``instrument`` by, compared as WA3 compares them
    (case and ``-``/``_`` aside: ``trace_cmd`` is ``trace-cmd``)."""
    return frozenset(identifier(name) for name in (instrument.name,
                                                   *getattr(instrument, "aliases", ())))


def _disabled_for(names: frozenset[str], job: Any) -> bool:
    """True when the hook is about a job whose spec does not enable this instrument."""
    return job is not None and not any(identifier(name) in names
                                       for name in job.spec.augmentations)


def _job_argument(method: Callable[..., Any]) -> Callable[[tuple, dict], Any]:
    """How to find the ``job`` argument: pluggy passes hook arguments positionally."""
    names = list(inspect.signature(method).parameters)
    index = names.index("job") if "job" in names else None

    def find(args: tuple, kwargs: dict) -> Any:
        if index is not None and index < len(args):
            return args[index]
        return kwargs.get("job")
    return find


def _guard_plain(instrument: Any, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    job_of = _job_argument(method)
    names = _names(instrument)

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        job = job_of(args, kwargs)
        if _disabled_for(names, job):
            return None
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            _report(instrument, name, exc, job)
            return None
    return guarded


def _guard_wrapper(instrument: Any, name: str, method: Callable[..., Any]
                   ) -> Callable[..., Generator[None, Any, Any]]:
    job_of = _job_argument(method)
    names = _names(instrument)

    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Generator[None, Any, Any]:
        job = job_of(args, kwargs)
        if _disabled_for(names, job):
            return (yield)
        generator = method(*args, **kwargs)
        try:
            next(generator)
        except Exception as exc:  # failed before yield: run the stage without it
            _report(instrument, name, exc, job)
            return (yield)
        try:
            result = yield
        except BaseException as stage_error:  # Ctrl-C too: the instrument must stop
            try:
                generator.throw(stage_error)
            except StopIteration as stop:  # the instrument handled the stage's error
                if not isinstance(stage_error, Exception):
                    raise stage_error from None  # an interrupt is never swallowed
                return stop.value
            except BaseException as exc:
                if exc is not stage_error and isinstance(exc, Exception):
                    _report(instrument, name, exc, job)
                raise stage_error from None
            raise RuntimeError(f"instrument {instrument.name!r}: {name} yielded twice") from None
        try:
            generator.send(result)
        except StopIteration as stop:
            return stop.value
        except Exception as exc:
            _report(instrument, name, exc, job)
            return result
        raise RuntimeError(f"instrument {instrument.name!r}: {name} yielded twice")
    return guarded


class GuardedInstrument:
    """What is registered with pluggy in place of an instrument (hashable, unlike a namespace)."""

    def __init__(self, instrument: Any) -> None:
        self.name = instrument.name
        self.instrument = instrument
        self.priority = getattr(instrument, "priority", 0)

    def __repr__(self) -> str:
        return f"<guarded {self.instrument!r}>"


def guarded_plugin(instrument: Any) -> GuardedInstrument:
    """A stand-in for ``instrument`` whose hook implementations cannot break a job."""
    proxy = GuardedInstrument(instrument)
    for name in dir(type(instrument)):
        if not name.startswith("pytest_"):
            continue
        method = getattr(instrument, name)
        if not inspect.isroutine(method):
            continue
        is_wrapper = inspect.isgeneratorfunction(method)
        guard = _guard_wrapper if is_wrapper else _guard_plain
        setattr(proxy, name, guard(instrument, name, method))
    return proxy
