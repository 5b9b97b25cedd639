"""Posted copies: a click that arrives before the posting server stored its copy loses nothing."""

from __future__ import annotations

import dataclasses
import json

from sqlmodel import select

from bot.core import Core
from bot.costcodes.domain import CodeView, ListAt, ListFilter, ListPage, RejectBanner, State
from bot.review import listing
from bot.store import db
from bot.store.models import PostedMessage
from tests.conftest import FakeClock


async def test_a_copy_adopted_by_a_click_and_stored_by_the_post_is_one_row(
    services: Core, clock: FakeClock
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


def _code(code_id: int) -> CodeView:
    return CodeView(code_id, f"01-{code_id:03d}", "Concrete", "01", State.READY, 1)


def test_the_shown_text_lists_each_id_between_commas() -> None:
    page = ListPage(ListFilter.READY, (_code(4), _code(15)), 0, 1, 2, 2, 1)
    assert listing.shown_text(page) == ",4,15,"
    assert ",1," not in listing.shown_text(page)  # 15 is not 1: a LIKE on ",1," misses it
    assert listing.shown_text(dataclasses.replace(page, codes=())) == ","


def test_each_state_is_shown_by_the_filters_that_hold_it() -> None:
    assert listing.filters_showing(State.QUEUED) == [ListFilter.READY]
    assert listing.filters_showing(State.SUCCESS, State.FAILED) == [
        ListFilter.FAILED,
        ListFilter.SYNCED,
    ]
    assert listing.filters_showing() == []


def test_the_banner_is_stored_with_its_undo_token() -> None:
    banner = RejectBanner(count=3, user_id="U1", undo_token="ignored", skipped=1)
    stored = json.loads(listing.banner_json(banner, "tok-1"))
    assert stored == {"count": 3, "user_id": "U1", "token": "tok-1", "skip": 1}
