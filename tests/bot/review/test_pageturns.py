"""Page turns made at the same moment: one transaction, each copy as its last turn left it."""

from __future__ import annotations

import asyncio

from sqlmodel import col, select

from bot.core import Core
from bot.costcodes.domain import ListAt, ListFilter
from bot.review import listing
from bot.review.pageturns import PageTurns, Turn
from bot.store import db
from bot.store.models import PostedMessage
from tests.conftest import FakeClock
from tests.statements import statements_sent


def _at(ts: str, page: int = 0) -> ListAt:
    return ListAt(channel="C1", ts=ts, list_filter=ListFilter.READY, page=page)


async def _kept(services: Core, clock: FakeClock, *stamps: str) -> list[int]:
    async with db.session_scope(services.sessions) as session:
        rows = [await listing.find_or_adopt(session, _at(ts), clock()) for ts in stamps]
        rows[0].banner = '{"token": "t"}'  # a Reject All banner on the first copy
    return [row.id or 0 for row in rows]


async def test_turns_at_the_same_moment_share_one_read_and_each_copy_ends_on_its_last_turn(
    services: Core, clock: FakeClock
) -> None:
    first, second, third = await _kept(services, clock, "1.1", "1.2", "1.3")
    turns = PageTurns(services.sessions)
    with statements_sent(services.engine.sync_engine) as sent:
        copies = await asyncio.gather(
            turns.save(Turn(_at("1.1"), ListFilter.FAILED, 0, clock())),  # filter: banner goes
            turns.save(Turn(_at("1.2"), ListFilter.READY, 3, clock())),
            turns.save(Turn(_at("1.3"), ListFilter.READY, 1, clock())),
            turns.save(Turn(_at("1.3"), ListFilter.READY, 2, clock())),  # a second click: wins
        )
    statements = [sql.split()[0] for sql in sent]

    assert copies == [first, second, third, third]
    assert statements.count("SELECT") == 1  # PostgreSQL's lock for the mark is in its UPDATE
    async with services.sessions() as session:
        rows = (await session.exec(select(PostedMessage).order_by(col(PostedMessage.id)))).all()
    shown = [(r.list_filter, r.page, r.banner, r.dirty, r.urgent) for r in rows]
    assert shown == [
        ("failed", 0, None, True, True),
        ("ready", 3, None, True, True),
        ("ready", 2, None, True, True),
    ]


async def test_a_copy_not_kept_yet_is_adopted_with_the_turn(
    services: Core, clock: FakeClock
) -> None:
    (kept,) = await _kept(services, clock, "1.1")
    turns = PageTurns(services.sessions)
    copies = await asyncio.gather(
        turns.save(Turn(_at("1.1"), ListFilter.READY, 1, clock())),
        turns.save(Turn(_at("2.2"), ListFilter.READY, 4, clock())),
    )
    assert copies[0] == kept and copies[1] != kept
    async with services.sessions() as session:
        adopted = await session.get(PostedMessage, copies[1])
    assert adopted is not None
    assert (adopted.ts, adopted.page, adopted.kind, adopted.dirty) == ("2.2", 4, "list", True)
