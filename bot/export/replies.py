"""Exports as Slack shows them: the threaded status reply, the final reply, stale and sync notes.

The Web Connector's answers arrive in whichever process the Web Connector reached; everything
this module needs is in the database, so any process can post or refresh. Each one-off reply
(final, stale, sync done) is claimed with a compare-and-set on its flag before it is posted, so
it is posted once even with several processes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from blocks.accounts import sync_done_message
from blocks.export import final_message, silence_message, stale_message, status_message
from bot.connection import views
from bot.core import Core
from bot.costcodes.domain import ExportProgress, ListFilter
from bot.export.progress import load_progress
from bot.review import listing
from bot.slack import refresher as refresh
from bot.slack.refresher import Refresher
from bot.store import db
from bot.store.models import ExportBatch, PostedMessage, QbwcJob
from bot.webconnector.queries import last_web_connector_contact
from bot.webconnector.states import ACTIVE_BATCH, FINISHED_JOB, BatchState, JobState

log = logging.getLogger(__name__)

STATUS_KIND = "status"


class ExportReporter:
    """Posts and keeps current what the channel sees of each export."""

    def __init__(self, services: Core, client: AsyncWebClient, refresher: Refresher) -> None:
        self.services = services
        self.client = client
        self.refresher = refresher
        self._before_sync_reply: list[Callable[[], Awaitable[object]]] = []

    def before_sync_reply(self, hook: Callable[[], Awaitable[object]]) -> None:
        """Run `hook` before saying a GL account sync is done (the pickers must show the chart)."""
        self._before_sync_reply.append(hook)

    async def render_status(
        self, session: AsyncSession, row: PostedMessage, read_at: int
    ) -> dict[str, Any]:
        """The refresher's renderer for `STATUS_KIND` rows (bot.app registers it)."""
        assert row.export_batch_id is not None
        return status_message(await self._progress(session, row.export_batch_id))

    async def _progress(self, session: AsyncSession, batch_id: int) -> ExportProgress:
        """Where the export stands, with QuickBooks' connection (trouble holds it on screen)."""
        services = self.services
        view = await views.current(session, now=services.clock(), settings=services.settings)
        return await load_progress(session, batch_id, connection=view)

    async def post_status(self, batch_id: int, channel: str, thread_ts: str) -> None:
        """The one threaded reply that follows an export; edited in place from now on."""
        async with self.services.sessions() as session:
            progress = await self._progress(session, batch_id)
        posted = await self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, **status_message(progress)
        )
        now = self.services.clock()
        async with db.session_scope(self.services.sessions) as session:
            session.add(
                PostedMessage(
                    channel=channel,
                    ts=str(posted["ts"]),
                    kind=STATUS_KIND,
                    thread_ts=thread_ts,
                    export_batch_id=batch_id,
                    refreshed_at=now,
                    created_at=now,
                )
            )
            batch = await session.get(ExportBatch, batch_id)
            if batch is not None:
                batch.status_ts = str(posted["ts"])

    async def on_progress(self, batch_ids: list[int]) -> None:
        """After the Web Connector's answer is committed: mark replies and lists, post finals."""
        if batch_ids:
            async with db.session_scope(self.services.sessions) as session:
                status = col(PostedMessage.kind) == STATUS_KIND
                await refresh.mark_dirty(
                    session, status & col(PostedMessage.export_batch_id).in_(batch_ids)
                )
                await listing.mark_copies(
                    session, list(ListFilter), now=self.services.clock(), changed_by="QuickBooks"
                )
            for batch_id in batch_ids:
                await self._post_final(batch_id)
        await self.report_syncs()
        self.refresher.kick()

    async def _post_final(self, batch_id: int) -> None:
        async with db.session_scope(self.services.sessions) as session:
            batch = await session.get(ExportBatch, batch_id)
            if (
                batch is None
                or batch.state != BatchState.DONE
                or not batch.channel
                or not batch.list_ts
            ):
                return
            if not await _claim(session, ExportBatch, batch_id, "final_posted"):
                return
            progress = await load_progress(session, batch_id)
            channel, thread = batch.channel, batch.list_ts
        await self._reply(channel, thread, final_message(progress), broadcast=True)

    async def tick(self) -> None:
        """Every minute: stale notices, and anything a crash left unposted (state is in the DB)."""
        await self.check_stale()
        await self.check_silence()
        statement = select(ExportBatch.id).where(
            col(ExportBatch.state) == BatchState.DONE.value,
            col(ExportBatch.final_posted).is_(False),
            col(ExportBatch.channel).is_not(None),
        )
        async with self.services.sessions() as session:
            pending = [batch_id for batch_id in (await session.exec(statement)) if batch_id]
        for batch_id in pending:
            await self._post_final(batch_id)
        await self.report_syncs()
        self.refresher.kick()

    async def check_stale(self) -> None:
        """Once per export: say so when the Web Connector has not picked it up in time."""
        minutes = self.services.settings.export_stale_minutes
        cutoff = self.services.clock() - timedelta(minutes=minutes)
        statement = select(ExportBatch).where(
            col(ExportBatch.state) == BatchState.QUEUED.value,
            col(ExportBatch.stale_notified).is_(False),
            col(ExportBatch.created_at) <= cutoff,
            col(ExportBatch.channel).is_not(None),
        )
        async with self.services.sessions() as session:
            waiting = [(b.id or 0, b.channel, b.list_ts) for b in (await session.exec(statement))]
        await self._say_once(waiting, "stale_notified", stale_message(minutes))

    async def check_silence(self) -> None:
        """Once per export: say so in its channel when the Web Connector has gone silent."""
        hours = self.services.settings.qbwc_silence_hours_exporting
        now = self.services.clock()
        async with self.services.sessions() as session:
            contact = await last_web_connector_contact(session)
            if contact is not None and now - contact <= timedelta(hours=hours):
                return
            statement = select(ExportBatch).where(
                col(ExportBatch.state).in_(ACTIVE_BATCH),
                col(ExportBatch.silence_notified).is_(False),
                col(ExportBatch.channel).is_not(None),
            )
            silent = [
                (b.id or 0, b.channel, b.list_ts)
                for b in (await session.exec(statement))
                # An export younger than the limit waits on the stale notice instead.
                if now - b.created_at > timedelta(hours=hours)
            ]
        message = silence_message(hours, contact)
        await self._say_once(silent, "silence_notified", message, broadcast=True)

    async def _say_once(
        self,
        batches: list[tuple[int, str | None, str | None]],
        flag: str,
        message: dict[str, Any],
        broadcast: bool = False,
    ) -> None:
        for batch_id, channel, thread in batches:
            async with db.session_scope(self.services.sessions) as session:
                claimed = await _claim(session, ExportBatch, batch_id, flag)
            if claimed and channel and thread:
                await self._reply(channel, thread, message, broadcast=broadcast)

    async def report_syncs(self) -> None:
        """Reply in the thread of each finished GL account refresh asked for in Slack."""
        statement = select(QbwcJob).where(
            col(QbwcJob.state).in_(FINISHED_JOB),
            col(QbwcJob.reported).is_(False),
            col(QbwcJob.channel).is_not(None),
        )
        async with self.services.sessions() as session:
            jobs = list((await session.exec(statement)).all())
        for job in jobs:
            async with db.session_scope(self.services.sessions) as session:
                if not await _claim(session, QbwcJob, job.id or 0, "reported"):
                    continue
            if job.state == JobState.DONE:
                await self._run_before_sync_reply()
            result = json.loads(job.result or "{}")
            assert job.channel is not None
            await self._reply(job.channel, job.thread_ts, sync_done_message(job.state, result))

    async def _run_before_sync_reply(self) -> None:
        for hook in self._before_sync_reply:
            try:
                await hook()
            except Exception:  # the reply still goes out; the next check catches the index up
                log.exception("could not prepare for a GL account sync reply")

    async def _reply(
        self, channel: str, thread_ts: str | None, message: dict[str, Any], broadcast: bool = False
    ) -> None:
        try:
            await self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, reply_broadcast=broadcast, **message
            )
        except SlackApiError as exc:
            log.error("could not post in %s (thread %s): %s", channel, thread_ts, exc)


async def _claim(session: AsyncSession, model: Any, row_id: int, flag: str) -> bool:
    """Set a once-only flag; True only for the one caller that set it."""
    statement = (
        update(model)
        .where(model.id == row_id, getattr(model, flag).is_(False))
        .values(**{flag: True})
        .execution_options(synchronize_session=False)
    )
    return (await session.exec(statement)).rowcount == 1
