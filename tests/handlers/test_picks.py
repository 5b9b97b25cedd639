"""Picking GL accounts: autosave with compare-and-set, re-rendering, and every copy refreshed."""

from __future__ import annotations

import json

from sqlmodel import col, select

from bot.store import db
from bot.store.models import AuditEvent, CostCode, GLAccount, PostedMessage
from tests.fakes.slack_api import Message
from tests.handlers.slack_driver import (
    ADMIN,
    CHANNEL,
    OTHER_CHANNEL,
    SlackDriver,
    elements,
    row_block_id,
    texts,
)


async def account_id(slack: SlackDriver, number: str) -> int:
    async with db.session_scope(slack.services.sessions) as session:
        found = await session.exec(select(GLAccount).where(GLAccount.number == number))
        account = found.one()
    assert account.id is not None
    return account.id


async def code_row(slack: SlackDriver, code: str) -> CostCode:
    async with db.session_scope(slack.services.sessions) as session:
        return (await session.exec(select(CostCode).where(CostCode.code == code))).one()


def initial(message: Message, code: str, action_id: str) -> str | None:
    block_id = row_block_id(message, code)
    for block, element in elements(message):
        if block == block_id and element["action_id"] == action_id:
            chosen = element.get("initial_option")
            return chosen["text"]["text"] if chosen else None
    raise AssertionError(f"no {action_id} for {code}")


async def test_a_pick_is_saved_audited_and_rerendered_in_place(slack: SlackDriver) -> None:
    await slack.command()
    message = slack.last_posted()
    income = await account_id(slack, "4010")
    block_id = row_block_id(message, "01-100")
    assert block_id.startswith("code:") and block_id.endswith(":1:1")

    assert await slack.click(message, "pick-income", block_id=block_id, option=str(income)) == 200

    code = await code_row(slack, "01-100")
    assert (code.income_account_id, code.version, code.updated_by) == (income, 2, ADMIN)
    async with db.session_scope(slack.services.sessions) as session:
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.cost_code_id == code.id))
        ).all()
    pick = events[-1]
    assert (pick.action, pick.surface, pick.actor) == ("pick income", "slack", ADMIN)
    assert json.loads(pick.after or "{}") == {"income_account_id": income}
    (update,) = slack.fake.of("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (CHANNEL, message.ts)
    assert initial(message, "01-100", "pick-income") == (
        "4010 · Construction Income:Contract Revenue"
    )
    # The row carries the new code version and every block a new render version.
    assert row_block_id(message, "01-100") == f"code:{code.id}:2:2"
    assert f"Last change by <@{ADMIN}>" in texts(message)
    assert not slack.ephemerals()


async def test_every_copy_showing_the_code_is_refreshed_too(slack: SlackDriver) -> None:
    await slack.command()
    first = slack.last_posted()
    await slack.command(channel=OTHER_CHANNEL)
    elsewhere = slack.last_posted(OTHER_CHANNEL)
    await slack.command()
    second_page = slack.last_posted()
    await slack.click(second_page, "page-next")
    assert "*01-100*" not in texts(second_page)
    slack.services.clock.advance(seconds=2)  # type: ignore[attr-defined]

    income = await account_id(slack, "4000")
    await slack.click(
        first, "pick-income", block_id=row_block_id(first, "01-100"), option=str(income)
    )
    assert elsewhere.updates == 0
    before = second_page.updates
    assert await slack.flush() == 1  # the copy elsewhere; page 2 does not show 01-100
    assert initial(elsewhere, "01-100", "pick-income") == "4000 · Construction Income"
    assert f"Last change by <@{ADMIN}>" in texts(elsewhere)
    assert second_page.updates == before and "Page 2 of 15" in texts(second_page)
    assert await slack.flush() == 0  # nothing left dirty
    async with db.session_scope(slack.services.sessions) as session:
        dirty = (await session.exec(select(PostedMessage).where(col(PostedMessage.dirty)))).all()
    assert dirty == []


async def test_none_clears_the_expense_account(slack: SlackDriver) -> None:
    await slack.command()
    message = slack.last_posted()
    expense = await account_id(slack, "5000")
    await slack.click(
        message, "pick-expense", block_id=row_block_id(message, "01-100"), option=str(expense)
    )
    assert (await code_row(slack, "01-100")).expense_account_id == expense
    assert initial(message, "01-100", "pick-expense") is not None

    await slack.click(
        message, "pick-expense", block_id=row_block_id(message, "01-100"), option="none"
    )
    code = await code_row(slack, "01-100")
    assert code.expense_account_id is None and code.version == 3
    assert initial(message, "01-100", "pick-expense") is None
    assert not slack.ephemerals()


async def test_double_click_saves_once_without_an_error(slack: SlackDriver) -> None:
    await slack.command()
    message = slack.last_posted()
    income = await account_id(slack, "4000")
    stale = Message(message.channel, message.ts, message.text, list(message.blocks))
    block_id = row_block_id(message, "01-200")
    await slack.click(message, "pick-income", block_id=block_id, option=str(income))
    await slack.click(stale, "pick-income", block_id=block_id, option=str(income))
    code = await code_row(slack, "01-200")
    assert (code.income_account_id, code.version) == (income, 2)
    assert not slack.ephemerals()
    async with db.session_scope(slack.services.sessions) as session:
        picks = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "pick income"))
        ).all()
    assert len(picks) == 1


