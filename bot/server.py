"""The one aiohttp server: the routes and lifetimes of an App that bot.app has built.

Routes: /slack/events (when Slack has a signing secret), /qbwc, /healthz, /procore/webhook (when
the link is on). Lifetimes: Slack's client pool, refresher, Socket Mode and digests; the Procore
link; the scheduler. What to serve is decided before: the CLI decides sandbox mode (bot.cli).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text

from bot import __version__
from bot.app import App, SlackParts, build_app
from bot.config import Settings
from bot.connection import views
from bot.connection.words import full_text
from bot.core import Core
from bot.digests import service
from bot.procore import link
from bot.slack import bolt
from bot.store import db
from bot.webconnector.backend import QbwcBackend
from bot.webconnector.queries import last_web_connector_contact
from qbd.webconnector import qbwc_routes

log = logging.getLogger(__name__)

APP = web.AppKey("app", App)
CORE = web.AppKey("core", Core)
QBWC = web.AppKey("qbwc", QbwcBackend)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
Mount = Callable[[web.Application], None]
"""Adds routes and lifetimes of its own to the web app (the CLI's sandbox mode)."""


async def healthz(request: web.Request) -> web.Response:
    """Database reachability, schema revision and version; 503 when the database is down."""
    services = request.app[CORE]
    body: dict[str, Any] = {"version": __version__, "migration_head": db.head_revision()}
    try:
        async with services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        body["database"] = "ok"
        body["migration_current"] = await db.current_revision(services.engine)
        async with services.sessions() as session:
            contact = await last_web_connector_contact(session)
        body["last_web_connector_contact"] = contact.isoformat() if contact else None
        async with services.sessions() as session:
            view = await views.current(session, now=services.clock(), settings=services.settings)
        body["quickbooks"] = {
            "state": view.state.value,
            "message": full_text(view),
            "since": view.since.isoformat() if view.since else None,
        }
    except Exception as exc:  # the health check reports any failure instead of raising it
        log.warning("health check: database unreachable: %s", exc)
        body["database"] = f"error: {type(exc).__name__}"
    body["scheduler"] = "running" if request.app[SCHEDULER].running else "stopped"
    if link.PROCORE in request.app:  # only when the link is on
        try:
            body["procore"] = await link.health_json(request.app[link.PROCORE])
        except Exception as exc:  # the database error is reported above
            body["procore"] = {"state": "error", "message": type(exc).__name__}
    body["status"] = "ok" if body["database"] == "ok" else "degraded"
    return web.json_response(body, status=200 if body["status"] == "ok" else 503)


def build_web_app(services: Core) -> web.Application:
    """The server of `services`: the App built by bot.app, with its routes (tests, benches)."""
    return serve(build_app(services))


def serve(app: App) -> web.Application:
    """The web app that serves `app`: routes, and the lifetimes of its parts, in this order."""
    web_app = web.Application()
    web_app[APP] = app
    web_app[CORE] = app.core
    web_app[QBWC] = app.qbwc
    web_app[SCHEDULER] = app.scheduler
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_routes(
        qbwc_routes(app.qbwc, max_body_bytes=app.core.settings.qbwc_max_body_bytes)
    )
    if app.slack is not None:
        _mount_slack(web_app, app.slack, app.core.settings)
    if app.procore is not None:  # POST /procore/webhook, start-up reconcile, write-back
        link.mount(web_app, app.procore)
    web_app.on_startup.append(_start_scheduler)
    web_app.on_cleanup.append(_stop_scheduler)
    return web_app


def _mount_slack(web_app: web.Application, slack: SlackParts, settings: Settings) -> None:
    """POST /slack/events (with a signing secret; Socket Mode needs none), then the lifetimes."""
    if settings.slack_signing_secret is not None:
        secret = settings.slack_signing_secret.get_secret_value()
        web_app.router.add_post(bolt.EVENTS_PATH, bolt.events_handler(slack.bolt, secret))
    web_app.cleanup_ctx.append(_slack_lifetime(slack, settings))
    web_app.cleanup_ctx.append(service.lifetime(slack.digests))  # schedules from the database


def _slack_lifetime(
    slack: SlackParts, settings: Settings
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Start-up and clean-up of Slack's parts, run by the aiohttp server (`cleanup_ctx`)."""

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        client = slack.client
        # One connection pool for every Slack call, opened on the server's loop.
        client.session = aiohttp.ClientSession()
        await slack.refresher.start()
        warm = asyncio.create_task(slack.review.warm(), name="gl-account-index")
        socket = bolt.socket_mode(slack.bolt, settings, client)
        try:
            yield
        finally:
            for task in (warm, socket):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await slack.refresher.stop()
            await slack.accounts.close()
            await slack.reads.close()
            await client.session.close()
            client.session = None

    return lifetime


async def _start_scheduler(app: web.Application) -> None:
    app[SCHEDULER].start()


async def _stop_scheduler(app: web.Application) -> None:
    if app[SCHEDULER].running:
        app[SCHEDULER].shutdown(wait=False)


def log_missing_slack(services: Core) -> None:
    missing = services.settings.missing_slack_settings()
    if missing:
        log.warning(
            "Slack is not connected: set %s in the environment or .env "
            "(see README, 'Connect Slack'); the Web Connector and /healthz work without it.",
            " and ".join(missing),
        )


def freeze_startup_heap() -> None:
    """Keep what start-up built out of every later garbage collection (call once, in `serve`).

    Modules, classes and functions are most of the heap (~130,000 objects) and live as long as
    the process; a full collection that walks them stops the event loop for 40–90 ms, a pause
    for every Slack request in flight. Frozen, they are skipped, and nothing is lost.
    """
    gc.collect()
    gc.freeze()


async def run(app: App, *, mount: Mount | None = None) -> None:
    """Serve `app` until cancelled; `mount` adds what the CLI decided (the sandbox's page)."""
    web_app = serve(app)
    if mount is not None:
        mount(web_app)
    settings = app.core.settings
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    log.info("listening on http://%s:%s", settings.host, settings.port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
