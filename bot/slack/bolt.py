"""Connects Slack to the one aiohttp server: the Bolt app factory, HTTP events and Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.core import Services
from bot.costcodes.slack_import import SlackImport
from bot.export.replies import ExportReporter
from bot.home.service import HomeTabs
from bot.review.service import Review
from bot.slack.door import Door, GuardedSocketModeHandler
from bot.slack.permissions import Permissions
from bot.slack.refresher import Refresher
from bot.store.reads import ReadSessions
from handlers.registry import register_all

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_EVENT_BYTES = 1024 * 1024
"""Slack's payloads are small; anything larger is not from Slack."""
SOCKET_RETRY_SECONDS = 30.0
REVIEW = web.AppKey("review", Review)
"""The web app's review service, for code that needs it outside a listener (tests use it)."""

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


def attach_slack(services: Services, *, run_in_background: bool = True) -> None:
    """Give `services` a Slack client and a refresher, unless it already has them."""
    if services.slack_client is None:
        services.slack_client = make_client(services.settings)
    if services.refresher is None:
        services.refresher = Refresher(
            sessions=services.sessions,
            client=services.slack_client,
            clock=services.clock,
            run_in_background=run_in_background,
            reads=ReadSessions(services.settings.database_url, services.sessions),
        )


def create_app(services: Services) -> AsyncApp:
    """A fresh Bolt app with every listener, the service middleware and the error handler."""
    return _build(services)[0]


def _build(services: Services) -> tuple[AsyncApp, Review]:
    attach_slack(services)
    assert services.slack_client is not None and services.refresher is not None
    settings = services.settings
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=services.slack_client,
        # An empty secret is only used in Socket Mode, where /slack/events is not served.
        signing_secret=secret.get_secret_value() if secret else "",
        process_before_response=False,
    )
    permissions = Permissions(services.slack_client, settings.erp_admins, services.clock)
    reporter = ExportReporter(services, services.slack_client, services.refresher)
    services.export_reporter = reporter
    review = Review(
        services,
        client=services.slack_client,
        refresher=services.refresher,
        permissions=permissions,
        reporter=reporter,
    )
    home = HomeTabs(services, services.slack_client, review)
    services.home_tabs = home
    imports = SlackImport(services, services.slack_client, permissions)
    register_all(app, services, review, home, imports)
    return app, review


def events_handler(app: AsyncApp, signing_secret: str) -> Handler:
    """`POST /slack/events`: signature (401), body shape (400), then Bolt (bot.slack.door)."""
    return Door(app, signing_secret, MAX_EVENT_BYTES).handle


def mount(web_app: web.Application, services: Services) -> AsyncApp | None:
    """Serve Slack from `web_app` when Slack is configured; otherwise leave it as it is."""
    settings = services.settings
    if not settings.slack_configured:
        return None
    app, review = _build(services)
    web_app[REVIEW] = review
    if settings.slack_signing_secret is not None:
        secret = settings.slack_signing_secret.get_secret_value()
        web_app.router.add_post(EVENTS_PATH, events_handler(app, secret))
    web_app.cleanup_ctx.append(_lifetime(app, review, services))
    return app


def _lifetime(
    app: AsyncApp, review: Review, services: Services
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Start-up and clean-up of Slack's parts, run by the aiohttp server (`cleanup_ctx`)."""

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        client, refresher = services.slack_client, services.refresher
        assert client is not None and refresher is not None
        client.session = aiohttp.ClientSession()  # one connection pool for every Slack call
        await refresher.start()
        warm = asyncio.create_task(review.warm(), name="gl-account-index")
        socket = _socket_mode(app, services.settings, client)
        try:
            yield
        finally:
            for task in (warm, socket):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await refresher.stop()
            await review.close()
            await client.session.close()
            client.session = None

    return lifetime


def _socket_mode(
    app: AsyncApp, settings: Settings, client: AsyncWebClient
) -> asyncio.Task[None] | None:
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
