"""The device's power and thermal hardware in sysfs: hwmon, powercap, thermal, battery."""

from __future__ import annotations


def build_power_tree(sys_root: str, cpu_count: int) -> None:
    """Writes the power and thermal trees under ``sys_root`` (to be filled in)."""


def tick(sys_root: str, seconds: float) -> None:
    """Advances the energy counters, temperatures and battery by ``seconds``."""
