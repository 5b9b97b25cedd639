"""Real server processes on the test database, a fake Slack they call over HTTP, a driver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from bot.core import Core
from tests.e2e.served import Served
from tests.fakes.slack_api import FakeSlack
from tests.handlers.conftest import fake_slack, seed  # noqa: F401  (fixture)
from tests.handlers.slack_driver import SlackDriver

MakeServer = Callable[[], Served]


@pytest.fixture
async def make_server(
    services: Core,
    fake_slack: FakeSlack,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[MakeServer]:
    """Servers on the test database (seeded with the examples); all stopped at the end."""
    await seed(services)
    made: list[Served] = []

    def make() -> Served:
        served = Served(
            services.settings.database_url, fake_slack.api_url, tmp_path / f"serve{len(made)}.log"
        )
        made.append(served)
        return served

    yield make
    for served in made:
        await served.stop()


async def remote_driver(
    http: aiohttp.ClientSession, fake: FakeSlack, services: Core
) -> SlackDriver:
    """The scenario driver, sending its signed requests to a server in another process."""
    return SlackDriver(http, fake, services, refresher=None)  # type: ignore[arg-type]
