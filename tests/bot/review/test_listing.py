"""Posted copies: a click that arrives before the posting server stored its copy loses nothing."""

from __future__ import annotations

from sqlmodel import select

from bot.core import Services
from bot.costcodes.domain import ListAt, ListFilter
from bot.review import listing
from bot.store import db
from bot.store.models import PostedMessage
from tests.conftest import FakeClock


async def test_a_copy_adopted_by_a_click_and_stored_by_the_post_is_one_row(
    services: Services, clock: FakeClock
) -> None:
    at = ListAt(channel="C1", ts="1.000001", list_filter=ListFilter.READY, page=0)
    async with db.session_scope(services.sessions) as session:
        adopted = await listing.find_or_adopt(session, at, clock())  # the click, first
    async with db.session_scope(services.sessions) as session:
        posted = PostedMessage(channel="C1", ts="1.000001", kind=listing.KIND, page=0)
        kept = await listing.keep_copy(session, posted)  # then the poster stores its row
        assert kept.id == adopted.id
    async with db.session_scope(services.sessions) as session:
        again = await listing.find_or_adopt(session, at, clock())
        rows = (await session.exec(select(PostedMessage))).all()
    assert again.id == adopted.id and len(rows) == 1
