"""Page turns made at the same moment are saved together, in one transaction.

A page turn (Next, Previous, a filter) is saved before its ack, like a pick: the copy's row
remembers what it should show, and is marked for an urgent render. When 20 people turned their
copies at once, their 20 transactions went one at a time through SQLite's one writer, each a few
round trips on a busy event loop, and the last ack waited for all of them (burst page turns p99
~250 ms, 8x bare; issue 17). Here the turns waiting at the same moment are one read of their
copies (locked in id order on PostgreSQL), their changes in one flush and one mark
(bot.store.together). Turns of one copy are applied in arrival order: the last one wins, as it
would one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.costcodes.domain import ListAt, ListFilter
from bot.review import listing
from bot.slack import refresher
from bot.store import db
from bot.store.models import PostedMessage
from bot.store.together import SavedTogether

_COPIES = (
    select(PostedMessage)
    .where(listing.clicked_copies())
    .order_by(col(PostedMessage.id))
    .with_for_update()
)


@dataclass(frozen=True)
class Turn:
    """The clicked copy, what it should show now, and when it was clicked."""

    at: ListAt
    list_filter: ListFilter
    page: int
    now: datetime


class PageTurns(SavedTogether[Turn, int]):
    """`save()` a turn; turns waiting for the writer at the same moment share one transaction."""

    def __init__(self, sessions: db.SessionFactory) -> None:
        super().__init__(sessions, turn_all)

    async def save(self, turn: Turn) -> int:
        """The copy's row id once the turn is committed (a copy not kept yet is adopted)."""
        return await self.write(turn)


async def turn_all(session: AsyncSession, turns: list[Turn]) -> list[int | Exception]:
    """Store what each clicked copy should show and mark them for an urgent render."""
    params = listing.clicked_params(turn.at for turn in turns)
    copies = {(row.channel, row.ts): row for row in (await session.exec(_COPIES, params=params))}
    turned: list[PostedMessage] = []
    for turn in turns:
        row = copies.get((turn.at.channel, turn.at.ts))
        if row is None:  # posted before rows were kept, or by another server a moment ago
            row = copies[(turn.at.channel, turn.at.ts)] = await listing.find_or_adopt(
                session, turn.at, turn.now
            )
        if row.list_filter != turn.list_filter.value:
            row.banner = None
        row.list_filter, row.page = turn.list_filter.value, turn.page
        session.add(row)
        turned.append(row)
    await session.flush()
    ids = [row.id for row in turned if row.id is not None]
    await refresher.mark_ids(session, sorted(set(ids)), urgent=True)
    return list(ids)
