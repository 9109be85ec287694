"""Device pools with pytest-xdist: one device per worker, one run directory.

- ``devices``: which devices ``--wa-device`` names (a comma list or a config
  file's pool) and the usage errors about workers and devices;
- ``controller``: the xdist controller's plugin: hands each worker its device,
  owns the run-level output files, picks the scheduler;
- ``scheduler``: load scheduling that reschedules a lost device's jobs;
- ``worker``: what a worker writes into the shared run directory, and how it
  leaves when its device is lost.
"""

from __future__ import annotations

#: A worker's exit status after its device was lost (EX_TEMPFAIL): not 2, which
#: xdist takes for a keyboard interrupt that stops the whole session.
DEVICE_LOST_EXIT = 75

#: The ``workeroutput`` key a worker sets when it leaves because its device died.
DEVICE_LOST_KEY = "wa_device_lost"
