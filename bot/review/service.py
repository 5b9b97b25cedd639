"""The review service Slack's listeners call: post the list, page it, autosave picks, reject, undo.

Each method checks ERP permission where the design asks for it, changes cost codes only through
`bot.costcodes.statemachine` (compare-and-set, audited), marks the affected posted copies for the
refresher in the same transaction, and re-renders the copy that was clicked at once.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from blocks.accounts import (
    rebind_confirm_message,
    rebind_requested_message,
    sync_requested_message,
    sync_waiting_message,
)
from blocks.costcodes import list_message
from blocks.export import already_exporting_message, held_message
from bot.accounts import chart as accounts
from bot.accounts import rebind as rebinding
from bot.accounts.chart import Purpose
from bot.accounts.index import AccountIndex
from bot.connection import views
from bot.core import Core
from bot.costcodes import statemachine
from bot.costcodes.domain import (
    AccountView,
    Caller,
    ListAt,
    ListFilter,
    State,
    StatusSummary,
    Surface,
)
from bot.errors import (
    NOT_IN_CHANNEL,
    CannotPost,
    ConflictError,
    CostCodeError,
    NotFound,
    RuleViolation,
)
from bot.export import start as export
from bot.export.replies import ExportReporter
from bot.review import listing, pageturns, reject
from bot.review.bulk import BulkReview
from bot.review.picks import AccountPick, unchanged_or_conflicting
from bot.review.picksave import PickSaver, Untracked
from bot.slack import refresher as refresh
from bot.slack.permissions import Permissions
from bot.slack.refresher import Refresher
from bot.store import db
from bot.store.models import CostCode, PostedMessage, QbwcJob
from bot.store.reads import ReadSessions
from qbd.companyfile import CompanyFile

log = logging.getLogger(__name__)


class Review:
    """The Slack-facing service: one method per thing a person can do with the list."""

    def __init__(
        self,
        services: Core,
        *,
        client: AsyncWebClient,
        refresher: Refresher,
        permissions: Permissions,
        reporter: ExportReporter,
        reads: ReadSessions,
        accounts: AccountIndex,
        bulk: BulkReview,
        saver: PickSaver | None = None,
        turns: pageturns.PageTurns | None = None,
    ) -> None:
        self.services = services
        self.client = client
        self.refresher = refresher
        self.permissions = permissions
        self.reporter = reporter
        self.reads = reads
        """Lock-free reads on SQLite (the pickers, the Home tab): shared with the refresher."""
        self.accounts = accounts
        self.bulk = bulk
        self.saver = saver
        """Picks made at the same moment are saved together (bot.review.picksave)."""
        self.turns = turns
        """So are page turns (bot.review.pageturns)."""

    async def post_list(self, caller: Caller, list_filter: ListFilter) -> None:
        """Post page one of `list_filter` in the caller's channel and remember the copy."""
        if caller.channel_id is None:
            raise CannotPost("Use /costcodes in a channel to post the list there.")
        async with self._session() as session:
            page = await listing.load_page(
                session, list_filter=list_filter, page=0, render_version=1
            )
        try:
            posted = await self.client.chat_postMessage(
                channel=caller.channel_id, **list_message(page)
            )
        except SlackApiError as exc:
            raise CannotPost(NOT_IN_CHANNEL) from exc
        async with self._session() as session:
            await listing.keep_copy(
                session,
                PostedMessage(
                    channel=str(posted["channel"]),
                    ts=str(posted["ts"]),
                    kind=listing.KIND,
                    list_filter=list_filter.value,
                    page=0,
                    render_version=1,
                    shown=listing.shown_text(page),
                    refreshed_at=self.services.clock(),
                    created_at=self.services.clock(),
                ),
            )

    async def show(self, caller: Caller, at: ListAt, list_filter: ListFilter, page: int) -> int:
        """Turn the clicked copy to another page or filter; anyone may look.

        Saves what the copy should show and marks it; returns the copy to `render`. The render
        happens after the ack, and a render already in flight renders this click after it.
        """
        turn = pageturns.Turn(at, list_filter, page, self.services.clock())
        if self.turns is not None:  # with whoever turns a page at this moment
            return await self.turns.save(turn)
        async with self._session() as session:
            (copy,) = await pageturns.turn_all(session, [turn])
        if isinstance(copy, Exception):
            raise copy
        return copy

    async def render(self, message_id: int | None) -> None:
        """Show the person the copy they clicked, as the database now holds it."""
        if message_id is not None:
            await self._refreshed(message_id)

    async def pick(self, caller: Caller, pick: AccountPick) -> int | None:
        """Save a pick (compare-and-set on the version the person saw) and mark every copy.

        Committed before Slack is told the pick was accepted (DESIGN §6), so whatever anyone does
        next sees it. Returns the clicked copy to `render`, or None when nothing changed.
        """
        async with self._refresh_on_failure(pick.at):
            await self.permissions.require(caller.user_id)
            _require_income(pick)
            now = self.services.clock()
            if self.saver is not None:  # with whoever picks at this moment, reads included
                saved = await self.saver.save(caller.user_id, pick, now)
                if not isinstance(saved, Untracked):
                    return saved
            async with self.reads.sessions() as session:
                changes, seen, copy = await _pick_reads(session, pick)
            async with self._session() as session:
                if copy is None:
                    copy = _id(await listing.find_or_adopt(session, pick.at, now))
                code = await _save_pick(session, caller, pick, changes, seen)
                if code is None:
                    return None
                if db.is_sqlite_session(session):  # one writer: one transaction is one turn
                    await listing.mark_copies_showing(
                        session, [pick.code_id], now=now, changed_by=caller.user_id, also=[copy]
                    )
                    return copy
            await listing.mark_copies_showing_at_once(
                self.services.engine, pick.code_id, now=now, changed_by=caller.user_id, also=[copy]
            )
            return copy

    async def reject_all(self, caller: Caller, at: ListAt) -> None:
        """Reject every Ready code in the list (all pages); the copy shows the yellow banner."""
        async with self._refresh_on_failure(at):
            await self.permissions.require(caller.user_id)
            async with self._session() as session:
                row = await listing.find_or_adopt(session, at, self.services.clock())
                await reject.reject_all(
                    session, row, actor=caller.user_id, now=self.services.clock()
                )
            await self._refreshed(_id(row))

    async def undo(self, caller: Caller, at: ListAt, token: str) -> None:
        """Put the codes of one Reject All back in Ready to Export, within 15 minutes."""
        async with self._refresh_on_failure(at):
            await self.permissions.require(caller.user_id)
            async with self._session() as session:
                row = await listing.find_or_adopt(session, at, self.services.clock())
                await reject.undo(
                    session, row, token=token, actor=caller.user_id, now=self.services.clock()
                )
            await self._refreshed(_id(row))

    async def export(self, caller: Caller, at: ListAt) -> None:
        """Export Cost Codes: every exportable Ready code, on every page, as one batch."""
        await self.permissions.require(caller.user_id)
        await self._start_export(caller, at.channel, at.ts, State.READY, at)

    async def retry_failed(self, caller: Caller, channel: str, thread_ts: str) -> None:
        """Retry: the Failed codes that may go now, as a new batch in the same thread."""
        await self.permissions.require(caller.user_id)
        await self._start_export(caller, channel, thread_ts, State.FAILED, None)

    async def _start_export(
        self, caller: Caller, channel: str, thread_ts: str, source: State, at: ListAt | None
    ) -> None:
        now = self.services.clock()
        async with self._session() as session:
            row = await listing.find_or_adopt(session, at, now) if at else None
            start = await export.start_export(
                session,
                actor=caller.user_id,
                surface=Surface.SLACK,
                channel=channel,
                list_ts=thread_ts,
                source=source,
                now=now,
            )
            if start.batch is not None:
                extra = [_id(row)] if row else []
                await listing.mark_copies(
                    session, list(ListFilter), now=now, changed_by=caller.user_id, also=extra
                )
        held = start.held
        if start.already_running is not None:
            running = start.already_running
            await self._ephemeral(
                caller, channel, already_exporting_message(running.created_by, running.created_at)
            )
        elif start.batch is None or start.batch.id is None:
            await self._ephemeral(caller, channel, held_message(held, exported=0))
        else:
            await self.reporter.post_status(start.batch.id, channel, thread_ts)
            if held:
                await self._ephemeral(
                    caller, channel, held_message(held, exported=len(start.queued))
                )
            if row is not None:
                await self._refreshed(_id(row))
            self.refresher.kick()

    async def accounts_sync(self, caller: Caller, rebind: CompanyFile | None = None) -> None:
        """Queue a GL account refresh; the reply in the channel gets a thread reply when done.

        From another company file than the chart's, it asks first; `rebind` is the confirmed file.
        """
        await self.permissions.require(caller.user_id)
        if caller.channel_id is None:
            raise CannotPost("Use /costcodes accounts sync in a channel.")
        async with self._session() as session:
            request = await rebinding.request_sync(
                session, requested_by=caller.user_id, confirmed=rebind
            )
            job, ask = request.job, request.confirm
            waiting_for = job.requested_by if job else ""
        if ask is not None:
            message = rebind_confirm_message(ask.bound, ask.opened)
            await self._ephemeral(caller, caller.channel_id, message)
            return
        assert job is not None
        if not request.created:
            await self._ephemeral(caller, caller.channel_id, sync_waiting_message(waiting_for))
            return
        requested = (
            rebind_requested_message(caller.user_id, rebind)
            if rebind
            else sync_requested_message(caller.user_id)
        )
        posted = await self.client.chat_postMessage(channel=caller.channel_id, **requested)
        async with self._session() as session:
            stored = await session.get(QbwcJob, job.id)
            if stored is not None:
                stored.channel, stored.thread_ts = caller.channel_id, str(posted["ts"])

    async def _ephemeral(self, caller: Caller, channel: str, message: dict[str, Any]) -> None:
        await self.client.chat_postEphemeral(
            channel=channel, user=caller.user_id, text=message["text"], blocks=message["blocks"]
        )

    async def search(self, purpose: Purpose, query: str) -> list[AccountView]:
        """GL accounts for a picker: at most 100, the picker's own account types first.

        Served from an in-memory index (same order and matching as accounts.search_accounts):
        a substring scan of 100,000 rows per keystroke is too slow on SQLite.
        """
        return await self.accounts.search(query=query, purpose=purpose)

    async def warm(self) -> None:
        """Load the account index at start-up, so the first person typing does not wait."""
        try:
            await self.accounts.refresh()
        except Exception:  # a cold index only costs the first search some time
            log.exception("could not load the GL account index")

    async def status(self) -> StatusSummary:
        async with self.services.sessions() as session:
            return await views.status_summary(
                session, now=self.services.clock(), settings=self.services.settings
            )

    def _session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return db.session_scope(self.services.sessions)

    async def _refreshed(self, message_id: int) -> None:
        await self.refresher.refresh_now(message_id)
        self.refresher.kick()

    @asynccontextmanager
    async def _refresh_on_failure(self, at: ListAt) -> AsyncIterator[None]:
        """After a refused or stale click, re-render that copy so no unsaved pick stays shown."""
        try:
            yield
        except CostCodeError:
            try:
                async with self._session() as session:
                    row = await listing.find_or_adopt(session, at, self.services.clock())
                    await refresh.mark_ids(session, [_id(row)])
                self.refresher.kick()
            except Exception:  # the person's error message matters more than this refresh
                log.exception("could not mark %s/%s for a refresh", at.channel, at.ts)
            raise


