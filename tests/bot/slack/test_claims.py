"""Render leases taken together: each message to one renderer, its holder first."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Core
from bot.slack import claims
from bot.store import db
from bot.store.models import PostedMessage
from tests.conftest import FakeClock

LEASE = timedelta(seconds=15)


async def _messages(services: Core, count: int) -> list[int]:
    async with db.session_scope(services.sessions) as session:
        rows = [PostedMessage(channel="C1", ts=f"1.{n:06d}", kind="list") for n in range(count)]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows if row.id is not None]


async def _claim(services: Core, clock: FakeClock, wanted: list[claims.Wanted]) -> list[str | None]:
    async with db.session_scope(services.sessions) as session:
        found = await claims.claim(session, wanted, now=clock(), lease=LEASE)
    return [row.lease_owner if row is not None else None for row in found]


async def test_free_messages_are_claimed_in_one_go_and_held_ones_are_not(
    services: Core, clock: FakeClock
) -> None:
    first, second, third = await _messages(services, 3)
    assert await _claim(services, clock, [(first, "a")]) == ["a"]
    owners = await _claim(services, clock, [(first, "b"), (second, "b"), (third, "c")])
    assert owners == [None, "b", "c"]  # "a" holds the first
    clock.advance(seconds=16)
    assert await _claim(services, clock, [(first, "d")]) == ["d"]  # "a"'s lease ran out


async def test_a_message_wanted_twice_at_once_goes_back_to_the_renderer_holding_it(
    services: Core, clock: FakeClock
) -> None:
    (message,) = await _messages(services, 1)
    assert await _claim(services, clock, [(message, "holder")]) == ["holder"]
    # The holder renders again for a person while a newcomer asks for the same message:
    assert await _claim(services, clock, [(message, "new"), (message, "holder")]) == [
        None,
        "holder",
    ]
    async with services.sessions() as session:
        row = await session.get(PostedMessage, message)
    assert row is not None and row.lease_owner == "holder"


async def test_a_free_message_wanted_twice_at_once_goes_to_one_renderer(
    services: Core, clock: FakeClock
) -> None:
    (message,) = await _messages(services, 1)
    owners = await _claim(services, clock, [(message, "x"), (message, "y"), (message, "x")])
    assert owners == ["x", None, "x"]
