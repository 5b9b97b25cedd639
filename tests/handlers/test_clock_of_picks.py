"""A pick in Slack is stamped by the app's clock: the code, its audit event and the marked copies.

The fake clock is years from now, so a time taken from the real clock would fail every check.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.store.models import AuditEvent, CostCode, GLAccount, PostedMessage
from tests.conftest import FakeClock
from tests.handlers.slack_driver import SlackDriver, row_block_id

FAR = datetime(2031, 7, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(FAR)


async def test_a_pick_is_stamped_by_the_app_clock(slack: SlackDriver, clock: FakeClock) -> None:
    await slack.command()
    message = slack.last_posted()
    clock.advance(minutes=5)
    async with slack.services.sessions() as session:
        income = (await session.exec(select(GLAccount.id).where(GLAccount.number == "4010"))).one()
    block_id = row_block_id(message, "01-100")
    assert await slack.click(message, "pick-income", block_id=block_id, option=str(income)) == 200
    async with slack.services.sessions() as session:
        code = (await session.exec(select(CostCode).where(CostCode.code == "01-100"))).one()
        picks = (
            await session.exec(select(AuditEvent.at).where(AuditEvent.action == "pick income"))
        ).all()
        copies = (
            await session.exec(select(PostedMessage).where(col(PostedMessage.kind) == "list"))
        ).all()
    assert (code.income_account_id, code.created_at, code.updated_at) == (income, FAR, clock())
    assert picks == [clock()]
    assert copies and {row.updated_at for row in copies} == {clock()}
