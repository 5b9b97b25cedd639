"""The Procore link assembled: one client, the reconcile, the webhook route, the write-back.

Built only when `PROCORE_CLIENT_ID` is set (by bot.app for the server, which also schedules its
jobs, and `mount`s it; `ProcoreLink` directly for the CLI); without it nothing here runs and
nothing calls Procore.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.core import Core
from bot.procore import state, webhook
from bot.procore.client import ProcoreClient, ProcoreError, Sleep
from bot.procore.deliveries import RESOURCE, DeliveryProcessor
from bot.procore.outbox import WriteBackWorker
from bot.procore.reconcile import ReconcileReport, apply_full_read
from bot.procore.source import ProcoreSource
from bot.procore.view import ProcoreHealth
from bot.store import db

log = logging.getLogger(__name__)

NAMESPACE = "costcodes"
EVENTS = ("create", "update", "delete")
TICK_SECONDS = 30
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})


class ProcoreLink:
    def __init__(self, services: Core, *, sleep: Sleep = asyncio.sleep) -> None:
        settings = services.settings
        assert settings.procore_client_id is not None
        assert settings.procore_client_secret is not None
        assert settings.procore_company_id is not None
        self.services = services
        self.company_id = settings.procore_company_id
        self.client = ProcoreClient(
            api_url=settings.procore_api_url,
            login_url=settings.procore_login_url,
            client_id=settings.procore_client_id,
            client_secret=settings.procore_client_secret.get_secret_value(),
            company_id=self.company_id,
            sleep=sleep,
        )
        self.source = ProcoreSource(self.client, settings.procore_cost_code_list_id)
        self.deliveries = DeliveryProcessor(
            services.sessions,
            self.source,
            services.clock,
            own_app_ids=frozenset({settings.procore_client_id}),
            list_id=lambda: self.source.list_id,
            company_id=self.company_id,
            on_error=self.note_error,
        )
        self.outbox = WriteBackWorker(
            services.sessions, self.source, services.clock, on_error=self.note_error
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeping = asyncio.Lock()

    # -- work ------------------------------------------------------------------------------

    async def reconcile(self) -> ReconcileReport:
        """Read the whole list and apply it; the error is recorded (and raised) if Procore fails."""
        try:
            codes = await self.source.read_all()
        except ProcoreError as exc:
            await self.note_error(f"reconcile: {exc.message}")
            raise
        now = self.services.clock()
        async with db.session_scope(self.services.sessions) as session:
            report = await apply_full_read(session, codes, now)
            await state.record_ok(
                session,
                self.company_id,
                now,
                list_id=self.source.list_id,
                last_reconcile_at=now,
                last_reconcile=report.words(),
            )
        log.info("Procore reconcile: %s", report.words())
        return report

    async def reconcile_job(self) -> None:
        """The scheduled reconcile: a Procore refusal is recorded and logged, not a traceback."""
        try:
            await self.reconcile()
        except ProcoreError as exc:
            log.warning("Procore reconcile failed: %s", exc.message)

    async def tick(self) -> None:
        """Process due deliveries, then send due write-backs (the scheduled sweep)."""
        async with self._sweeping:
            await self.deliveries.sweep()
            await self.outbox.flush()

    async def note_error(self, words: str) -> None:
        log.warning("Procore link: %s", words)
        async with db.session_scope(self.services.sessions) as session:
            await state.record_error(session, self.company_id, self.services.clock(), words)

    async def health(self) -> ProcoreHealth:
        async with self.services.sessions() as session:
            return await state.health(session, self.company_id)

    # -- background ------------------------------------------------------------------------

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except ProcoreError as exc:
                log.warning("Procore %s failed: %s", what, exc.message)
            except Exception:
                log.exception("Procore %s failed", what)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def kick(self) -> None:
        """A delivery was stored: process it now, in the background."""
        self.spawn(self.tick(), "delivery processing")

    async def start(self) -> None:
        async def first() -> None:
            try:
                await self.reconcile()
            finally:
                await self.tick()  # deliveries and write-backs left by a previous run

        self.spawn(first(), "start-up reconcile")

    async def idle(self) -> None:
        """Wait for the background work started so far (tests; shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.client.close()

    # -- webhooks --------------------------------------------------------------------------

    async def connect(self, url: str) -> list[str]:
        """Register (or correct) the hook and its three triggers; a second run changes nothing."""
        _check_url(url)
        token = self.services.settings.procore_webhook_token
        if token is None:
            raise ProcoreError(
                "set PROCORE_WEBHOOK_TOKEN first (a long random secret): Procore sends it with "
                "every delivery and the bot refuses deliveries without it"
            )
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
        company = {"company_id": self.company_id}
        hooks = await self.client.get("webhooks/hooks", company) or []
        mine = [hook for hook in hooks if hook.get("namespace") == NAMESPACE]
        done: list[str] = []
        if mine:
            hook = mine[0]
            stale = hook.get("destination_url") != url or hook.get("destination_headers") not in (
                None,
                headers,
            )
            if stale:
                wanted = {"destination_url": url, "destination_headers": headers}
                await self.client.patch(f"webhooks/hooks/{hook['id']}", {**company, "hook": wanted})
                done.append(f"hook {hook['id']} now delivers to {url}")
        else:
            wanted = {
                "api_version": "v2",
                "namespace": NAMESPACE,
                "destination_url": url,
                "destination_headers": headers,
            }
            hook = await self.client.post("webhooks/hooks", {**company, "hook": wanted})
            done.append(f"hook {hook['id']} created, delivering to {url}")
        hook_id = hook["id"]
        triggers = await self.client.get(f"webhooks/hooks/{hook_id}/triggers", company) or []
        have = {(t.get("resource_name"), t.get("event_type")) for t in triggers}
        for event in EVENTS:
            if (RESOURCE, event) not in have:
                trigger = {"resource_name": RESOURCE, "event_type": event}
                await self.client.post(
                    f"webhooks/hooks/{hook_id}/triggers",
                    {**company, "api_version": "v2", "trigger": trigger},
                )
                done.append(f"trigger {RESOURCE} {event} added")
        return done


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    local = parts.hostname in LOCAL_HOSTS
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise ProcoreError(f"{url} is not a URL; give the public https address of /procore/webhook")
    if parts.scheme == "http" and not local:
        raise ProcoreError(
            f"{url} is plain http; Procore must deliver over https (http only for localhost)"
        )


PROCORE = web.AppKey("procore", ProcoreLink)


def mount(app: web.Application, link: ProcoreLink) -> None:
    """The link's route and start-up work on the one server (its jobs: bot.app)."""
    app[PROCORE] = link
    services = link.services
    handler = webhook.make_handler(
        services.sessions,
        services.settings.procore_webhook_token,
        link.company_id,
        link.kick,
        services.clock,
    )
    app.router.add_post(webhook.PATH, handler)

    async def started(app: web.Application) -> None:
        await link.start()

    async def closed(app: web.Application) -> None:
        await link.close()

    app.on_startup.append(started)
    app.on_cleanup.append(closed)


async def health_json(link: ProcoreLink) -> dict[str, Any]:
    health = await link.health()

    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "state": "ok" if health.healthy else "error" if health.last_error else "starting",
        "message": health.words,
        "list_id": health.list_id,
        "last_reconcile": when(health.last_reconcile_at),
        "last_delivery": when(health.last_delivery_at),
        "writebacks_waiting": health.writebacks_waiting,
        "held_back": health.held_back,
        "last_error": health.last_error,
        "last_error_at": when(health.last_error_at),
    }
