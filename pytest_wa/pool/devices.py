"""Which devices ``--wa-device`` names for a pytest-xdist run, and the usage errors.

Checked on the controller before any worker starts, so that a pool too small
for ``-n`` (or a pool without ``-n``) is one line, not a run that half happens.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..model.errors import ConfigError

_POOL_KEY = pytest.StashKey["list[str] | None"]()


def pool_devices(config: pytest.Config) -> list[str] | None:
    """The pool's devices in order, or None when ``--wa-device`` names one device.

    A comma list is a pool; so is a name under ``pools:`` in a --wa-config file
    (a device of the same name wins: names in ``devices:`` keep their meaning).
    """
    if _POOL_KEY in config.stash:
        return config.stash[_POOL_KEY]
    given = config.getoption("wa_device", None)
    pool: list[str] | None = None
    if given and "," in given:
        pool = [name.strip() for name in given.split(",") if name.strip()]
    elif given:
        pool = _named_pool(config, given)
    if pool is not None:
        repeated = sorted({name for name in pool if pool.count(name) > 1})
        if repeated:
            raise pytest.UsageError(f"pytest-wa: --wa-device {given}: device "
                                    f"{', '.join(repeated)} is listed twice (a device runs "
                                    "one job at a time)")
    config.stash[_POOL_KEY] = pool
    return pool


def _named_pool(config: pytest.Config, name: str) -> list[str] | None:
    from ..devices.resolve import config_files, known_devices, known_pools

    if not config_files(config):
        return None
    try:
        if name in known_devices(config):
            return None
        return known_pools(config).get(name)
    except ConfigError as exc:
        raise pytest.UsageError(f"pytest-wa: {exc}") from None


def workers_wanted(config: pytest.Config) -> int:
    """How many xdist workers this session starts (0: xdist is off or absent)."""
    if getattr(config, "workerinput", None) is not None:
        return 0
    if config.getoption("dist", "no") == "no":
        return 0
    value: Any = config.getoption("numprocesses", None)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def check_pool(config: pytest.Config) -> None:
    """Usage errors: a pool without -n, or more workers than devices."""
    if getattr(config, "workerinput", None) is not None:
        return
    pool = pool_devices(config)
    if pool is None:
        if config.getoption("wa_matrix", False):
            raise pytest.UsageError("pytest-wa: --wa-matrix needs a pool: "
                                    "--wa-device=a,b,c (or a pool's name) and -n auto")
        return
    given = config.getoption("wa_device")
    workers = workers_wanted(config)
    count = len(pool)
    if workers == 0:
        raise pytest.UsageError(f"pytest-wa: --wa-device {given} is a pool of {count} "
                                f"device{'s' if count != 1 else ''}: add -n {count} "
                                "or -n auto")
    if workers > count:
        raise pytest.UsageError(f"pytest-wa: -n {workers} starts more workers than the "
                                f"{count} devices of --wa-device {given} (one device per "
                                f"worker): use -n {count} or -n auto")
    if config.getoption("wa_matrix", False) and workers != count:
        raise pytest.UsageError(f"pytest-wa: --wa-matrix runs every job on each of the "
                                f"{count} devices of --wa-device {given}: use -n {count} "
                                "or -n auto")
