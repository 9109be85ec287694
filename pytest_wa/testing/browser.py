"""A real browser for tests and benchmarks of the HTML report: Debian's headless Chromium.

Each call starts ``chromium --headless`` on a file with a fresh profile (so
runs never share state) and logging on stderr, where Chromium writes every
console message of the page (``...:CONSOLE:N] "message", source: ...``):
uncaught errors, ``console.*`` calls and Content-Security-Policy refusals
alike. ``--dump-dom`` gives the DOM after the page's scripts have run,
``--screenshot`` a PNG of the window.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome")
CONSOLE = re.compile(r":CONSOLE(?::\d+|\(\d+\))\] (?P<message>.*)$")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0",
         "--hide-scrollbars")


def find_chromium() -> str | None:
    """The Chromium program on PATH, if any."""
    return next((found for name in NAMES if (found := shutil.which(name))), None)


@dataclass
class Page:
    """What the browser made of a page: its DOM (for ``dump_dom``), the console
    messages, and the wall time from starting the browser to its exit."""

    dom: str
    console: list[str]
    seconds: float


def open_page(path: Path, *, screenshot: Path | None = None, size: tuple[int, int] = (1300, 2400),
              timeout: float = 120.0) -> Page:
    """Load ``path`` in headless Chromium: its DOM, or a screenshot to ``screenshot``."""
    program = find_chromium()
    if program is None:
        raise FileNotFoundError("no chromium on PATH (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="wa-chromium-") as profile:
        action = [f"--screenshot={screenshot}"] if screenshot else ["--dump-dom"]
        command = [program, *FLAGS, f"--user-data-dir={profile}",
                   f"--window-size={size[0]},{size[1]}", *action, path.absolute().as_uri()]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited with {done.returncode}: "
                           f"{done.stderr.strip().splitlines()[-1:]}")
    console = [m["message"] for m in map(CONSOLE.search, done.stderr.splitlines()) if m]
    return Page(dom="" if screenshot else done.stdout, console=console, seconds=seconds)
