"""run.log: pytest-wa's log of the whole run, in WA3's line format.

The logger is deliberately not one of the ``logging`` module's managed loggers:
pytest captures every managed logger (since 9.2 even non-propagating ones) and
would append "Captured log" sections to each failure, which pytest-wa keeps to
one paragraph. The run's story is in run.log.
"""

from __future__ import annotations

import logging
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"

#: The logger of pytest-wa's run and jobs (written to run.log while a run is open).
RUN_LOGGER = logging.Logger("pytest_wa", logging.DEBUG)


class _Lines(logging.Formatter):
    """Every line of a multi-line message gets the prefix, as in WA3's run.log."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = text[: len(text) - len(record.getMessage())] if "\n" in text else ""
        return text.replace("\n", "\n" + prefix) if prefix else text


def attach_run_log(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(_Lines(FORMAT))
    RUN_LOGGER.addHandler(handler)
    return handler


def detach_run_log(handler: logging.Handler) -> None:
    RUN_LOGGER.removeHandler(handler)
    handler.close()
