"""Flashing: the ``pytest_wa_flash`` hook, and how a job's ``flash`` entry reaches it.

pytest-wa knows no flashing tool (fastboot, a vendor's downloader, an SD-card
mux...), so a spec's ``flash`` mapping (WA3's JobSpec ``flash``, e.g.
``{image_bundle: ..., images: {kernel: ...}}``) is handed to a plugin or a
``conftest.py`` that implements ``pytest_wa_flash`` (see ``hookspecs.py``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from ..model.errors import WAError
from ..model.runlog import RUN_LOGGER

if TYPE_CHECKING:
    from ..plugins.context import JobContext

HOOK_NAME = "pytest_wa_flash"

logger = RUN_LOGGER


class FlashError(WAError):
    """No plugin flashed the device although a job asked for it."""


def has_flash_plugin(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether any plugin or conftest.py implements ``pytest_wa_flash``."""
    caller = getattr(pluginmanager.hook, HOOK_NAME, None)
    return bool(caller is not None and caller.get_hookimpls())


class Flasher:
    """Flashes the device when a job asks for images it does not carry yet.

    Images stay on the device across reboots, so flashing the same mapping
    again for the next iteration of the spec (or for another spec that names
    the same images) would only cost minutes; a different mapping in between
    makes the next job flash again.
    """

    def __init__(self) -> None:
        self.current: dict[str, Any] | None = None

    def flash_for(self, job: JobContext) -> bool:
        """Flash if this job needs it; True if it flashed. Raises what the hook raised."""
        flash = job.spec.flash
        if not flash or flash == self.current:
            return False
        logger.info("Flashing the device for %s: %s", job.output_id, flash)
        self.current = None  # unknown while flashing: a failed flash is retried next job
        started = time.monotonic()
        flashed = job.hook.pytest_wa_flash(target=job.target, flash=dict(flash), job=job)
        if not flashed:
            raise FlashError("no pytest_wa_flash implementation flashed the device (each "
                             "returned None); a conftest.py implementing it must be in or "
                             "above the agenda's directory")
        self.current = dict(flash)
        elapsed = time.monotonic() - started
        logger.info("Device flashed in %.1f s", elapsed)
        job.add_event(f"flashed the device in {elapsed:.1f} s: {flash}")
        return True
