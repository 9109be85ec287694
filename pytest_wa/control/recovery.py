"""Getting a device back after it stopped answering: reconnect, then hard reset.

A target that stopped responding mid-job is tried again (``is_responsive``
reconnects SSH boards and reattaches adb devices) for a short grace, because
a board that rebooted by itself or an adb link that blipped comes back on its
own. Then, if the device has a ``hard_reset_command``, it is power-cycled.
Each step is bounded by the target's own timeouts, so recovery cannot hang.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..model.errors import TargetError
from ..targets.protocols import HardReset

RECONNECT_GRACE = 5.0


@dataclass(frozen=True)
class Recovery:
    recovered: bool
    message: str


def _responds(target: Any, grace: float) -> bool:
    deadline = time.monotonic() + grace
    while True:
        try:
            if target.is_responsive():
                return True
        except TargetError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(1.0)


def recover_target(target: Any, error: BaseException, *, may_reset: bool = True,
                   grace: float = RECONNECT_GRACE) -> Recovery:
    """Try to make ``target`` answer again; say what was done.

    ``may_reset`` is False under the reboot policy ``never``: as in WA3, the
    device is then not power-cycled.
    """
    if _responds(target, grace):
        return Recovery(True, "responding again after a reconnect")
    resettable = isinstance(target, HardReset) and target.can_hard_reset
    if resettable and not may_reset:
        return Recovery(False, "not responding, and reboot_policy 'never' forbids a hard "
                               "reset")
    if resettable:
        try:
            target.reboot(hard=True)
        except TargetError as exc:
            return Recovery(False, f"a hard reset did not bring it back: {exc}")
        if _responds(target, grace):
            return Recovery(True, "responding again after a hard reset")
        return Recovery(False, "not responding after a hard reset")
    return Recovery(False, f"not responding after {grace:g} s of reconnecting, and no "
                           "hard_reset_command is configured")
