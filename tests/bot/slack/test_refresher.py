"""The refresher: one renderer per message, a mark during a render renders again, leases expire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update
from sqlmodel import col

from bot.core import Core
from bot.slack import refresher as refresh
from bot.slack.bolt import make_client
from bot.slack.refresher import Refresher
from bot.store import db
from bot.store.models import PostedMessage
from bot.store.reads import ReadSessions
from tests.conftest import FakeClock, make_settings
from tests.fakes.slack_api import FakeSlack
from tests.statements import statements_sent

CHANNEL = "C0000009"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


class Counter:
    """A renderer that shows how often it ran; `hold` keeps the next rendering in flight."""

    def __init__(self) -> None:
        self.renders = 0
        self.hold: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def __call__(self, session: Any, row: PostedMessage, read_at: int) -> dict[str, Any]:
        self.renders += 1
        shown = f"render {self.renders} at mark {row.mark}"
        self.entered.set()
        if self.hold is not None:
            hold, self.hold = self.hold, None
            await hold.wait()
        return {"text": shown, "blocks": []}


async def _posted(services: Core, fake: FakeSlack) -> int:
    client = make_client(make_settings(services.settings.database_url, slack_api_url=fake.api_url))
    answer = await client.chat_postMessage(channel=CHANNEL, text="first")
    async with db.session_scope(services.sessions) as session:
        row = PostedMessage(channel=CHANNEL, ts=str(answer["ts"]), kind="count")
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


def _refresher(services: Core, fake: FakeSlack, counter: Counter) -> Refresher:
    client = make_client(make_settings(services.settings.database_url, slack_api_url=fake.api_url))
    refresher = Refresher(
        sessions=services.sessions,
        client=client,
        clock=services.clock,
        run_in_background=False,
        reads=ReadSessions(services.settings.database_url, services.sessions),
    )
    refresher.register("count", counter)
    return refresher


async def _mark(services: Core, message_id: int, *, urgent: bool) -> None:
    async with db.session_scope(services.sessions) as session:
        await refresh.mark_ids(session, [message_id], urgent=urgent)


async def _row(services: Core, message_id: int) -> PostedMessage:
    async with services.sessions() as session:
        row = await session.get(PostedMessage, message_id)
    assert row is not None
    return row


async def test_a_click_during_a_render_is_rendered_right_after_it(
    services: Core, fake_slack: FakeSlack
) -> None:
    counter = Counter()
    message_id = await _posted(services, fake_slack)
    first, second = (
        _refresher(services, fake_slack, counter),
        _refresher(services, fake_slack, counter),
    )
    await _mark(services, message_id, urgent=True)
    hold = counter.hold = asyncio.Event()
    rendering = asyncio.create_task(first.refresh_now(message_id))
    await counter.entered.wait()

    # Another click (in another process, say) while the first render is in flight:
    await _mark(services, message_id, urgent=True)
    assert await second.refresh_now(message_id) is False  # not two renderers at once
    hold.set()
    assert await rendering is True

    updates = [call.args["text"] for call in fake_slack.of("chat.update")]
    assert updates == ["render 1 at mark 1", "render 2 at mark 2"]
    row = await _row(services, message_id)
    assert (row.dirty, row.lease_owner, row.urgent) == (False, None, False)


async def test_a_background_mark_during_a_render_waits_for_the_next_pass(
    services: Core, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    counter = Counter()
    message_id = await _posted(services, fake_slack)
    refresher = _refresher(services, fake_slack, counter)
    await _mark(services, message_id, urgent=True)
    hold = counter.hold = asyncio.Event()
    rendering = asyncio.create_task(refresher.refresh_now(message_id))
    await counter.entered.wait()
    await _mark(services, message_id, urgent=False)  # someone else's pick on another copy
    hold.set()
    assert await rendering is True
    assert len(fake_slack.of("chat.update")) == 1
    row = await _row(services, message_id)
    assert row.dirty and row.lease_owner is None  # still owed, and free for the next pass
    assert await refresher.flush() == 0  # at most one update a second per message
    clock.advance(seconds=2)
    assert await refresher.flush() == 1
    assert [c.args["text"] for c in fake_slack.of("chat.update")][-1] == "render 2 at mark 2"


async def test_a_lease_left_by_a_dead_process_is_taken_over_once_it_expires(
    services: Core, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    counter = Counter()
    message_id = await _posted(services, fake_slack)
    await _mark(services, message_id, urgent=True)
    async with db.session_scope(services.sessions) as session:
        await session.exec(
            update(PostedMessage)
            .where(col(PostedMessage.id) == message_id)
            .values(lease_owner="dead-process", lease_until=clock() + timedelta(seconds=15))
        )
    refresher = _refresher(services, fake_slack, counter)
    assert await refresher.flush() == 0
    assert await refresher.refresh_now(message_id) is False
    clock.advance(seconds=16)
    assert await refresher.flush() == 1
    assert counter.renders == 1
    assert not (await _row(services, message_id)).dirty


async def test_a_process_renders_two_messages_at_a_time_and_every_one_in_turn(
    services: Core, fake_slack: FakeSlack
) -> None:
    running: list[int] = []
    most: list[int] = []
    release = asyncio.Event()

    async def slow(session: Any, row: PostedMessage, read_at: int) -> dict[str, Any]:
        running.append(row.id or 0)
        most.append(len(running))
        await release.wait()  # a render's reads and blocks take the loop a while
        running.remove(row.id or 0)
        return {"text": f"copy {row.id}", "blocks": []}

    ids = [await _posted(services, fake_slack) for _ in range(5)]
    refresher = _refresher(services, fake_slack, Counter())
    refresher.register("count", slow)
    for message_id in ids:
        await _mark(services, message_id, urgent=True)
    renders = [asyncio.create_task(refresher.refresh_now(m)) for m in ids]
    for _ in range(50):
        await asyncio.sleep(0.01)
    assert len(running) == refresh.RENDERS_AT_ONCE == 2  # the others wait for a slot
    release.set()
    assert await asyncio.gather(*renders) == [True] * 5
    assert max(most) == 2
    assert sorted(c.args["channel"] for c in fake_slack.of("chat.update")) == [CHANNEL] * 5


def _claims(sent: list[str]) -> list[str]:
    """The claims (UPDATE posted_message … RETURNING) among the statements sent."""
    return [s for s in sent if s.startswith("UPDATE posted_message") and "RETURNING" in s]


async def _marked(services: Core, fake_slack: FakeSlack, count: int) -> list[int]:
    ids = [await _posted(services, fake_slack) for _ in range(count)]
    for message_id in ids:
        await _mark(services, message_id, urgent=True)
    return ids


async def test_a_pass_claims_its_messages_in_one_statement_and_renders_each(
    services: Core, fake_slack: FakeSlack
) -> None:
    counter = Counter()
    ids = await _marked(services, fake_slack, 5)
    refresher = _refresher(services, fake_slack, counter)
    with statements_sent() as sent:
        assert await refresher.flush() == 5
    assert len(_claims(sent)) == 1
    assert counter.renders == 5
    assert not any([(await _row(services, message_id)).dirty for message_id in ids])


async def test_a_rate_limit_mid_pass_leaves_the_rest_free_for_after_the_pause(
    services: Core, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    ids = [await _posted(services, fake_slack) for _ in range(5)]
    refresher = _refresher(services, fake_slack, Counter())
    refresher._client = AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)  # no retry
    for message_id in ids:
        await _mark(services, message_id, urgent=False)
    fake_slack.rate_limit(next_calls=2, retry_after=1)

    assert await refresher.flush() == 0  # both first sends were refused: the pass pauses
    rows = [await _row(services, message_id) for message_id in ids]
    assert all(row.dirty and row.lease_owner is None for row in rows)
    clock.advance(seconds=2)
    assert await refresher.flush() == 5
    assert not any([(await _row(services, message_id)).dirty for message_id in ids])


async def test_renders_people_ask_for_at_the_same_moment_are_claimed_together(
    services: Core, fake_slack: FakeSlack
) -> None:
    ids = await _marked(services, fake_slack, 5)
    refresher = _refresher(services, fake_slack, Counter())
    with statements_sent() as statements:
        sent = await asyncio.gather(*(refresher.refresh_now(m) for m in ids))
    assert sent == [True] * 5
    assert len(_claims(statements)) < 5, _claims(statements)
    assert not any([(await _row(services, message_id)).dirty for message_id in ids])
