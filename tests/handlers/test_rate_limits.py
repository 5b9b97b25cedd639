"""Slack answers HTTP 429: the app waits Retry-After, retries, and ends in the right state."""

from __future__ import annotations

import time

from sqlmodel import select

from bot.store import db
from bot.store.models import CostCode, PostedMessage
from tests.handlers.slack_driver import CHANNEL, OTHER_CHANNEL, SlackDriver, elements, row_block_id


async def test_a_rate_limited_update_is_retried_after_retry_after(slack: SlackDriver) -> None:
    await slack.command()
    message = slack.last_posted()
    slack.fake.rate_limit(next_calls=2, retry_after=1)
    started = time.monotonic()
    await slack.click(message, "pick-income", block_id=row_block_id(message, "01-100"), option="1")
    assert time.monotonic() - started >= 2.0  # waited Retry-After twice
    limited = slack.fake.of("chat.update", status=429)
    assert len(limited) == 2
    (update,) = slack.fake.of("chat.update")
    assert update.args["ts"] == message.ts
    async with db.session_scope(slack.services.sessions) as session:
        code = (await session.exec(select(CostCode).where(CostCode.code == "01-100"))).one()
    assert code.income_account_id == 1
    block_id = row_block_id(message, "01-100")
    chosen = [e for b, e in elements(message) if b == block_id and e["action_id"] == "pick-income"]
    assert chosen[0]["initial_option"]["value"] == "1"


async def test_the_refresher_pauses_when_retries_run_out_and_catches_up(
    slack: SlackDriver,
) -> None:
    await slack.command()
    mine = slack.last_posted()
    await slack.command(channel=OTHER_CHANNEL)
    other = slack.last_posted(OTHER_CHANNEL)
    await slack.click(mine, "pick-income", block_id=row_block_id(mine, "01-100"), option="1")
    slack.services.clock.advance(seconds=2)  # type: ignore[attr-defined]
    slack.fake.rate_limit(next_calls=4, retry_after=1)  # more than the client retries
    assert await slack.flush() == 0
    assert other.updates == 0
    async with db.session_scope(slack.services.sessions) as session:
        row = (
            await session.exec(select(PostedMessage).where(PostedMessage.channel == OTHER_CHANNEL))
        ).one()
    assert row.dirty  # still owed an update, kept in the database
    assert await slack.flush() == 0  # paused for Retry-After: no call at all
    assert len(slack.fake.of("chat.update", status=429)) == 4
    slack.services.clock.advance(seconds=2)  # type: ignore[attr-defined]
    assert await slack.flush() == 1
    assert other.updates == 1 and mine.channel == CHANNEL
