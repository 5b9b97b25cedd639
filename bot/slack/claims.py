"""Taking posted messages' render leases, many in one statement.

Twenty people picking at once each render their own copy right after the ack: twenty claims,
each its own transaction, took every pooled connection on PostgreSQL and twenty turns of
SQLite's writer (issue 17). Claims made at the same moment go together (bot.store.together),
each message still to exactly one renderer: the lease is a compare-and-set on the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store import db
from bot.store.models import PostedMessage

Wanted = tuple[int, str]
"""A message's id and the renderer (lease owner) asking for it."""


def locked_in_id_order(where: ColumnElement[bool]) -> ColumnElement[bool]:
    """PostgreSQL: the rows matching `where`, locked in id order by the statement using it.

    Two transactions locking overlapping sets in whatever order a scan finds them deadlock."""
    locked = select(PostedMessage.id).where(where).order_by(col(PostedMessage.id))
    return col(PostedMessage.id).in_(locked.with_for_update().scalar_subquery())


async def claim(
    session: AsyncSession, wanted: Sequence[Wanted], *, now: datetime, lease: timedelta
) -> list[PostedMessage | None]:
    """Each wanted message's row as claimed, or None: gone, or another renderer holds it.

    The claim reads the row too: its mark, read before what it renders, so every change
    counted in it is visible to the rendering. A message wanted by two renderers at once is
    asked for in turn, one statement each: the one already holding its lease (rendering again
    for a person) must get it back, not lose it to the other and leave it held by nobody.
    """
    found: dict[Wanted, PostedMessage | None] = {}
    left = list(dict.fromkeys(wanted))
    while left:
        owners: dict[int, str] = {}
        for message_id, owner in left:
            owners.setdefault(message_id, owner)
        rows = await _claim_once(session, owners, now=now, lease=lease)
        for message_id, owner in owners.items():
            found[(message_id, owner)] = rows.get(message_id)
        left = [one for one in left if one not in found]
    return [found[one] for one in wanted]


async def _claim_once(
    session: AsyncSession, owners: dict[int, str], *, now: datetime, lease: timedelta
) -> dict[int, PostedMessage]:
    owner_of = case(owners, value=col(PostedMessage.id))
    free = (
        col(PostedMessage.lease_owner).is_(None)
        | (col(PostedMessage.lease_owner) == owner_of)
        | (col(PostedMessage.lease_until) < now)
    )
    chosen: ColumnElement[bool] = col(PostedMessage.id).in_(list(owners))
    if len(owners) > 1 and not db.is_sqlite_session(session):
        chosen = locked_in_id_order(chosen)
    claimed = await session.exec(
        update(PostedMessage)
        .where(chosen, free)
        .values(
            lease_owner=owner_of,
            lease_until=now + lease,
            urgent=False,
            render_version=col(PostedMessage.render_version) + 1,
        )
        .returning(PostedMessage)
        .execution_options(synchronize_session=False)
    )
    rows = {row.id: row for row in claimed.scalars().all() if row.id is not None}
    for row in rows.values():
        session.expunge(row)  # a renderer may set `page` and `shown`; the release stores them
    return rows
