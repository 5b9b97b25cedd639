"""The one aiohttp server: Slack events, the Web Connector, health, and the scheduler's life."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text

from bot import __version__
from bot import sandbox as sandbox_mode
from bot.connection import views as connection_view
from bot.connection.words import full_text
from bot.core import Services
from bot.costcodes import counts as queries
from bot.digests import service as digests
from bot.home import service as home
from bot.jobs import build_scheduler, every
from bot.procore import link as procore_link
from bot.slack import bolt as slack_app
from bot.store import db
from bot.webconnector.backend import QbwcBackend
from qbd.webconnector import qbwc_routes

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
QBWC = web.AppKey("qbwc", QbwcBackend)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
SWEEP_SECONDS = 60


async def healthz(request: web.Request) -> web.Response:
    """Database reachability, schema revision and version; 503 when the database is down."""
    services = request.app[SERVICES]
    body: dict[str, Any] = {"version": __version__, "migration_head": db.head_revision()}
    try:
        async with services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        body["database"] = "ok"
        body["migration_current"] = await db.current_revision(services.engine)
        async with services.sessions() as session:
            contact = await queries.last_web_connector_contact(session)
        body["last_web_connector_contact"] = contact.isoformat() if contact else None
        async with services.sessions() as session:
            view = await connection_view.current(
                session, now=services.clock(), settings=services.settings
            )
        body["quickbooks"] = {
            "state": view.state.value,
            "message": full_text(view),
            "since": view.since.isoformat() if view.since else None,
        }
    except Exception as exc:  # the health check reports any failure instead of raising it
        log.warning("health check: database unreachable: %s", exc)
        body["database"] = f"error: {type(exc).__name__}"
    body["scheduler"] = "running" if request.app[SCHEDULER].running else "stopped"
    if procore_link.PROCORE in request.app:  # only when the link is on
        try:
            body["procore"] = await procore_link.health_json(request.app[procore_link.PROCORE])
        except Exception as exc:  # the database error is reported above
            body["procore"] = {"state": "error", "message": type(exc).__name__}
    body["status"] = "ok" if body["database"] == "ok" else "degraded"
    return web.json_response(body, status=200 if body["status"] == "ok" else 503)


def build_web_app(services: Services) -> web.Application:
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get("/healthz", healthz)
    backend = QbwcBackend(services)
    app[QBWC] = backend
    app.router.add_routes(
        qbwc_routes(backend, max_body_bytes=services.settings.qbwc_max_body_bytes)
    )
    slack_app.mount(app, services)  # POST /slack/events, Socket Mode, refresher: if configured
    app[SCHEDULER] = build_scheduler(services.settings.tz)
    every(app[SCHEDULER], "qbwc-sweep", backend.expire_silent_sessions, seconds=SWEEP_SECONDS)
    reporter = services.export_reporter
    if reporter is not None:
        backend.listeners.append(reporter.on_progress)
        every(app[SCHEDULER], "export-replies", reporter.tick, seconds=SWEEP_SECONDS)
    if services.home_tabs is not None:
        every(app[SCHEDULER], "home-tabs", services.home_tabs.refresh, seconds=home.POLL_SECONDS)
    digests.install(app, app[SCHEDULER], services)  # schedules from the database
    if services.settings.procore_enabled:  # POST /procore/webhook, reconcile, write-back
        procore_link.install(app, app[SCHEDULER], services)
    app.on_startup.append(_start_scheduler)
    app.on_cleanup.append(_stop_scheduler)
    return app


async def _start_scheduler(app: web.Application) -> None:
    app[SCHEDULER].start()


async def _stop_scheduler(app: web.Application) -> None:
    if app[SCHEDULER].running:
        app[SCHEDULER].shutdown(wait=False)


def log_missing_slack(services: Services) -> None:
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


async def run(services: Services, *, sandbox: bool = True) -> None:
    """Serve until cancelled; given no Slack setting at all, as the local sandbox (bot.sandbox)."""
    log_missing_slack(services)
    local = None
    if sandbox and sandbox_mode.wanted(services.settings):
        services, local = await sandbox_mode.prepare(services)
    app = build_web_app(services)
    if local is not None:
        local.mount(app)  # the page, its controls and the Slack stand-in: sandbox mode only
        log.info("sandbox mode: try the bot at %s/sandbox", local.base_url)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, services.settings.host, services.settings.port)
    await site.start()
    log.info("listening on http://%s:%s", services.settings.host, services.settings.port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
