"""rt-app use cases: finding one, reading it as WA3 does, and making it this job's.

A use case is rt-app's JSON description of tasks. WA3's ``config`` names one of
the use cases it bundles, or a JSON file of the user's (".json" implied), and
WA3 passes it through rt-app's ``workgen`` first, which lets users write a
friendlier JSON: comments, trailing commas, the same key twice in an object
(a sequence of events: ``run``, ``sleep``, ``run``) and a ``"suspend"`` with
no value (the task suspends itself). rt-app reads strict JSON only, so the
same liberties are taken here, in Python, and rt-app gets strict JSON.

pytest-wa bundles its own use cases under the names WA3 bundles
(``rt_app_use_cases/``), written for this project: the same names and intent.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

USE_CASES = Path(__file__).parent / "rt_app_use_cases"
#: A JSON string (left alone), or a comment or a trailing comma outside strings.
_STRING = r'"(?:\\.|[^"\\])*"'
_COMMENTS = re.compile(_STRING + r"|//[^\n]*|/\*.*?\*/", re.DOTALL)
_TRAILING_COMMAS = re.compile(_STRING + r"|,(?=\s*[}\]])")
_BARE_SUSPEND = re.compile(r'([{,]\s*"suspend")(?=\s*[,}])')


def bundled_use_cases() -> list[str]:
    """The names of the use cases pytest-wa ships."""
    return sorted(path.stem for path in USE_CASES.glob("*.json"))


def find_use_case(config: str, source_directory: str) -> Path:
    """The use case ``config`` names: a file (relative to the agenda), else a bundled name.

    As in WA3 the ".json" extension is implied; a file wins over a bundled name."""
    name = config if config.endswith(".json") else f"{config}.json"
    given = Path(source_directory, os.path.expanduser(name))
    if given.is_file():
        return given
    bundled = USE_CASES / name
    if "/" not in name and bundled.is_file():
        return bundled
    raise ValueError(f"config {config!r} is neither a JSON file ({given}) nor a use case "
                     f"pytest-wa bundles ({', '.join(bundled_use_cases())})")


def loads_like_workgen(text: str) -> dict[str, Any]:
    """A use case as workgen reads it (see the module docstring), as a dict."""
    cleaned = _COMMENTS.sub(lambda m: _kept_string(m, " "), text)
    cleaned = _TRAILING_COMMAS.sub(lambda m: _kept_string(m, ""), cleaned)
    cleaned = _BARE_SUSPEND.sub(r'\1: ""', cleaned)
    data = json.loads(cleaned, object_pairs_hook=_unique_keys)
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), dict):
        raise ValueError("an rt-app use case is a JSON object with a 'tasks' object")
    for task, body in data["tasks"].items():
        _fill_suspend(body, task)
    return data


def _kept_string(match: re.Match[str], instead: str) -> str:
    """A JSON string as it is; anything else the pattern matched becomes ``instead``."""
    token = match.group(0)
    return token if token.startswith('"') else instead


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose repeated keys get a number (run, run1, run2), as workgen does;
    rt-app tells events apart by the start of their key."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        unique, number = key, 0
        while unique in result:
            number += 1
            unique = f"{key}{number}"
        result[unique] = value
    return result


def _fill_suspend(node: Any, task: str) -> None:
    """A ``"suspend"`` without a value suspends the task it is in."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key.startswith("suspend") and value == "":
            node[key] = task
        else:
            _fill_suspend(value, task)


def read_use_case(path: Path) -> dict[str, Any]:
    try:
        return loads_like_workgen(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"cannot read the rt-app use case {path}: {exc}") from None


def for_this_job(use_case: dict[str, Any], *, logdir: str, log_basename: str,
                 duration: int | None) -> dict[str, Any]:
    """The use case with the job's log directory and name, and the agenda's duration."""
    settings = dict(use_case.get("global") or {})
    settings.update(logdir=logdir, log_basename=log_basename)
    if duration is not None:
        settings["duration"] = duration
    return {**use_case, "global": settings}


def duration_of(use_case: dict[str, Any]) -> int:
    """The use case's duration in seconds (WA3: 0 when it has none; -1 runs until the
    tasks end)."""
    return int((use_case.get("global") or {}).get("duration", 0))


def task_count(use_case: dict[str, Any]) -> int:
    return len(use_case.get("tasks") or {})
