"""run.log: pytest-wa's log of the whole run, in WA3's line format."""

from __future__ import annotations

import logging
from pathlib import Path

LOGGER = "pytest_wa"
FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


class _Lines(logging.Formatter):
    """Every line of a multi-line message gets the prefix, as in WA3's run.log."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = text[: len(text) - len(record.getMessage())] if "\n" in text else ""
        return text.replace("\n", "\n" + prefix) if prefix else text


def attach_run_log(path: Path) -> logging.Handler:
    """Send pytest-wa's log to run.log only: not propagated, so pytest's failure
    reports stay the one paragraph pytest-wa writes (no "Captured log" sections)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(_Lines(FORMAT))
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    return handler


def detach_run_log(handler: logging.Handler) -> None:
    logger = logging.getLogger(LOGGER)
    logger.removeHandler(handler)
    logger.propagate = True
    logger.setLevel(logging.NOTSET)
    handler.close()
