"""Device pools with pytest-xdist: one device per worker, one run directory.

- ``devices``: which devices ``--wa-device`` names (a comma list or a config
  file's pool) and the usage errors about workers and devices;
- ``controller``: the xdist controller's plugin: hands each worker its device,
  owns the run-level output files, picks the scheduler;
- ``scheduler``: load scheduling that reschedules a lost device's jobs;
- ``matrix``: ``--wa-matrix`` scheduling (each device's jobs to its worker);
- ``worker``: a worker's role (its device, from ``workerinput``) and how it
  leaves when its device is lost;
- ``progress``: the controller's live progress, a line per device, from
  ``status_files`` that the workers write at each stage of a job.

This package is the only one that reads ``workerinput``/``workeroutput``: the
rest of pytest-wa sees a worker's ``RunRole`` (engine/role.py).
"""

from __future__ import annotations

import pytest

#: A worker's exit status after its device was lost (EX_TEMPFAIL): not 2, which
#: xdist takes for a keyboard interrupt that stops the whole session.
DEVICE_LOST_EXIT = 75

#: The ``workeroutput`` key a worker sets when it leaves because its device died.
DEVICE_LOST_KEY = "wa_device_lost"

#: The ``workerinput`` key naming the directory of the workers' status files.
PROGRESS_DIR_KEY = "wa_progress_dir"


def configure_pool(config: pytest.Config) -> None:
    """A worker takes the role its controller gave it; the controller checks the pool
    and, when xdist starts workers, registers the plugin that owns the run's files.

    Cheap when pytest-xdist is off: a few option look-ups (and none of pool/).
    """
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        from .worker import configure_worker

        configure_worker(config, workerinput)
        return
    if config.getoption("wa_device", None) or config.getoption("wa_matrix", False):
        from .devices import check_pool

        check_pool(config)
    if config.getoption("dist", "no") != "no" and config.getoption("tx", None):
        from .controller import PoolController
        from .progress import PoolProgress

        config.pluginmanager.register(PoolController(config), "pytest-wa-pool")
        config.pluginmanager.register(PoolProgress(config), "pytest-wa-pool-progress")