async def test_a_stale_copy_gets_the_conflict_message_and_is_refreshed(
    slack: SlackDriver,
) -> None:
    await slack.command()
    mine = slack.last_posted()
    await slack.command(channel=OTHER_CHANNEL)
    theirs = slack.last_posted(OTHER_CHANNEL)
    first, second = await account_id(slack, "4000"), await account_id(slack, "4020")
    block_id = row_block_id(mine, "01-300")
    await slack.click(theirs, "pick-income", block_id=block_id, option=str(first))
    # Before the refresh reaches my copy, I pick another account on my stale copy.
    await slack.click(mine, "pick-income", block_id=block_id, option=str(second))

    code = await code_row(slack, "01-300")
    assert (code.income_account_id, code.version) == (first, 2)  # nothing overwritten
    (ephemeral,) = slack.ephemerals(ADMIN)
    assert ephemeral["channel"] == CHANNEL
    assert "01-300 was changed by someone else" in ephemeral["text"]
    assert "The list shows the latest" in ephemeral["text"]
    slack.services.clock.advance(seconds=1)  # type: ignore[attr-defined]
    assert await slack.flush() == 1
    assert initial(mine, "01-300", "pick-income") == "4000 · Construction Income"
    assert row_block_id(mine, "01-300").startswith(f"code:{code.id}:2:")


async def test_expense_right_after_income_on_the_same_row_is_no_conflict(
    slack: SlackDriver,
) -> None:
    await slack.command()
    message = slack.last_posted()
    before_refresh = Message(message.channel, message.ts, message.text, list(message.blocks))
    income, expense = await account_id(slack, "4000"), await account_id(slack, "5020")
    block_id = row_block_id(message, "01-400")
    await slack.click(message, "pick-income", block_id=block_id, option=str(income))
    # The second pick comes from the screen as it was before the first pick's re-render.
    await slack.click(before_refresh, "pick-expense", block_id=block_id, option=str(expense))
    code = await code_row(slack, "01-400")
    assert (code.income_account_id, code.expense_account_id, code.version) == (income, expense, 3)
    assert not slack.ephemerals()


async def test_an_account_gone_inactive_since_the_list_was_posted_is_refused(
    slack: SlackDriver,
) -> None:
    await slack.command()
    message = slack.last_posted()
    income = await account_id(slack, "4010")
    async with db.session_scope(slack.services.sessions) as session:
        account = await session.get(GLAccount, income)
        assert account is not None
        account.active = False  # a chart sync made it inactive meanwhile
    block_id = row_block_id(message, "01-100")
    assert await slack.click(message, "pick-income", block_id=block_id, option=str(income)) == 200

    code = await code_row(slack, "01-100")
    assert (code.income_account_id, code.version) == (None, 1)  # nothing saved
    (ephemeral,) = slack.ephemerals(ADMIN)
    assert "no longer in QuickBooks; please pick another" in ephemeral["text"]


async def test_a_pick_on_a_code_that_is_gone_says_so_and_saves_nothing(slack: SlackDriver) -> None:
    await slack.command()
    message = slack.last_posted()
    income = await account_id(slack, "4010")
    gone = "code:999999:1:1"  # a row of a copy whose code is no longer in the database
    row = row_block_id(message, "01-100")
    for block in [*message.blocks, *(b for a in message.attachments for b in a.get("blocks", []))]:
        if block.get("block_id") == row:
            block["block_id"] = gone
    assert await slack.click(message, "pick-income", block_id=gone, option=str(income)) == 200
    assert await slack.click(message, "pick-income", block_id=gone, option="888888") == 200

    first, second = slack.ephemerals(ADMIN)
    assert "That cost code no longer exists" in first["text"]
    # An account that does not exist either: the account's own check answers first.
    assert "That GL account is no longer in QuickBooks; please pick another" in second["text"]
    async with db.session_scope(slack.services.sessions) as session:
        picked = await session.exec(select(CostCode).where(col(CostCode.version) > 1))
        assert picked.all() == []
