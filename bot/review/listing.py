"""The cost code list as Slack shows it: its pages, its posted copies, and their renderer."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from blocks.costcodes import list_message
from bot.accounts.chart import to_view
from bot.costcodes import bulk, rules
from bot.costcodes.domain import (
    CodeView,
    ExportNotice,
    ExportTally,
    LastChange,
    ListAt,
    ListFilter,
    ListPage,
    RejectBanner,
    State,
)
from bot.export.start import active_batch
from bot.review import suggestions
from bot.review.samepage import SamePage
from bot.slack import refresher
from bot.store.models import CostCode, ExportBatch, GLAccount, PostedMessage, RejectBatch

KIND = "list"
PAGE_SIZE = 10
UNDO_FOR = timedelta(minutes=15)
REFRESH_WINDOW = timedelta(days=14)
"""Copies posted longer ago than this are left as they are (each refresh is a chat.update)."""


async def load_page(
    session: AsyncSession,
    *,
    list_filter: ListFilter,
    page: int,
    render_version: int,
    last_change: LastChange | None = None,
    banner: RejectBanner | None = None,
    copy: tuple[str, str] | None = None,
) -> ListPage:
    """One page (zero-based, clamped to the last page) of the codes in `list_filter`.

    `copy` (channel, ts) is the posted copy being rendered: a Ready to Export copy on which
    exports were started keeps those exports' codes, each with its Export Status (DESIGN §6).
    """
    in_filter: ColumnElement[bool] = col(CostCode.state).in_([s.value for s in list_filter.states])
    exported_here = _exported_from(copy) if list_filter is ListFilter.READY else None
    if exported_here is not None:
        in_filter = in_filter | col(CostCode.export_batch_id).in_(exported_here)
    total = (await session.exec(select(func.count()).where(in_filter))).one()
    rejectable = 0
    if State.READY in list_filter.states:
        ready = col(CostCode.state) == State.READY.value
        rejectable = (await session.exec(select(func.count()).where(ready))).one()
    page_count = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), page_count - 1)
    statement = (
        select(CostCode)
        .where(in_filter)
        .order_by(col(CostCode.code))
        .offset(page * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    codes = (await session.exec(statement)).all()
    export = None
    if list_filter is ListFilter.READY:
        running = await active_batch(session)
        if running is not None and running.id is not None:
            export = ExportNotice(running.created_by, running.created_at, running.id)
    tally = await _tally(session, exported_here) if exported_here is not None else None
    divisions = await bulk.divisions(session) if rejectable and export is None else []
    suggested = await suggestions.for_page(session, codes)
    return ListPage(
        list_filter=list_filter,
        codes=tuple(await code_views(session, codes, suggested)),
        page=page,
        page_count=page_count,
        total=total,
        rejectable=rejectable,
        render_version=render_version,
        last_change=last_change,
        banner=banner,
        export=export,
        tally=tally,
        divisions=tuple(divisions),
    )


def _exported_from(copy: tuple[str, str] | None) -> SelectOfScalar[int | None] | None:
    if copy is None:
        return None
    channel, ts = copy
    return select(col(ExportBatch.id)).where(
        ExportBatch.channel == channel, ExportBatch.list_ts == ts
    )


async def _tally(session: AsyncSession, batches: SelectOfScalar[int | None]) -> ExportTally | None:
    statement = (
        select(CostCode.state, func.count())
        .where(col(CostCode.export_batch_id).in_(batches))
        .group_by(col(CostCode.state))
    )
    counts = {State(state): n for state, n in (await session.exec(statement)).all()}
    if not counts:
        return None
    return ExportTally(
        exported=counts.get(State.SUCCESS, 0),
        waiting=counts.get(State.QUEUED, 0) + counts.get(State.EXPORTING, 0),
        failed=counts.get(State.FAILED, 0),
    )


async def code_views(
    session: AsyncSession,
    codes: Sequence[CostCode],
    suggested: Mapping[int, suggestions.PageSuggestions] | None = None,
) -> list[CodeView]:
    wanted = {
        account_id
        for code in codes
        for account_id in (code.income_account_id, code.expense_account_id)
        if account_id is not None
    }
    accounts: dict[int | None, GLAccount] = {}
    if wanted:
        found = await session.exec(select(GLAccount).where(col(GLAccount.id).in_(wanted)))
        accounts = {account.id: account for account in found.all()}
    views = []
    for code in codes:
        assert code.id is not None
        income = accounts.get(code.income_account_id)
        expense = accounts.get(code.expense_account_id)
        hint = (suggested or {}).get(code.id) or suggestions.PageSuggestions()
        views.append(
            CodeView(
                id=code.id,
                code=code.code,
                description=code.description,
                division=code.division,
                state=State(code.state),
                version=code.version,
                income=to_view(income) if income else None,
                expense=to_view(expense) if expense else None,
                last_error=code.last_error,
                rule_error=rules.violation_text(code.code, code.description),
                updated_at=code.updated_at,
                reject_reason=code.reject_reason if code.state == State.REJECTED else None,
                suggested_income=hint.income,
                suggested_expense=hint.expense,
            )
        )
    return views


def banner_json(banner: RejectBanner, token: str) -> str:
    return json.dumps(
        {"count": banner.count, "user_id": banner.user_id, "token": token, "skip": banner.skipped}
    )


async def read_banner(session: AsyncSession, raw: str | None, now: datetime) -> RejectBanner | None:
    """The stored banner, with its Undo button only while that Reject All can still be undone."""
    if not raw:
        return None
    data: dict[str, Any] = json.loads(raw)
    token = str(data["token"])
    batch = (await session.exec(select(RejectBatch).where(RejectBatch.token == token))).first()
    undoable = batch is not None and batch.undone_at is None and now < batch.created_at + UNDO_FOR
    return RejectBanner(
        count=int(data["count"]),
        user_id=str(data["user_id"]),
        undo_token=token if undoable else None,
        skipped=int(data.get("skip", 0)),
    )


def list_renderer(clock: refresher.Clock) -> refresher.Renderer:
    """Renders a posted list copy as it is now; registered with the refresher for kind "list"."""
    pages = SamePage()

    async def render(session: AsyncSession, row: PostedMessage, read_at: int) -> dict[str, Any]:
        list_filter = ListFilter(row.list_filter or ListFilter.READY.value)
        copy = (row.channel, row.ts)
        # A copy exports were started from shows them; every other copy of this page is the same.
        own = list_filter is ListFilter.READY and await _has_exports(session, copy)
        key = (list_filter, row.page, copy if own else None)

        async def load() -> ListPage:
            return await load_page(
                session, list_filter=list_filter, page=row.page, render_version=0, copy=copy
            )

        page = replace(
            await pages.read(key, read_at, load),
            render_version=row.render_version,
            last_change=_last_change(row),
            banner=await read_banner(session, row.banner, clock()),
        )
        # Stored by the refresher with the rendering they belong to:
        row.page, row.shown = page.page, shown_text(page)
        return list_message(page)

    return render


def _last_change(row: PostedMessage) -> LastChange | None:
    if row.last_change_by and row.last_change_at:
        return LastChange(row.last_change_by, row.last_change_at)
    return None


async def _has_exports(session: AsyncSession, copy: tuple[str, str]) -> bool:
    exported = _exported_from(copy)
    assert exported is not None
    return (await session.exec(select(exported.exists()))).one()


async def find_or_adopt(session: AsyncSession, at: ListAt, now: datetime) -> PostedMessage:
    """The row of the copy that was clicked; one posted before rows were kept is adopted."""
    row = await _copy_at(session, at.channel, at.ts)
    if row is None:
        row = await keep_copy(
            session,
            PostedMessage(
                channel=at.channel,
                ts=at.ts,
                kind=KIND,
                list_filter=at.list_filter.value,
                page=at.page,
                created_at=now,
            ),
        )
    return row


async def copy_id(session: AsyncSession, at: ListAt) -> int | None:
    """The stored row id of the copy that was clicked, None if it has none yet (read only)."""
    return (await session.exec(_copy_id_of(at))).first()


def copy_id_query(at: ListAt) -> ScalarSelect[int | None]:
    """`copy_id` as a subquery, to read along with something else."""
    return _copy_id_of(at).scalar_subquery()


def clicked_copies() -> ColumnElement[bool]:
    """The rows of several clicked copies at once, for `clicked_params`: a superset when clicks
    span several channels (each caller keeps the (channel, ts) pairs it asked for)."""
    return col(PostedMessage.channel).in_(bindparam("channels", expanding=True)) & col(
        PostedMessage.ts
    ).in_(bindparam("ts", expanding=True))


def clicked_params(places: Iterable[ListAt]) -> dict[str, list[str]]:
    chosen = list(places)
    return {
        "channels": sorted({at.channel for at in chosen}),
        "ts": sorted({at.ts for at in chosen}),
    }


def _copy_id_of(at: ListAt) -> SelectOfScalar[Any]:
    return select(PostedMessage.id).where(
        PostedMessage.channel == at.channel, PostedMessage.ts == at.ts
    )


async def _copy_at(session: AsyncSession, channel: str, ts: str) -> PostedMessage | None:
    statement = select(PostedMessage).where(
        PostedMessage.channel == channel, PostedMessage.ts == ts
    )
    return (await session.exec(statement)).first()


async def keep_copy(session: AsyncSession, row: PostedMessage) -> PostedMessage:
    """Store a posted copy; if another request stored it first, that row.

    A click can reach another server before the one that posted the list has stored its row.
    """
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = await _copy_at(session, row.channel, row.ts)
        if found is None:
            raise
        return found
    return row


async def mark_copies(
    session: AsyncSession,
    filters: Iterable[ListFilter],
    *,
    now: datetime,
    changed_by: str,
    also: Iterable[int] = (),
) -> None:
    """Mark every recent list copy showing one of `filters` dirty, and the clicked rows in `also`.

    The clicked copies are marked urgent: the person who clicked is waiting to see the change.
    """
    showing = col(PostedMessage.list_filter).in_([f.value for f in filters])
    recent = col(PostedMessage.created_at) >= now - REFRESH_WINDOW
    where = (col(PostedMessage.kind) == KIND) & showing & recent
    clicked = list(also)
    urgent = col(PostedMessage.id).in_(clicked) if clicked else None
    await refresher.mark_dirty(
        session, where, urgent=urgent, last_change_by=changed_by, last_change_at=now
    )


def shown_text(page: ListPage) -> str:
    """What `PostedMessage.shown` holds for this page: ",4,5,6," (searchable with LIKE)."""
    return "," + "".join(f"{code.id}," for code in page.codes)


async def mark_copies_showing(
    session: AsyncSession,
    code_ids: Iterable[int],
    *,
    now: datetime,
    changed_by: str,
    also: Iterable[int],
) -> None:
    """Mark the recent copies whose page shows one of these codes (a pick changes nothing else
    there), in one statement for picks saved together."""
    where, urgent = _showing(code_ids, now, also)
    await refresher.mark_dirty(
        session, where, urgent=urgent, last_change_by=changed_by, last_change_at=now
    )


async def mark_copies_showing_at_once(
    engine: AsyncEngine, code_id: int, *, now: datetime, changed_by: str, also: Iterable[int]
) -> None:
    """The same marks in their own statement, after the pick committed (PostgreSQL)."""
    where, urgent = _showing([code_id], now, also)
    await refresher.mark_at_once(
        engine, where, now=now, urgent=urgent, last_change_by=changed_by, last_change_at=now
    )


def _showing(
    code_ids: Iterable[int], now: datetime, also: Iterable[int]
) -> tuple[ColumnElement[bool], ColumnElement[bool] | None]:
    recent = col(PostedMessage.created_at) >= now - REFRESH_WINDOW
    shown = col(PostedMessage.shown)
    showing = or_(*(shown.contains(f",{code_id},") for code_id in code_ids), shown.is_(None))
    clicked = list(also)
    urgent = col(PostedMessage.id).in_(clicked) if clicked else None
    return (col(PostedMessage.kind) == KIND) & recent & showing, urgent


def filters_showing(*states: State) -> list[ListFilter]:
    return [f for f in ListFilter if any(state in f.states for state in states)]
