"""Try the bot without Slack: a local page, a stand-in for Slack and a simulated QuickBooks."""

from __future__ import annotations

import logging

from bot.core import Core
from bot.sandbox import example_data, mode
from bot.sandbox.app import Sandbox

log = logging.getLogger(__name__)

__all__ = ["Sandbox", "prepare", "wanted"]

wanted = mode.wanted


async def prepare(services: Core) -> tuple[Core, Sandbox]:
    """Core whose Slack settings lead back to this server, with the examples loaded."""
    services = mode.sandbox_services(services)
    await mode.seed_examples(services)
    settings = services.settings
    sandbox = Sandbox(settings, example_data.example_quickbooks(), mode.base_url(settings))
    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "sandbox: %s listens on %s, so anyone who can reach it can use the sandbox page",
            settings.port,
            settings.host,
        )
    return services, sandbox
