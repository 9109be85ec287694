"""The run's settings, merged once: the first agenda's, then the command line's.

Computed when the run starts (the plan is known by then) into a frozen
``RunSettings``, so every job, plugin and decision reads the same values.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..agenda.spec import REBOOT_POLICY_ALIASES, RunSettings

if TYPE_CHECKING:
    import pytest

    from ..output.plan import RunPlan


def merged_settings(plan: RunPlan | None, config: pytest.Config) -> RunSettings:
    """The first agenda's settings with ``--wa-reboot-policy``, ``--wa-max-retries`` and
    ``--wa-job-timeout`` applied."""
    settings = (plan.first_settings() if plan else None) or RunSettings()
    overrides = command_line_overrides(config)
    return dataclasses.replace(settings, **overrides) if overrides else settings


def command_line_overrides(config: pytest.Config) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    policy = config.getoption("wa_reboot_policy", None)
    if policy:
        overrides["reboot_policy"] = REBOOT_POLICY_ALIASES.get(policy, policy)
    if config.getoption("wa_max_retries", None) is not None:
        overrides["max_retries"] = config.getoption("wa_max_retries")
    if config.getoption("wa_job_timeout", None) is not None:
        overrides["job_timeout"] = config.getoption("wa_job_timeout")
    return overrides
