"""Scenario fixtures: the real server (bot.app's root, bot.server) talking to a fake Slack Web API."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.accounts import chart as accounts
from bot.app import SlackParts, build_app
from bot.core import Core
from bot.costcodes import intake
from bot.costcodes.domain import Surface
from bot.sandbox.example_data import COST_CODES, example_accounts
from bot.server import APP, serve
from bot.store import db
from tests.conftest import make_settings
from tests.fakes.slack_api import FakeSlack
from tests.handlers.slack_driver import ADMIN, OTHER, SECRET, SlackDriver

MakeDriver = Callable[..., Awaitable[SlackDriver]]


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    fake.add_user(ADMIN)
    fake.add_user(OTHER)
    yield fake
    await fake.stop()


async def seed(services: Core) -> None:
    """The example chart of accounts and the example cost codes, all Ready to Export."""
    rows, problems = intake.read_file(COST_CODES)
    assert not problems
    chart = example_accounts()
    async with db.session_scope(services.sessions) as session:
        await accounts.apply_chart(session, chart)
        await intake.apply_rows(
            session, rows, actor="cli:test", surface=Surface.CLI, source="import:test"
        )


@pytest.fixture
async def make_driver(
    services: Core, fake_slack: FakeSlack, database_url: str
) -> AsyncIterator[MakeDriver]:
    """Build the server with Slack settings (ERP_ADMINS etc. as given) and seed the examples."""
    clients: list[TestClient] = []
    drivers: list[SlackDriver] = []

    async def make(erp_admins: str = ADMIN, **settings: object) -> SlackDriver:
        slack_services = dataclasses.replace(
            services,
            settings=make_settings(
                database_url,
                slack_bot_token="xoxb-test",
                slack_signing_secret=SECRET,
                slack_api_url=fake_slack.api_url,
                erp_admins=erp_admins,
                **settings,
            ),
        )
        await seed(slack_services)
        # The production root, but the tests flush the refresher themselves (SlackDriver.settle).
        app = build_app(slack_services, refresh_in_background=False)
        assert app.slack is not None
        client = TestClient(TestServer(serve(app)))
        await client.start_server()
        clients.append(client)
        driver = SlackDriver(client, fake_slack, slack_services, app.slack.refresher)
        drivers.append(driver)
        return driver

    yield make
    for client in clients:
        await client.close()
    for driver in drivers:  # Slack shows an error for any answer but 200 (401: deliberate)
        assert set(driver.statuses) <= {200, 401}, driver.statuses


def slack_parts(driver: SlackDriver) -> SlackParts:
    """The Slack collaborators the driver's server was built with (bot.app.build_app)."""
    parts = driver.client.app[APP].slack
    assert parts is not None
    return parts


@pytest.fixture
async def slack(make_driver: MakeDriver) -> SlackDriver:
    """The usual set-up: ERP_ADMINS names ADMIN only."""
    return await make_driver()
