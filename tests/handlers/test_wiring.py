"""How Slack joins the one server: HTTP events only with a signing secret, Socket Mode with a token."""

from __future__ import annotations

import asyncio
import dataclasses

from bot.core import Core
from bot.server import APP
from bot.slack.bolt import make_client
from tests.builders import served
from tests.conftest import make_settings
from tests.fakes.slack_api import FakeSlack
from tests.waiting import eventually


async def test_without_slack_settings_there_is_no_slack_route(services: Core) -> None:
    async with served(services) as client:
        assert (await client.post("/slack/events", data=b"x")).status == 404
        assert (await client.get("/healthz")).status == 200
        assert client.app[APP].slack is None


async def test_socket_mode_starts_and_stops_with_the_server(
    services: Core, fake_slack: FakeSlack, database_url: str
) -> None:
    settings = make_settings(
        database_url,
        slack_bot_token="xoxb-test",
        slack_app_token="xapp-test",
        slack_api_url=fake_slack.api_url,
    )
    socket_services = dataclasses.replace(services, settings=settings)
    async with served(socket_services) as client:
        # Socket Mode asked Slack for a connection with the app token (the fake says no).
        call = (await eventually(lambda: fake_slack.of("apps.connections.open")))[0]
        assert call.token == "xapp-test"
        assert (await client.post("/slack/events", data=b"x")).status == 404
        assert any(task.get_name() == "slack-socket-mode" for task in asyncio.all_tasks())
    assert not any(task.get_name() == "slack-socket-mode" for task in asyncio.all_tasks())


def test_the_client_uses_the_configured_url_and_retries(database_url: str) -> None:
    client = make_client(make_settings(database_url, slack_api_url="http://127.0.0.1:1/api/"))
    assert client.base_url == "http://127.0.0.1:1/api/"
    kinds = {type(handler).__name__ for handler in client.retry_handlers}
    assert kinds == {
        "AsyncConnectionErrorRetryHandler",
        "AsyncRateLimitErrorRetryHandler",
        "AsyncServerErrorRetryHandler",
    }
