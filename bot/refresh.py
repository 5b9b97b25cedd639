"""Keeps posted Slack messages current: coalesced chat.update, at most one per message a second.

Changes mark rows of `posted_message` dirty in their own transaction (so a mark survives a crash
or restart); a background task re-renders each dirty message with the renderer registered for
its `kind` and calls chat.update. A mark is cleared only if no newer mark arrived meanwhile
(compare-and-set on `updated_at`), so a change made during a render is never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import ColumnElement, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.models import PostedMessage, utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Renderer = Callable[[AsyncSession, PostedMessage], Awaitable[dict[str, Any] | None]]
"""Builds the message (text, blocks, attachments) for a row whose `render_version` is new."""

MIN_INTERVAL = timedelta(seconds=1)
"""Slack allows about 50 chat.update a minute: never more than one a second per message."""
BATCH = 50
# The message is gone or can no longer be edited: stop trying instead of retrying forever.
_GIVE_UP = frozenset(
    {"message_not_found", "channel_not_found", "cant_update_message", "is_archived"}
)


async def mark_dirty(session: AsyncSession, where: ColumnElement[bool], **values: Any) -> None:
    """Mark the matching messages for a refresh, in the caller's transaction."""
    statement = (
        update(PostedMessage)
        .where(where)
        .values(dirty=True, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    await session.exec(statement)


async def mark_ids(session: AsyncSession, ids: Iterable[int], **values: Any) -> None:
    await mark_dirty(session, col(PostedMessage.id).in_(list(ids)), **values)


class Refresher:
    """Re-renders dirty posted messages; `flush()` does one pass, `start()` runs it in the back."""

    def __init__(
        self,
        *,
        sessions: db.SessionFactory,
        client: AsyncWebClient,
        clock: Clock,
        run_in_background: bool = True,
        idle_seconds: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._clock = clock
        self._renderers: dict[str, Renderer] = {}
        self._run_in_background = run_in_background
        self._idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._paused_until: datetime | None = None

    def register(self, kind: str, renderer: Renderer) -> None:
        """The renderer for every posted message of this `kind` (e.g. "list", "status")."""
        self._renderers[kind] = renderer

    def kick(self) -> None:
        """Wake the background task now that something was marked (it also polls each second)."""
        self._wake.set()

    async def start(self) -> None:
        if self._run_in_background and self._task is None:
            self._task = asyncio.create_task(self._run(), name="posted-message-refresher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.flush()
            except Exception:  # keep refreshing after a database or network hiccup
                log.exception("refreshing posted messages failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_seconds)
            self._wake.clear()

    async def flush(self) -> int:
        """Refresh every dirty message that is due; returns how many were updated."""
        now = self._clock()
        if self._paused_until is not None and now < self._paused_until:
            return 0
        due_before = now - MIN_INTERVAL
        statement = (
            select(PostedMessage.id)
            .where(
                col(PostedMessage.dirty).is_(True),
                col(PostedMessage.refreshed_at).is_(None)
                | (col(PostedMessage.refreshed_at) <= due_before),
            )
            .order_by(col(PostedMessage.updated_at))
            .limit(BATCH)
        )
        async with db.session_scope(self._sessions) as session:
            ids = [row for row in (await session.exec(statement)).all() if row is not None]
        updated = 0
        for message_id in ids:
            if self._paused_until is not None and self._clock() < self._paused_until:
                break
            updated += await self.refresh_now(message_id)
        return updated

    async def refresh_now(self, message_id: int) -> bool:
        """Render and update one message at once (a person's own click does not wait)."""
        rendered = await self._render(message_id)
        if rendered is None:
            return False
        row, mark, payload = rendered
        done = payload is None or await self._send(row, payload)
        await self._clear(message_id, mark if done else None)
        return done and payload is not None

    async def _render(
        self, message_id: int
    ) -> tuple[PostedMessage, datetime, dict[str, Any] | None] | None:
        async with db.session_scope(self._sessions) as session:
            row = await session.get(PostedMessage, message_id)
            if row is None:
                return None
            renderer = self._renderers.get(row.kind)
            if renderer is None:
                log.warning("no renderer for posted messages of kind %r", row.kind)
                return None
            mark = row.updated_at
            claimed = await session.exec(
                update(PostedMessage)
                .where(
                    col(PostedMessage.id) == message_id,
                    col(PostedMessage.render_version) == row.render_version,
                )
                .values(render_version=row.render_version + 1)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:
                return None  # another process is rendering it right now
            set_committed_value(row, "render_version", row.render_version + 1)  # as claimed
            payload = await renderer(session, row)
        return row, mark, payload

    async def _send(self, row: PostedMessage, payload: dict[str, Any]) -> bool:
        try:
            await self._client.chat_update(channel=row.channel, ts=row.ts, **payload)
        except SlackApiError as exc:
            return self._failed(row, exc)
        return True

    def _failed(self, row: PostedMessage, exc: SlackApiError) -> bool:
        """True when the message should be considered done (it cannot be updated any more)."""
        if exc.response.status_code == 429:
            retry_after = int(exc.response.headers.get("Retry-After", "1") or 1)
            self._paused_until = self._clock() + timedelta(seconds=retry_after)
            log.warning("Slack rate limit: pausing message updates for %s s", retry_after)
            return False
        error = str(exc.response.get("error", ""))
        log.warning("chat.update of %s/%s failed: %s", row.channel, row.ts, error)
        return error in _GIVE_UP

    async def _clear(self, message_id: int, mark: datetime | None) -> None:
        """Record the attempt (for the one-a-second limit); clear the mark if `mark` is given."""
        now = self._clock()
        async with db.session_scope(self._sessions) as session:
            await session.exec(
                update(PostedMessage)
                .where(col(PostedMessage.id) == message_id)
                .values(refreshed_at=now)
                .execution_options(synchronize_session=False)
            )
            if mark is None:
                return
            # Cleared only if nothing marked it again while it was being rendered.
            await session.exec(
                update(PostedMessage)
                .where(col(PostedMessage.id) == message_id, col(PostedMessage.updated_at) == mark)
                .values(dirty=False)
                .execution_options(synchronize_session=False)
            )
