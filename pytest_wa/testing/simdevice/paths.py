"""Where the simulated device's tools keep their state, inside its tree."""

from __future__ import annotations

PROPS = "/data/property/props"
PACKAGES = "/data/system/packages.list"
SETTINGS = "/data/system/settings.list"
LOG = "/data/misc/logd/logcat.log"
RUNNING = "/data/system/running.list"  # the apps the activity manager has started
