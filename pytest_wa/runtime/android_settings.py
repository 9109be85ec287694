"""Android settings: ``airplane_mode``, ``brightness``, ``rotation``, ``screen_on`` (adb only).

They go through Android's own tools (``settings``, ``cmd``, ``am``,
``input``, ``dumpsys``) rather than files, and need no root. Each is read
back after it is set. Unlike WA3, nothing is set unless the agenda names it
(WA3 sets brightness 127 and turns the screen on for every Android job).

- ``brightness`` switches automatic brightness off first (as devlib does);
  both settings are restored.
- ``rotation`` switches auto-rotate off first; both are restored.
- ``airplane_mode`` uses ``cmd connectivity airplane-mode`` where Android has
  it (9+), else the setting plus the broadcast older versions need.
- ``screen_on`` sends KEYCODE_WAKEUP or KEYCODE_SLEEP, which unlike the power
  key do not toggle, and waits for ``dumpsys power`` to agree. A device
  whose ``dumpsys power`` says nothing about the screen is not waited for,
  and its screen is not restored (its earlier state is unknown).
"""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model.errors import TargetError
from ..model.parameters import ParameterValueError, boolean, integer, shown
from .facts import DeviceFacts
from .given import Given, Problems, resolve

if TYPE_CHECKING:
    from ..targets.protocols import Target
    from .journal import Journal

ROTATIONS = {"natural": 0, "left": 1, "inverted": 2, "right": 3}
ORDER = ("airplane_mode", "brightness", "rotation", "screen_on")  # WA3's order
TIMEOUT = 30.0
SCREEN_WAIT = 3.0
_WAKEFULNESS = re.compile(r"mWakefulness=(\w+)")
_DISPLAY = re.compile(r"Display Power: state=(\w+)")


@dataclass(frozen=True)
class AndroidPlan:
    """Setting -> (value, the key that asked), in the order they are applied."""

    values: dict[str, tuple[Any, str]]


def plan_android(givens: list[Given], facts: DeviceFacts, problems: Problems
                 ) -> AndroidPlan | None:
    entries = []
    for given in givens:
        if facts.kind != "adb":
            problems.add(given, f"is an Android setting, and device {facts.device!r} is not an "
                                f"Android device (kind {facts.kind or 'unknown'})")
            continue
        try:
            entries.append((None, given.name.setting, _convert(given), given))
        except ParameterValueError as exc:
            problems.add(given, str(exc))
    chosen = resolve(entries, problems, lambda _: "both set the same setting")
    values = {setting: (choice.value, choice.given.key) for setting in ORDER
              if (choice := chosen.get((None, setting)))}
    return AndroidPlan(values) if values else None


def _convert(given: Given) -> Any:
    setting, value = given.name.setting, given.value
    if setting == "brightness":
        level = integer(value)
        if not 0 <= level <= 255:
            raise ParameterValueError(f"must be between 0 and 255, got {level}")
        return level
    if setting == "rotation":
        if isinstance(value, str) and value.strip().lower() in ROTATIONS:
            return ROTATIONS[value.strip().lower()]
        try:
            number = integer(value)
        except ParameterValueError:
            number = -1
        if number not in ROTATIONS.values():
            raise ParameterValueError(f"expected natural, left, inverted, right or 0-3, got "
                                      f"{shown(value)}")
        return number
    return boolean(value)


def apply_android(plan: AndroidPlan, facts: DeviceFacts, journal: Journal) -> None:
    """Set each setting in WA3's order; every change recorded with its undo."""
    target = journal.target
    wanted = plan.values
    names = [name for setting, names in (
        ("airplane_mode", [("global", "airplane_mode_on")]),
        ("brightness", [("system", "screen_brightness_mode"), ("system", "screen_brightness")]),
        ("rotation", [("system", "accelerometer_rotation"), ("system", "user_rotation")]),
    ) if setting in wanted for name in names]
    current = _get_settings(target, names)
    if "airplane_mode" in wanted:
        state, key = wanted["airplane_mode"]
        _set_airplane(journal, key, bool(state), current[("global", "airplane_mode_on")],
                      as_root=bool(facts.root))
    if "brightness" in wanted:
        level, key = wanted["brightness"]
        _put(journal, key, "system", "screen_brightness_mode", 0, current)
        _put(journal, key, "system", "screen_brightness", level, current)
    if "rotation" in wanted:
        rotation, key = wanted["rotation"]
        _put(journal, key, "system", "accelerometer_rotation", 0, current)
        _put(journal, key, "system", "user_rotation", rotation, current)
    if "screen_on" in wanted:
        state, key = wanted["screen_on"]
        _set_screen(journal, key, bool(state))