def _id(row: PostedMessage) -> int:
    assert row.id is not None
    return row.id


_PICK_ATTEMPTS = 3
"""A pick that loses a race for the row's version on a field it does not change tries again."""


async def _save_pick(
    session: AsyncSession,
    caller: Caller,
    pick: AccountPick,
    changes: dict[str, int | None],
    seen: CostCode | None,
) -> CostCode | None:
    """Write the pick; None when the code already holds it (a double click, another copy).

    `seen` is the code as read just before, outside this transaction. It is only written with
    a compare-and-set on its version; any other verdict is made on the code read again here.
    """
    field = f"{pick.purpose.value}_account_id"
    for attempt in range(_PICK_ATTEMPTS):
        code = seen if attempt == 0 else None
        if code is None or unchanged_or_conflicting(code, pick, changes, field):
            code = await session.get(CostCode, pick.code_id, populate_existing=True)
        if code is None:
            raise NotFound("That cost code no longer exists.")
        if all(getattr(code, key) == value for key, value in changes.items()):
            return None
        if unchanged_or_conflicting(code, pick, changes, field):
            raise _conflict(code)
        try:
            return await statemachine.edit(
                session,
                code=code,
                changes=changes,
                actor=caller.user_id,
                surface=Surface.SLACK,
                action=f"pick {pick.purpose.value}",
            )
        except ConflictError:
            # Another process wrote the row between our read and our write (PostgreSQL reads
            # committed rows): read it again and judge the pick against what is there now.
            if attempt == _PICK_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _conflict(code: CostCode) -> ConflictError:
    return ConflictError.changed(code.code)


