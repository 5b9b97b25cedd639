"""Reject All and its Undo: every Ready code leaves the list at once and may return for 15 min."""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.costcodes import statemachine
from bot.costcodes.domain import RejectBanner, State, Surface
from bot.errors import InvalidTransition, NotFound
from bot.review import listing
from bot.store.models import CostCode, PostedMessage, RejectBatch

_ON_THEIR_WAY = (State.QUEUED.value, State.EXPORTING.value)


async def reject_all(
    session: AsyncSession, row: PostedMessage, *, actor: str, now: datetime
) -> int:
    """Reject every Ready code (every page); returns how many moved (0 for a repeated click)."""
    ready = select(CostCode.id).where(col(CostCode.state) == State.READY.value)
    ids = [code_id for code_id in (await session.exec(ready)).all() if code_id is not None]
    moved = await statemachine.transition_many(
        session,
        ids=ids,
        source=State.READY,
        target=State.REJECTED,
        actor=actor,
        surface=Surface.SLACK,
        changes={"reject_reason": None},
        detail="Reject All",
    )
    if not moved:
        return 0
    skipped_query = select(func.count()).where(col(CostCode.state).in_(_ON_THEIR_WAY))
    skipped = (await session.exec(skipped_query)).one()
    token = secrets.token_urlsafe(16)
    code_ids = json.dumps([code_id for code_id, _ in moved])
    session.add(RejectBatch(token=token, actor=actor, code_ids=code_ids, created_at=now))
    banner = RejectBanner(count=len(moved), user_id=actor, undo_token=token, skipped=skipped)
    row.banner = listing.banner_json(banner, token)
    session.add(row)
    await session.flush()
    await _mark(session, row, actor=actor, now=now)
    return len(moved)


async def undo(
    session: AsyncSession, row: PostedMessage, *, token: str, actor: str, now: datetime
) -> int:
    """Put back the codes of one Reject All that are still rejected; 0 if it was undone before."""
    found = await session.exec(select(RejectBatch).where(RejectBatch.token == token))
    batch = found.first()
    if batch is None:
        raise NotFound("That Reject All is no longer on record, so there is nothing to undo.")
    if batch.undone_at is not None:
        return 0  # a repeated click: the first one did it
    if now >= batch.created_at + listing.UNDO_FOR:
        raise InvalidTransition(
            "It is too late to undo this Reject All: Undo works for 15 minutes. Import the "
            "codes again to send them back to Ready to Export."
        )
    claimed = await session.exec(
        update(RejectBatch)
        .where(col(RejectBatch.id) == batch.id, col(RejectBatch.undone_at).is_(None))
        .values(undone_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return 0
    moved = await statemachine.transition_many(
        session,
        ids=json.loads(batch.code_ids),
        source=State.REJECTED,
        target=State.READY,
        actor=actor,
        surface=Surface.SLACK,
        changes={"reject_reason": None},
        detail="Undo Reject All",
    )
    if row.banner and json.loads(row.banner).get("token") == token:
        row.banner = None
    session.add(row)
    await session.flush()
    await _mark(session, row, actor=actor, now=now)
    return len(moved)


async def _mark(session: AsyncSession, row: PostedMessage, *, actor: str, now: datetime) -> None:
    assert row.id is not None
    filters = listing.filters_showing(State.READY, State.REJECTED)
    await listing.mark_copies(session, filters, now=now, changed_by=actor, also=[row.id])