def _get_settings(target: Target, names: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Current values, ``null`` for unset ones, in one command."""
    if not names:
        return {}
    command = "; ".join(f"settings get {ns} {name}" for ns, name in names)
    lines = target.execute(command, timeout=TIMEOUT, check=True).stdout.splitlines()
    if len(lines) != len(names):
        raise TargetError(f"settings get printed {len(lines)} lines for {len(names)} settings: "
                          f"{command}")
    return {name: line.strip() for name, line in zip(names, lines, strict=True)}


def _write_setting(target: Target, namespace: str, name: str, value: str) -> str:
    """Put (or delete, for ``null``) a setting; what it reads back afterwards.

    The read-back decides, not the exit status: ``settings delete`` of a
    setting that is not there is no failure.
    """
    action = f"delete {namespace} {name}" if value == "null" else \
        f"put {namespace} {name} {shlex.quote(value)}"
    result = target.execute(f"settings {action} >/dev/null; settings get {namespace} {name}",
                            timeout=TIMEOUT, check=True)
    return result.stdout.strip()


def _put(journal: Journal, key: str, namespace: str, name: str, value: object,
         current: dict[tuple[str, str], str]) -> None:
    old = current[(namespace, name)]
    text = str(value)
    if old == text:
        return
    read_back = _write_setting(journal.target, namespace, name, text)
    if read_back != text:
        raise TargetError(f"{key}: set {namespace} setting {name} to {text!r} but it reads "
                          f"back {read_back!r}")
    current[(namespace, name)] = text

    def undo() -> None:
        again = _write_setting(journal.target, namespace, name, old)
        if again != old:
            raise TargetError(f"it reads back {again!r}")

    journal.record(f"{namespace} setting {name} (back to {old!r})", undo)


def _airplane_command(state: bool) -> str:
    value, word = ("1", "true") if state else ("0", "false")
    return (f"cmd connectivity airplane-mode {'enable' if state else 'disable'} "
            f">/dev/null 2>&1 || {{ settings put global airplane_mode_on {value} && "
            f"am broadcast -a android.intent.action.AIRPLANE_MODE --ez state {word} "
            f">/dev/null; }}; settings get global airplane_mode_on")


def _set_airplane(journal: Journal, key: str, state: bool, old: str, *, as_root: bool) -> None:
    target = journal.target
    if old == str(int(state)):
        return

    def switch(on: bool) -> None:
        result = target.execute(_airplane_command(on), timeout=TIMEOUT, as_root=as_root)
        if result.stdout.strip().splitlines()[-1:] != [str(int(on))]:
            raise TargetError(f"{key}: airplane mode did not turn {'on' if on else 'off'} "
                              f"(airplane_mode_on reads {result.stdout.strip()!r})")

    switch(state)
    journal.record(f"airplane mode (back {'on' if old == '1' else 'off'})",
                   lambda: switch(old == "1"))


def screen_state(target: Target) -> bool | None:
    """Whether the screen is on, from ``dumpsys power``; None if it does not say."""
    output = target.execute("dumpsys power", timeout=TIMEOUT).stdout
    match = _WAKEFULNESS.search(output)
    if match:
        return match[1].lower() == "awake"
    match = _DISPLAY.search(output)
    return match[1].upper() == "ON" if match else None


def _set_screen(journal: Journal, key: str, state: bool) -> None:
    target = journal.target
    old = screen_state(target)
    if old == state:
        return

    def press(on: bool) -> None:
        target.execute(f"input keyevent {'KEYCODE_WAKEUP' if on else 'KEYCODE_SLEEP'}",
                       timeout=TIMEOUT, check=True)
        if old is None:
            return  # dumpsys power does not tell: nothing to wait for
        deadline = time.monotonic() + SCREEN_WAIT
        while screen_state(target) != on:
            if time.monotonic() > deadline:
                raise TargetError(f"{key}: the screen did not turn {'on' if on else 'off'} "
                                  f"within {SCREEN_WAIT:g} s (dumpsys power)")
            time.sleep(0.1)

    press(state)
    if old is None:
        journal.unrestorable.append("the screen state (dumpsys power does not show it)")
        return
    journal.record(f"the screen (back {'on' if old else 'off'})", lambda: press(old))
