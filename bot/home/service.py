"""The App Home tab: published when someone opens it, re-published while they may be looking.

Who opened the tab lately is kept in memory (`VIEWERS_FOR`): Slack tells the process that
received `app_home_opened`, and that process keeps their tab current. A pass (`refresh`, run by
the scheduler every `POLL_SECONDS`) reads the summary once — from the database, so picks,
exports and syncs made by any process or the CLI count — and publishes it to each viewer whose
tab shows something else, at most once per `MIN_INTERVAL` per person.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from blocks.home import home_view, post_list_modal
from bot.connection import views
from bot.connection.words import full_text
from bot.core import Core
from bot.costcodes import counts as queries
from bot.costcodes.domain import Caller, ListFilter
from bot.digests import queries as digest_queries
from bot.home.views import ConnectionHealth, HomeSummary
from bot.review.service import Review
from bot.webconnector.queries import last_web_connector_contact

log = logging.getLogger(__name__)

VIEWERS_FOR = timedelta(minutes=30)
"""After this long without opening the tab again, a person's tab is no longer kept current."""
MIN_INTERVAL = timedelta(seconds=5)
"""At most one re-publish per person in this time, however busy the queue is."""
POLL_SECONDS = 5


@dataclass
class _Viewer:
    opened_at: datetime
    shown: HomeSummary | None = None
    published_at: datetime | None = None
    read: int = 0
    """The sequence number of the summary read last published: an older read never wins."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class HomeTabs:
    """Publishes the Home tab; its buttons post the list in a channel or the failed codes."""

    def __init__(self, services: Core, client: AsyncWebClient, review: Review) -> None:
        self._services = services
        self._client = client
        self._review = review
        self._viewers: dict[str, _Viewer] = {}
        self._reads = itertools.count(1)

    async def opened(self, user_id: str) -> None:
        """`app_home_opened` on the Home tab: publish at once and keep it current for a while."""
        now = self._services.clock()
        viewer = self._viewers.setdefault(user_id, _Viewer(opened_at=now))
        viewer.opened_at = now
        read, summary = await self._summary()
        await self._publish(user_id, viewer, read, summary, now)

    async def refresh(self) -> int:
        """One pass over recent viewers; returns how many tabs were re-published."""
        now = self._services.clock()
        for user_id, viewer in list(self._viewers.items()):
            if now - viewer.opened_at > VIEWERS_FOR:
                del self._viewers[user_id]
        due = [
            (user_id, viewer)
            for user_id, viewer in self._viewers.items()
            if viewer.published_at is None or now - viewer.published_at >= MIN_INTERVAL
        ]
        if not due:
            return 0
        read, summary = await self._summary()
        published = 0
        for user_id, viewer in due:
            if viewer.shown != summary:
                published += await self._publish(user_id, viewer, read, summary, now)
        return published

    async def choose_channel(self, trigger_id: str) -> None:
        """ "Post the list in a channel…": the modal that asks where."""
        await self._client.views_open(trigger_id=trigger_id, view=post_list_modal())

    async def post_list(self, caller: Caller, channel: str, list_filter: ListFilter) -> None:
        """Anyone may post the list (DESIGN §1: everyone may look); the same path as /costcodes."""
        await self._review.post_list(Caller(caller.user_id, channel), list_filter)

    async def open_failed(self, caller: Caller) -> None:
        """The Failed to Export list in the person's messages with the app, for their eyes only."""
        await self._review.post_list(Caller(caller.user_id, caller.user_id), ListFilter.FAILED)

    @property
    def viewers(self) -> list[str]:
        return sorted(self._viewers)

    async def _summary(self) -> tuple[int, HomeSummary]:
        read = next(self._reads)  # taken before reading: a later number never saw older data
        now = self._services.clock()
        async with self._review.reads.sessions() as session:
            counts = await queries.count_by_state(session)
            contact = await last_web_connector_contact(session)
            health = await views.current(session, now=now, settings=self._services.settings)
            summary = HomeSummary(
                counts=counts,
                oldest_waiting=await digest_queries.oldest_ready_code(session),
                last_export=await digest_queries.last_export(session),
                last_contact=contact,
                contact_stale=contact is None or now - contact > digest_queries.STALE_CONTACT,
                quickbooks=ConnectionHealth(health.label, full_text(health), health.since),
            )
        return read, summary

    async def _publish(
        self, user_id: str, viewer: _Viewer, read: int, summary: HomeSummary, now: datetime
    ) -> int:
        async with viewer.lock:
            if read <= viewer.read:
                return 0  # a newer summary was published meanwhile
            viewer.read = read
            try:
                await self._client.views_publish(user_id=user_id, view=home_view(summary))
            except SlackApiError as exc:
                log.warning(
                    "views.publish for %s failed: %s", user_id, exc.response.get("error", "")
                )
                self._viewers.pop(user_id, None)
                return 0
            viewer.shown, viewer.published_at = summary, now
            return 1
