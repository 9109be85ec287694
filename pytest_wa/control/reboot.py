"""The run's reboot policy: when pytest-wa reboots the device, as WA does.

The policy is the run's ``reboot_policy`` (the first agenda's, or
``--wa-reboot-policy``):

- ``never``: never reboot (and a ``flash`` entry is refused, as WA2 did:
  flashing reboots);
- ``as_needed`` (the default): no reboot before any job (getting back an
  unresponsive device is device_recovery.py's business, not this plugin's);
- ``initial``: one reboot, before the first job;
- ``each_job`` (and its alias ``each_spec``): before a job whose spec differs
  from the previous job's. In the ``by_iteration`` order that is every job;
- ``each_iteration``: before every job;
- ``run_completion``: once, after the last job (also after Ctrl-C, as WA3's
  ``finalize_run`` does), if any job started.

Names: WA2 had ``each_spec`` and ``each_iteration``; WA3 renamed
``each_iteration`` to ``each_job`` and kept ``each_spec``. pytest-wa's agenda
model makes ``each_spec`` an alias of ``each_job``, so here ``each_job`` is the
per-spec policy and ``each_iteration`` the per-job one (see ``reboot_reason``).

WA's rule holds for every policy: the first job is preceded by exactly one
reboot (the initial one or the policy's own), never two.

Reboots happen in ``pytest_wa_job_start`` (``tryfirst``: before runtime
parameters are applied by the plugin after this one), with the spec's
``boot_parameters`` when it has some. A job whose spec has a ``flash`` entry is
flashed first (flashing.py), then rebooted if the policy says so. A failed
flash or reboot fails the job in setup. Everything that cannot work is a
``ConfigError`` at run start, before the first job: a policy that reboots on a
target that cannot reboot, ``boot_parameters`` that the target cannot apply,
``flash`` entries that no plugin flashes.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pytest

from ..agenda.spec import REBOOT_POLICIES, REBOOT_POLICY_ALIASES, SpecKey, spec_key
from ..model.errors import ConfigError, Location, Problem
from ..model.runlog import RUN_LOGGER
from ..targets.protocols import accepts_boot_parameters, reboot_refusal
from .flashing import Flasher, has_flash_plugin

if TYPE_CHECKING:
    from ..agenda.spec import JobSpec
    from ..plugins.context import JobContext
    from ..plugins.context import RunView as RunContext
    from ..targets.protocols import Target

logger = RUN_LOGGER

#: Policies that reboot before some job; with run_completion, those that reboot at all.
BEFORE_JOBS = frozenset({"initial", "each_job", "each_iteration"})
REBOOTING = BEFORE_JOBS | {"run_completion"}


class RebootPolicyWarning(UserWarning):
    """The reboot policy will not do what its name suggests in this run."""


def normalise_policy(value: str) -> str:
    """The canonical policy name: ``--wa-reboot-policy each_spec`` is each_job, as in
    an agenda (agendas are normalised when loaded, the command line is not)."""
    policy = REBOOT_POLICY_ALIASES.get(value, value)
    if policy not in REBOOT_POLICIES:
        raise ConfigError(f"unknown reboot_policy {value!r}; choose one of "
                          f"{', '.join(REBOOT_POLICIES)}")
    return policy


def reboot_reason(policy: str, *, first_job: bool, new_spec: bool) -> str | None:
    """Why the device is rebooted before a job, or None if it is not.

    ``new_spec`` is true for the first job too, so each_job and each_iteration
    reboot once before it, and initial adds nothing to that (WA's "never reboot
    before the first job twice").
    """
    if policy == "each_iteration":
        return "each_iteration: before every job"
    if policy == "each_job" and new_spec:
        return "each_job: " + ("before the first job" if first_job else "a new spec begins")
    if policy == "initial" and first_job:
        return "initial: before the first job"
    return None


def planned_reboots(policy: str, specs: Iterable[JobSpec]) -> list[tuple[JobSpec, str]]:
    """The reboots a run of these jobs (one spec each, in run order) will do before jobs,
    if every job starts (a skipped job does not reboot)."""
    reboots: list[tuple[JobSpec, str]] = []
    previous: SpecKey | None = None
    for index, spec in enumerate(specs):
        key = spec_key(spec)
        reason = reboot_reason(policy, first_job=index == 0, new_spec=key != previous)
        previous = key
        if reason is not None:
            reboots.append((spec, reason))
    return reboots


def _kind(target: Target) -> str:
    return str(getattr(target, "kind", None) or type(target).__name__)


def _setting_line(paths: Iterable[str], key: str) -> Location | None:
    """Where an agenda (or a file it includes) sets ``key`` at the top level or under
    ``config``/``global``: a cheap text search, for a located error message."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*:")
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                for number, line in enumerate(handle, 1):
                    if pattern.match(line):
                        return Location(path, number)
        except OSError:
            continue
    return None


