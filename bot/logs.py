"""Logging set-up: one line per event, with enough context for the operator to act on."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format=FORMAT)
    # The Slack SDK logs request bodies at DEBUG; keep it quieter than our own lines.
    logging.getLogger("slack_bolt").setLevel(max(level, logging.INFO))
    logging.getLogger("slack_sdk").setLevel(max(level, logging.INFO))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
