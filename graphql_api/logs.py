"""Logging set-up for the service process."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per request to ComfyUI would drown the lines that matter.
    logging.getLogger("httpx").setLevel(logging.WARNING)