def _spec_problem(spec: JobSpec, key: str, message: str) -> Problem:
    return Problem(spec.location, key, message)


class RebootPolicyPlugin:
    """Reboots (and flashes) the target when the reboot policy says so."""

    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.policy = normalise_policy(run.settings.reboot_policy)
        self.flasher = Flasher()
        self.previous_spec: SpecKey | None = None  # the spec of the last job set up
        self.first_job_done = False
        self.jobs_started = 0

    # --- run start: everything that cannot work is refused before the first job ---

    @pytest.hookimpl(tryfirst=True)
    def pytest_wa_run_check(self, run: RunContext) -> None:
        specs = [planned.job.spec for planned in run.plan.jobs] if run.plan else []
        if not specs:  # the wa_target fixture alone: no job will reboot
            return
        problems = self._policy_problems(run.target)
        problems += self._flash_problems(specs)
        problems += self._boot_parameter_problems(run.target, specs)
        if problems:
            raise ConfigError(problems)
        for note in self._notices(specs):
            run.notes.append(note)
            logger.warning("%s", note)
            warnings.warn(RebootPolicyWarning(note), stacklevel=1)
        if self.policy != "as_needed":
            logger.info("Reboot policy: %s", self.policy)

    def _policy_location(self) -> tuple[Location, str, str]:
        """Where the policy was chosen (the command line, or the agenda line), and the
        value as written there."""
        option = self.run.config.getoption("wa_reboot_policy", None)
        if option:
            return Location(""), "--wa-reboot-policy", str(option)
        plan = self.run.plan
        agenda = plan.agendas[0] if plan and plan.agendas else None
        if agenda is None:
            return Location(""), "reboot_policy", self.policy
        where = _setting_line(agenda.files or (agenda.path,), "reboot_policy")
        return where or Location(agenda.path), "reboot_policy", self.policy

    def _policy_problems(self, target: Target) -> list[Problem]:
        what = reboot_refusal(target) if self.policy in REBOOTING else None
        if what is None:
            return []
        location, key, value = self._policy_location()
        return [Problem(location, key, f"{value} reboots the device, but {what} cannot be "
                                       "rebooted: use never or as_needed, or a device that "
                                       "can reboot (--wa-device)")]

    def _flash_problems(self, specs: list[JobSpec]) -> list[Problem]:
        flashing = list({spec_key(s): s for s in specs if s.flash}.values())
        if not flashing:
            return []
        if self.policy == "never":  # WA2: flashing needs a reboot the policy forbids
            return [_spec_problem(s, "flash", "cannot flash: reboot_policy never does not "
                                              "permit rebooting") for s in flashing]
        if not has_flash_plugin(self.run.config.pluginmanager):
            return [_spec_problem(flashing[0], "flash", "no flashing plugin is installed for "
                                  "this device: nothing implements the pytest_wa_flash hook "
                                  "(see docs/reboots.md)")]
        return []

    def _boot_parameter_problems(self, target: Target, specs: list[JobSpec]) -> list[Problem]:
        if accepts_boot_parameters(target):
            return []
        rebooted = {spec_key(spec): spec for spec, _ in planned_reboots(self.policy, specs)
                    if spec.boot_parameters}
        return [_spec_problem(spec, "boot_parameters",
                              f"the {_kind(target)} target cannot apply boot_parameters (its "
                              "reboot() takes none); remove them or use a target that does")
                for spec in rebooted.values()]

    def _notices(self, specs: list[JobSpec]) -> list[str]:
        """What the run should say about the policy: each_job that reboots before every
        job (WA2 warned about each_spec with by_iteration), boot_parameters never used."""
        notes = []
        reboots = planned_reboots(self.policy, specs)
        distinct = {spec_key(spec) for spec in specs}
        if self.policy == "each_job" and len(reboots) == len(specs) > len(distinct):
            order = (self.run.config.getoption("wa_order", None)
                     or self.run.settings.execution_order)
            notes.append(f"reboot_policy each_job reboots before each new spec; in the "
                         f"{order} order every job starts a new spec, so the device reboots "
                         "before every job, as with each_iteration (--wa-order by_workload "
                         "reboots once per spec)")
        rebooted = {spec_key(spec) for spec, _ in reboots}
        unused = sorted({self.run.output_id(spec) for spec in specs
                         if spec.boot_parameters and spec_key(spec) not in rebooted})
        if unused:
            notes.append(f"boot_parameters of {', '.join(unused)} are not used: reboot_policy "
                         f"{self.policy} does not reboot before those jobs")
        return notes

    # --- jobs ---

    @pytest.hookimpl(tryfirst=True)
    def pytest_wa_job_start(self, job: JobContext) -> None:
        """Flash, then reboot, before anything else touches the device for this job.

        The policy's state advances only when both succeeded: a job whose
        reboot failed leaves the reboot owed, so its retry (or the next job)
        reboots instead of running on a device the policy wanted fresh.
        """
        self.jobs_started += 1
        key = spec_key(job.spec)
        stage = "flash"
        try:
            self.flasher.flash_for(job)
            stage = "reboot"
            reason = reboot_reason(self.policy, first_job=not self.first_job_done,
                                   new_spec=key != self.previous_spec)
            if reason is not None:
                self._reboot(job, reason)
        except Exception as exc:
            self.previous_spec = None
            # The lifecycle fails the job; it reports a failed start by its last error.
            job.record_error(stage, exc)
            raise
        self.previous_spec = key
        self.first_job_done = True

    def _reboot(self, job: JobContext, reason: str) -> None:
        target = job.target
        logger.info("Rebooting the device before job %s [%d] (reboot_policy %s)", job.output_id,
                    job.iteration, reason)
        started = time.monotonic()
        if job.spec.boot_parameters:
            target.reboot(boot_parameters=dict(job.spec.boot_parameters))  # type: ignore[call-arg]
        else:
            target.reboot()
        elapsed = time.monotonic() - started
        logger.info("Device rebooted in %.1f s", elapsed)
        params = (f", boot_parameters {job.spec.boot_parameters}"
                  if job.spec.boot_parameters else "")
        job.add_event(f"rebooted the device (reboot_policy {reason}{params}) in {elapsed:.1f} s")

    # --- run end ---

    @pytest.hookimpl(trylast=True)
    def pytest_wa_run_end(self, run: RunContext) -> None:
        """run_completion: after every other run_end hook (WA3 reboots after finalizing).

        A failure is reported, not raised: raising would keep later hooks from
        running, and the results are already safe.
        """
        if self.policy != "run_completion" or self.jobs_started == 0:
            return
        logger.info("Rebooting the device on run completion")
        started = time.monotonic()
        try:
            run.target.reboot()
        except Exception as exc:
            message = (f"reboot_policy run_completion: the reboot after the last job failed: "
                       f"{type(exc).__name__}: {exc}")
            run.notes.append(message)
            run.add_event(message)
            warnings.warn(RebootPolicyWarning(message), stacklevel=2)
            return
        message = f"rebooted the device on run completion in {time.monotonic() - started:.1f} s"
        logger.info("%s", message)
        if run.output is not None:
            run.output.add_event(message)
