"""Slack's side of the one aiohttp server: the Web API client, the Bolt app, events, Socket Mode.

One `AsyncWebClient` for the process (one workspace): the listeners' services hold it from
start-up instead of Bolt's per-request client, which would be needed for OAuth installs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.core import Core
from bot.costcodes.slack_import import SlackImport
from bot.digests.service import Digests
from bot.home.service import HomeTabs
from bot.review.service import Review
from bot.slack.door import Door, GuardedSocketModeHandler
from handlers.registry import register_all

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_EVENT_BYTES = 1024 * 1024
"""Slack's payloads are small; anything larger is not from Slack."""
SOCKET_RETRY_SECONDS = 30.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: retries after HTTP 429 (Retry-After), 500/503 and dropped connections."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(
    settings: Settings,
    *,
    client: AsyncWebClient,
    core: Core,
    review: Review,
    home: HomeTabs,
    imports: SlackImport,
    digests: Digests,
) -> AsyncApp:
    """A fresh Bolt app with every listener, the service middleware and the error handler."""
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=client,
        # An empty secret is only used in Socket Mode, where /slack/events is not served.
        signing_secret=secret.get_secret_value() if secret else "",
        # The listeners answer Slack as soon as they ack and go on in tasks of their own
        # (handlers.errors.guarded), instead of Bolt polling for the ack every 10 ms.
        process_before_response=True,
    )

    async def give_digests(
        context: AsyncBoltContext, next_: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        context["digests"] = digests  # `/costcodes digest` (handlers.commands)
        return await next_()

    app.middleware(give_digests)
    register_all(app, core, review, home, imports)
    return app


def events_handler(app: AsyncApp, signing_secret: str) -> Handler:
    """`POST /slack/events`: signature (401), body shape (400), then Bolt (bot.slack.door)."""
    return Door(app, signing_secret, MAX_EVENT_BYTES).handle


def socket_mode(
    app: AsyncApp, settings: Settings, client: AsyncWebClient
) -> asyncio.Task[None] | None:
    """Hold a Socket Mode connection in the background when an app token is set."""
    if settings.slack_app_token is None:
        return None
    handler = GuardedSocketModeHandler(
        app, settings.slack_app_token.get_secret_value(), web_client=client
    )

    async def connect_and_hold() -> None:
        try:
            while True:
                try:
                    await handler.connect_async()  # type: ignore[no-untyped-call]
                    break
                except Exception as exc:  # keep serving the Web Connector while Slack is away
                    log.warning("Socket Mode could not connect (%s); retrying", exc)
                    await asyncio.sleep(SOCKET_RETRY_SECONDS)
            log.info("Socket Mode connected")
            await asyncio.Event().wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]

    return asyncio.create_task(connect_and_hold(), name="slack-socket-mode")
