"""WA3's runtime parameter names, taken apart without looking at any device.

A name is a *setting* with an optional *scope* in front of it:
``governor`` (every CPU), ``cpu2_governor`` (one CPU and its cpufreq policy),
``big_governor`` / ``little_governor`` (a cluster), ``a55_governor`` (the
CPUs of one core type). Hotplug has its own shapes (``num_cores``,
``num_big_cores``, ``cpu3_online``); the rest are plain names
(``sysfile_values``, ``brightness``...). Names are matched without regard to
case, as WA3 does. Whether a scope exists (is there a cpu9? is the device
big.LITTLE?) depends on the device and is decided in ``facts.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Settings that take a scope prefix, and the module that applies them.
CPUFREQ_SETTINGS = ("governor", "frequency", "min_frequency", "max_frequency", "gov_tunables")
CPUIDLE_SETTINGS = ("idle_states",)
SCOPED_SETTINGS = CPUFREQ_SETTINGS + CPUIDLE_SETTINGS
#: Other spellings WA3 accepts for a setting.
ALIASES = {"governor_tunables": "gov_tunables"}

ANDROID_SETTINGS = ("brightness", "airplane_mode", "rotation", "screen_on")
PLAIN_SETTINGS = ("sysfile_values", *ANDROID_SETTINGS)
#: Names WA3 has that pytest-wa knowingly does not apply, with the reason.
UNSUPPORTED = {
    "unlock_screen": "is not supported by pytest-wa (unlocking needs a swipe gesture tuned "
                     "to the device); unlock the device before the run",
}

# Longest first, so that "min_frequency" is not read as scope "min" + "frequency".
_SUFFIXES = sorted([*SCOPED_SETTINGS, *ALIASES], key=len, reverse=True)
_CPU_ONLINE = re.compile(r"cpu(\d+)_online")
_NUM_CORES = re.compile(r"num_(?:(.+)_)?cores")
CPU_SCOPE = re.compile(r"cpu(\d+)")

#: Scopes ranked by how narrowly they name CPUs: a narrower one wins over a wider
#: one that covers the same CPU (``cpu4_governor`` over ``big_governor`` over
#: ``governor``).
ALL, GROUP, CPU = 0, 1, 2


@dataclass(frozen=True)
class ParsedName:
    """A runtime parameter name taken apart.

    ``setting`` is the canonical setting (``gov_tunables`` for
    ``governor_tunables``; ``online`` for ``cpuN_online``; ``num_cores`` for
    every ``num_*_cores``); ``scope`` is the lower-cased prefix (``cpu2``,
    ``big``, ``a55``) or None for every CPU / no CPU at all.
    """

    key: str
    setting: str
    scope: str | None = None

    @property
    def group(self) -> str:
        """Which module applies it: sysfiles, hotplug, cpufreq, cpuidle or android."""
        if self.setting in CPUFREQ_SETTINGS:
            return "cpufreq"
        if self.setting in CPUIDLE_SETTINGS:
            return "cpuidle"
        if self.setting in ("online", "num_cores"):
            return "hotplug"
        if self.setting == "sysfile_values":
            return "sysfiles"
        return "android"

    @property
    def level(self) -> int:
        """How narrow the scope is (ALL, GROUP or CPU)."""
        if self.scope is None:
            return ALL
        return CPU if CPU_SCOPE.fullmatch(self.scope) else GROUP


class UnknownName(ValueError):
    """The name is none of WA3's runtime parameter shapes."""


class UnsupportedName(UnknownName):
    """A WA3 name that pytest-wa recognises but does not apply."""


def parse_name(key: str) -> ParsedName:
    """Take a name apart, or raise UnknownName (UnsupportedName for WA3 names we refuse)."""
    name = key.strip().lower()
    if name in UNSUPPORTED:
        raise UnsupportedName(UNSUPPORTED[name])
    if name in PLAIN_SETTINGS:
        return ParsedName(key, name)
    match = _CPU_ONLINE.fullmatch(name)
    if match:
        return ParsedName(key, "online", f"cpu{int(match[1])}")
    match = _NUM_CORES.fullmatch(name)
    if match:
        return ParsedName(key, "num_cores", match[1])
    for suffix in _SUFFIXES:
        setting = ALIASES.get(suffix, suffix)
        if name == suffix:
            return ParsedName(key, setting)
        if name.endswith("_" + suffix) and len(name) > len(suffix) + 1:
            scope = name[:-len(suffix) - 1]
            match = CPU_SCOPE.fullmatch(scope)
            return ParsedName(key, setting, f"cpu{int(match[1])}" if match else scope)
    raise UnknownName(f"unknown runtime parameter {key!r}")


def spelled(setting: str, scope: str | None) -> str:
    """The name a user writes for ``setting`` at ``scope`` (for suggestions)."""
    if setting == "online":
        return f"{scope}_online"
    if setting == "num_cores":
        return f"num_{scope}_cores" if scope else "num_cores"
    return f"{scope}_{setting}" if scope else setting
