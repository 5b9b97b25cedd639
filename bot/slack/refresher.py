"""Keeps posted Slack messages current: one renderer at a time per message, nothing dropped.

Changes mark rows of `posted_message` in their own transaction (so a mark survives a crash or a
restart): `dirty`, and `mark` counted up. Whoever renders a message first takes its lease (a
compare-and-set on the row, so one renderer in every process at a time), renders what the
database holds, sends chat.update, and clears `dirty` only if `mark` is still the one it
rendered. A mark made during a render therefore causes one more render after it — at once when a
person is waiting on that copy (`urgent`), otherwise at the next coalesced pass (at most one
chat.update per message a second). Because one lease holder sends at a time, Slack never gets an
older rendering after a newer one. A lease left by a process that died expires after `LEASE`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import ColumnElement, Update, case, false, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.slack import acks, claims
from bot.store import db
from bot.store.models import PostedMessage
from bot.store.reads import ReadSessions
from bot.store.together import SavedTogether

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Renderer = Callable[[AsyncSession, PostedMessage, int], Awaitable[dict[str, Any] | None]]
"""Builds the message (text, blocks, attachments) for a row whose `render_version` is new.

Its third argument is the `stamp()` taken once the row (and so its mark) was read: anything read
after that stamp shows every change the mark counts, even if another rendering read it."""

MIN_INTERVAL = timedelta(seconds=1)
"""Slack allows about 50 chat.update a minute: background passes update a message once a second."""
LEASE = timedelta(seconds=15)
"""How long a renderer may hold a message; longer than a chat.update with its retries."""
BATCH = 50
RENDERS_AT_ONCE = 2
"""Renderings this process builds and sends at the same time. Each is a few dozen loop callbacks
of up to a few ms (reads, blocks, JSON, the request); after 20 picks, 20 at once filled the event
loop's queue, and a request that came in then (a keystroke in a picker) waited behind all their
callbacks (issue 17). Two keep a wait of one overlapped with the other's work. Taking the lease
and giving it back hold no slot: they wait for the writer, which a chart sync keeps busy, and
with the whole render in the slot picks during a same-chart sync came out slower (chart_acks)."""
_stamps = itertools.count(1)


def stamp() -> int:
    """A read stamp: one taken later is larger. Orders a row's read before shared reads."""
    return next(_stamps)


# The message is gone or can no longer be edited: stop trying instead of retrying forever.
_GIVE_UP = frozenset(
    {"message_not_found", "channel_not_found", "cant_update_message", "is_archived"}
)


async def mark_dirty(
    session: AsyncSession,
    where: ColumnElement[bool],
    *,
    urgent: ColumnElement[bool] | None = None,
    **values: Any,
) -> None:
    """Mark the matching messages for a render, in the caller's transaction.

    Rows matching `urgent` too are marked urgent: a person is waiting on them.
    """
    sqlite = db.is_sqlite_session(session)
    await session.exec(_marking(where, urgent, sqlite=sqlite, updated_at=db.now(session), **values))


async def mark_at_once(
    engine: AsyncEngine,
    where: ColumnElement[bool],
    *,
    now: datetime,
    urgent: ColumnElement[bool] | None = None,
    **values: Any,
) -> None:
    """PostgreSQL: mark the matching messages in one statement that commits by itself.

    For a pick, after its save has committed. Marked inside the save's transaction, every copy's
    row stays locked until that transaction's last round trip, so 20 people picking at once queue
    on the same 20 rows, each behind the others' commits (issue 17: burst picks at the 2 s save
    budget). One autocommitted statement, locking in id order, holds them only while PostgreSQL
    runs it. A process killed between the save and this mark has not acknowledged the pick yet.
    """
    statement = _marking(where, urgent, sqlite=False, updated_at=now, **values)
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(statement)