def _require_income(pick: AccountPick) -> None:
    if pick.account_id is None and pick.purpose is Purpose.INCOME:
        raise RuleViolation("GL Account – Income is required; please pick an account.")


async def _pick_reads(
    session: AsyncSession, pick: AccountPick
) -> tuple[dict[str, int | None], CostCode | None, int | None]:
    """What a pick saved on its own needs before it queues for the writer, in one statement: its
    change (the account may be picked), the code as it is now, and the clicked copy's row id."""
    field = f"{pick.purpose.value}_account_id"
    _require_income(pick)
    active = accounts.is_active(pick.account_id) if pick.account_id is not None else None
    columns: list[Any] = [listing.copy_id_query(pick.at).label("copy")]
    if active is not None:
        columns.append(active.label("active"))
    statement = select(CostCode, *columns).where(col(CostCode.id) == pick.code_id)
    row: Any = (await session.exec(statement)).first()  # (code, copy id[, active])
    if row is None:  # the code is gone: the save says so, after the account's own check
        if pick.account_id is not None:
            await accounts.get_account(session, pick.account_id)
        return {field: pick.account_id}, None, await listing.copy_id(session, pick.at)
    if active is not None:
        accounts.require_active(row[2])
    return {field: pick.account_id}, row[0], row[1]
