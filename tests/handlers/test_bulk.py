"""Apply to division…, Accept suggestions and a per-code Reject through the real app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from blocks.ids import ActionId, CallbackId
from bot.slack import refresher
from bot.store.models import AuditEvent, CostCode, GLAccount, PostedMessage
from tests.blocks.slack_limits import assert_view_within_limits, assert_within_limits
from tests.handlers.slack_driver import ADMIN, OTHER, SlackDriver, texts


async def rows(slack: SlackDriver) -> tuple[int, int, int]:
    """(codes with an Income pick, rejected codes, audit events)."""
    async with slack.services.sessions() as session:
        picked = (
            await session.exec(
                select(func.count()).where(col(CostCode.income_account_id).is_not(None))
            )
        ).one()
        rejected = (
            await session.exec(select(func.count()).where(CostCode.state == "rejected"))
        ).one()
        events = (await session.exec(select(func.count()).select_from(AuditEvent))).one()
    return int(picked), int(rejected), int(events)


async def account_id(slack: SlackDriver, number: str) -> int:
    async with slack.services.sessions() as session:
        found = (await session.exec(select(GLAccount).where(GLAccount.number == number))).one()
    assert found.id is not None
    return found.id


def income(value: int, overwrite: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {
        CallbackId.APPLY_INCOME: {
            ActionId.PICK_INCOME: {
                "type": "external_select",
                "selected_option": {"value": str(value)},
            }
        }
    }
    if overwrite:
        values[CallbackId.APPLY_OVERWRITE] = {
            CallbackId.APPLY_OVERWRITE: {"selected_options": [{"value": "overwrite"}]}
        }
    return values


async def posted_list(slack: SlackDriver) -> Any:
    assert await slack.command("") == 200
    message = slack.last_posted()
    assert_within_limits({"text": message.text, "blocks": message.blocks})
    return message


async def test_apply_to_a_division_changes_its_ready_codes_and_refreshes_the_copy(
    slack: SlackDriver,
) -> None:
    message = await posted_list(slack)
    assert "Apply to division…" in str(message.blocks)
    await slack.click(message, ActionId.APPLY_DIVISION, option="Concrete")
    modal = slack.fake.modals[-1]
    assert_view_within_limits(modal)
    assert "13 codes without a GL Account – Income will change" in texts(modal)
    before = await rows(slack)
    answer = await slack.submit(modal, income(await account_id(slack, "4010")))
    assert answer is None
    after = await rows(slack)
    assert after[0] == before[0] + 13 and after[2] == before[2] + 13  # one audit event a code
    (reply,) = slack.ephemerals(ADMIN)
    assert "applied to 13 cost codes in Concrete" in reply["text"]
    async with slack.services.sessions() as session:
        actions = (
            await session.exec(select(AuditEvent.action).where(AuditEvent.action == "apply"))
        ).all()
    assert len(actions) == 13
    # Suggestions now point other Concrete-like codes somewhere; a new modal keeps picks.
    await slack.click(slack.last_posted(), ActionId.APPLY_DIVISION, option="Concrete")
    modal = slack.fake.modals[-1]
    assert "13 codes already have a different pick" in texts(modal)
    before = await rows(slack)
    await slack.submit(modal, income(await account_id(slack, "4000")))
    assert (await rows(slack))[2] == before[2]  # kept: nothing written
    await slack.click(slack.last_posted(), ActionId.APPLY_DIVISION, option="Concrete")
    await slack.submit(slack.fake.modals[-1], income(await account_id(slack, "4000"), True))
    assert (await rows(slack))[2] == before[2] + 13


async def test_a_non_admin_cannot_open_the_apply_modal(slack: SlackDriver) -> None:
    message = await posted_list(slack)
    before = await rows(slack)
    await slack.click(message, ActionId.APPLY_DIVISION, option="Concrete", user=OTHER)
    assert not slack.fake.modals
    assert "Only" in slack.ephemerals(OTHER)[-1]["text"]
    assert await rows(slack) == before


async def test_a_division_without_ready_codes_and_an_empty_selection_are_answered(
    slack: SlackDriver,
) -> None:
    message = await posted_list(slack)
    before = await rows(slack)
    await slack.click(message, ActionId.APPLY_DIVISION, option="Nowhere")
    assert "No cost code in Nowhere is Ready to Export" in slack.ephemerals(ADMIN)[-1]["text"]
    await slack.click(message, ActionId.APPLY_TICKED)
    assert "Tick at least one cost code" in slack.ephemerals(ADMIN)[-1]["text"]
    assert not slack.fake.modals and await rows(slack) == before


async def test_a_stale_modal_changes_nothing(slack: SlackDriver) -> None:
    message = await posted_list(slack)
    await slack.click(message, ActionId.APPLY_DIVISION, option="Site Overhead")
    modal = slack.fake.modals[-1]
    async with slack.services.sessions() as session:
        code = (await session.exec(select(CostCode).where(CostCode.code == "01-100"))).one()
        code.description = "Project supervision (changed)"
        code.version += 1
        session.add(code)
        await session.commit()
    before = await rows(slack)
    answer = await slack.submit(modal, income(await account_id(slack, "4010")))
    assert answer is not None and answer["response_action"] == "errors"
    assert "changed after the window opened" in answer["errors"][CallbackId.APPLY_INCOME]
    assert await rows(slack) == before


async def test_reject_one_code_with_a_reason_then_undo(slack: SlackDriver) -> None:
    message = await posted_list(slack)
    await slack.click(message, ActionId.REJECT_CODE)
    modal = slack.fake.modals[-1]
    assert_view_within_limits(modal)
    before = await rows(slack)
    blank = {CallbackId.REJECT_REASON: {CallbackId.REJECT_REASON: {"value": "   "}}}
    answer = await slack.submit(modal, blank)
    assert answer is not None and "Say why" in answer["errors"][CallbackId.REJECT_REASON]
    long = {CallbackId.REJECT_REASON: {CallbackId.REJECT_REASON: {"value": "x" * 301}}}
    answer = await slack.submit(modal, long)
    assert answer is not None and "300 characters" in answer["errors"][CallbackId.REJECT_REASON]
    assert await rows(slack) == before
    reason = {
        CallbackId.REJECT_REASON: {CallbackId.REJECT_REASON: {"value": "Duplicate of 01-200"}}
    }
    assert await slack.submit(modal, reason) is None
    assert (await rows(slack))[1] == 1
    async with slack.services.sessions() as session:
        code = (await session.exec(select(CostCode).where(CostCode.code == "01-100"))).one()
        event = (await session.exec(select(AuditEvent).where(AuditEvent.action == "reject"))).one()
    assert code.state == "rejected" and code.reject_reason == "Duplicate of 01-200"
    assert event.detail == "Duplicate of 01-200"
    thread = [c.args for c in slack.fake.of("chat.postMessage") if c.args.get("thread_ts")]
    assert "Duplicate of 01-200" in thread[-1]["text"]
    copy = slack.fake.messages[(message.channel, message.ts)]
    assert "1 cost code was removed" in texts(copy)
    # The Rejected filter shows the reason; Undo brings the code back.
    await slack.command("review rejected")
    assert "Rejected: Duplicate of 01-200" in texts(slack.last_posted())
    await slack.click(copy, ActionId.UNDO_REJECT)
    assert (await rows(slack))[1] == 0


async def test_accept_suggestions_saves_what_the_page_showed(slack: SlackDriver) -> None:
    message = await posted_list(slack)
    await slack.click(message, ActionId.APPLY_DIVISION, option="Site Overhead")
    modal = slack.fake.modals[-1]
    # Twelve of thirteen: the thirteenth gets a suggestion from its division.
    async with slack.services.sessions() as session:
        code = (await session.exec(select(CostCode).where(CostCode.code == "01-100"))).one()
        code_id = code.id
    modal_meta = modal["private_metadata"]
    assert modal_meta
    await slack.submit(modal, income(await account_id(slack, "4030")))
    async with slack.services.sessions() as session:
        code = await session.get(CostCode, code_id)
        assert code is not None
        code.income_account_id = None
        code.version += 1
        session.add(code)
        await session.flush()
        await refresher.mark_dirty(session, col(PostedMessage.ts) == message.ts)
        await session.commit()
    copy = await posted_list(slack)
    words = "Suggested: 4030 · Construction Income:Time and Materials Revenue"
    assert f"{words} — 12 of 12 codes in Site Overhead" in texts(copy)
    before = await rows(slack)
    await slack.click(copy, ActionId.ACCEPT_SUGGESTIONS)
    after = await rows(slack)
    assert after[0] == before[0] + 1
    assert "Saved the suggested accounts" in slack.ephemerals(ADMIN)[-1]["text"]


async def test_every_example_code_gets_an_income_account_in_a_handful_of_interactions(
    slack: SlackDriver,
) -> None:
    """The issue's measure: 143 codes took ~290 menu interactions; the goal is at most 20."""
    message = await posted_list(slack)
    sent_before = len(slack.statuses)
    # 1 open the division menu + 2 choose "Every division" (one request), then in the modal:
    # 3 open the Income menu, 4 choose an account (a search request), 5 press Apply.
    await slack.click(message, ActionId.APPLY_DIVISION, option="*")
    modal = slack.fake.modals[-1]
    assert "143 codes without a GL Account – Income will change" in texts(modal)
    await slack.options(ActionId.PICK_INCOME.value, "4010")
    await slack.submit(modal, income(await account_id(slack, "4010")))
    requests = len(slack.statuses) - sent_before
    assert requests == 3  # the menu choice, the search, the submission: 5 interactions
    assert (await rows(slack))[0] == 143