def _marking(
    where: ColumnElement[bool],
    urgent: ColumnElement[bool] | None,
    *,
    sqlite: bool,
    **values: Any,
) -> Update:
    """The one UPDATE that marks: dirty, `mark` counted up, urgent where `urgent` matches.

    On PostgreSQL the rows are locked in id order first, in the same statement (a subquery
    `FOR UPDATE` ordered by id): two transactions marking overlapping sets in whatever order a
    scan finds them would deadlock. SQLite has one writer at a time anyway.
    """
    if urgent is not None:
        where = where | urgent
        values["urgent"] = case((urgent, True), else_=col(PostedMessage.urgent))
    if not sqlite:
        where = claims.locked_in_id_order(where)
    return (
        update(PostedMessage)
        .where(where)
        .values(dirty=True, mark=col(PostedMessage.mark) + 1, **values)
        .execution_options(synchronize_session=False)
    )


async def mark_ids(
    session: AsyncSession, ids: Iterable[int], *, urgent: bool = False, **values: Any
) -> None:
    chosen = col(PostedMessage.id).in_(list(ids))
    if urgent:
        await mark_dirty(session, false(), urgent=chosen, **values)
    else:
        await mark_dirty(session, chosen, **values)


class Refresher:
    """Re-renders marked posted messages; `flush()` does one pass, `start()` runs it in the back."""

    def __init__(
        self,
        *,
        sessions: db.SessionFactory,
        client: AsyncWebClient,
        clock: Clock,
        run_in_background: bool = True,
        idle_seconds: float = 1.0,
        lease: timedelta = LEASE,
        reads: ReadSessions | None = None,
    ) -> None:
        self._sessions = sessions
        self._read_sessions = reads
        self._reads = reads.sessions if reads else sessions
        """Renderings only read: on SQLite they must not hold the write lock (bot.store.reads)."""
        self._client = client
        self._clock = clock
        self._renderers: dict[str, Renderer] = {}
        self._run_in_background = run_in_background
        self._idle_seconds = idle_seconds
        self._lease = lease
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._paused_until: datetime | None = None
        self._owners = (f"{uuid.uuid4().hex[:12]}-{n}" for n in itertools.count())
        self._rendering = asyncio.Semaphore(RENDERS_AT_ONCE)
        self._claims = SavedTogether(sessions, self._claim_all)

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
        if self._read_sessions is not None:
            await self._read_sessions.close()

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
        """Render every marked message that is due and free; returns how many were updated."""
        now = self._clock()
        if self._paused_until is not None and now < self._paused_until:
            return 0
        due_before = now - MIN_INTERVAL
        statement = (
            select(PostedMessage.id)
            .where(
                col(PostedMessage.dirty).is_(True),
                col(PostedMessage.urgent).is_(True)
                | col(PostedMessage.refreshed_at).is_(None)
                | (col(PostedMessage.refreshed_at) <= due_before),
                col(PostedMessage.lease_until).is_(None) | (col(PostedMessage.lease_until) < now),
            )
            .order_by(col(PostedMessage.updated_at))
            .limit(BATCH)
        )
        async with self._reads() as session:
            ids = [row for row in (await session.exec(statement)).all() if row is not None]
        await acks.after_acks()  # each copy's render is milliseconds of the loop: acks first
        if not ids or self._paused():
            return 0
        # Claimed in one statement and rendered at once, so copies showing the same page share
        # one read of it (bot.review.samepage); `RENDERS_AT_ONCE` still bounds how many build
        # and send at a time. One claim per copy, all in flight, took every pooled connection
        # from people's saves on PostgreSQL.
        owner = next(self._owners)
        claimed = await self._claim(ids, owner, background=True)
        read_at = stamp()
        done = await asyncio.gather(
            *(self._render_claimed(row, read_at, owner, True) for row in claimed),
            return_exceptions=True,
        )
        failed = [outcome for outcome in done if isinstance(outcome, BaseException)]
        if failed:
            raise failed[0]  # the others were still rendered; `_run` logs it and goes on
        return sum(bool(sent) for sent in done)

    async def refresh_now(self, message_id: int, *, background: bool = False) -> bool:
        """Render and update one message now, unless another renderer holds it.

        That renderer sees the caller's mark when it finishes and renders once more, so the
        caller's change is shown either way. True if this call sent an update. `background`
        renders queue for the database after the work people are waiting on (bot.store.writegate).
        """
        owner = next(self._owners)
        claimed = await self._claim([message_id], owner, background)
        if not claimed:
            return False
        return await self._render_claimed(claimed[0], stamp(), owner, background)

    async def _render_claimed(
        self, row: PostedMessage, read_at: int, owner: str, background: bool
    ) -> bool:
        """Render, send and release a claimed message; again while a person waits on a new mark."""
        assert row.id is not None
        sent = False
        while True:
            if self._paused():
                await self._release(row.id, owner, None, row, background)  # after the pause
                return sent
            mark, payload = row.mark, await self._render(row, read_at)
            await acks.between_steps()
            async with self._rendering:  # the message's JSON and the request are CPU too
                done = payload is None or (not self._paused() and await self._send(row, payload))
            sent = sent or (done and payload is not None)
            rendered_mark = mark if done else None
            if not await self._release(row.id, owner, rendered_mark, row, background):
                return sent
            again = await self._claim([row.id], owner, background)
            if not again:
                return sent
            row, read_at = again[0], stamp()

    async def _claim(
        self, message_ids: list[int], owner: str, background: bool
    ) -> list[PostedMessage]:
        """Take the lease of those messages that are free; their rows as claimed.

        A person's claims (not `background`) made at the same moment share one transaction.
        """
        if not background:
            found = await asyncio.gather(*(self._claims.write((n, owner)) for n in message_ids))
        else:
            async with db.session_scope(self._sessions, background=True) as session:
                wanted = [(message_id, owner) for message_id in message_ids]
                found = await claims.claim(session, wanted, now=self._clock(), lease=self._lease)
        return [row for row in found if row is not None]

    async def _claim_all(
        self, session: AsyncSession, wanted: list[claims.Wanted]
    ) -> list[PostedMessage | None | Exception]:
        return list(await claims.claim(session, wanted, now=self._clock(), lease=self._lease))

    async def _render(self, row: PostedMessage, read_at: int) -> dict[str, Any] | None:
        renderer = self._renderers.get(row.kind)
        if renderer is None:
            log.warning("no renderer for posted messages of kind %r", row.kind)
            return None
        await acks.between_steps()  # the render's reads and blocks are its slow part
        async with self._rendering, self._reads() as session:
            return await renderer(session, row, read_at)

    def _paused(self) -> bool:
        """Slack asked us to wait (HTTP 429): what is claimed is let go, rendered after."""
        return self._paused_until is not None and self._clock() < self._paused_until

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

    async def _release(
        self, message_id: int, owner: str, mark: int | None, row: PostedMessage, background: bool
    ) -> bool:
        """Give the lease back, clearing the mark if `mark` was rendered and sent.

        True when a person is waiting on a mark made during the render: the caller keeps the
        lease and renders again at once.
        """
        now = self._clock()
        mine = (col(PostedMessage.id) == message_id) & (col(PostedMessage.lease_owner) == owner)
        released = {"refreshed_at": now, "lease_owner": None, "lease_until": None}
        async with db.session_scope(self._sessions, background=background) as session:
            if mark is not None:
                cleared = await session.exec(
                    update(PostedMessage)
                    .where(mine, col(PostedMessage.mark) == mark)
                    .values(dirty=False, page=row.page, shown=row.shown, **released)
                    .execution_options(synchronize_session=False)
                )
                if cleared.rowcount == 1:
                    return False
            current = await session.get(PostedMessage, message_id, populate_existing=True)
            if current is None:
                return False
            if current.lease_owner != owner:
                # The lease ran out while Slack answered and another renderer took over: what
                # was just sent may be older than its rendering, so it must render once more.
                await mark_ids(session, [message_id], urgent=True)
                return False
            if mark is not None and current.urgent:
                await session.exec(
                    update(PostedMessage)
                    .where(mine)
                    .values(refreshed_at=now, lease_until=now + self._lease)
                    .execution_options(synchronize_session=False)
                )
                return True
            await session.exec(
                update(PostedMessage)
                .where(mine)
                .values(**released)
                .execution_options(synchronize_session=False)
            )
            return False
