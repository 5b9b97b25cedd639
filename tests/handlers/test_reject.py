"""Reject All: every Ready code on every page, the yellow banner, and Undo within 15 minutes."""

from __future__ import annotations

import json

from sqlalchemy import update
from sqlmodel import col, select

from bot.costcodes.domain import State
from bot.store import db
from bot.store.models import AuditEvent, CostCode, RejectBatch
from tests.handlers.slack_driver import ADMIN, CHANNEL, OTHER_CHANNEL, SlackDriver, elements, texts


async def states(slack: SlackDriver) -> dict[str, int]:
    async with db.session_scope(slack.services.sessions) as session:
        codes = (await session.exec(select(CostCode))).all()
    counts: dict[str, int] = {}
    for code in codes:
        counts[code.state] = counts.get(code.state, 0) + 1
    return counts


def action_ids(message: object) -> set[str]:
    return {element["action_id"] for _, element in elements(message)}  # type: ignore[arg-type]


async def test_reject_all_empties_every_page_and_shows_the_banner(slack: SlackDriver) -> None:
    async with db.session_scope(slack.services.sessions) as session:
        await session.exec(
            update(CostCode)
            .where(col(CostCode.code).in_(["01-100", "01-200"]))
            .values(state=State.QUEUED.value)
        )
    await slack.command()
    message = slack.last_posted()
    (reject,) = [e for _, e in elements(message) if e["action_id"] == "reject-all"]
    assert reject["confirm"]["text"]["text"] == "Remove 141 cost codes from Ready to Export?"

    assert await slack.click(message, "reject-all") == 200

    assert await states(slack) == {"queued": 2, "rejected": 141}
    words = (
        f"141 cost codes were removed from Ready to Export by <@{ADMIN}>. "
        "2 codes already on their way to QuickBooks were left alone."
    )
    assert message.text.startswith(words)
    (attachment,) = message.attachments
    assert attachment["color"] == "warning"
    assert words in texts(message)
    assert "Undo" in texts(message) and "undo-reject" in action_ids(message)
    assert "Reject All" not in texts(message)  # nothing Ready is left to reject
    assert "*01-100*" in texts(message)  # the queued ones stay on the list
    async with db.session_scope(slack.services.sessions) as session:
        (batch,) = (await session.exec(select(RejectBatch))).all()
        rejected = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "reject"))
        ).all()
    assert len(json.loads(batch.code_ids)) == 141 and batch.actor == ADMIN
    assert len(rejected) == 141 and {e.surface for e in rejected} == {"slack"}


async def test_reject_all_twice_in_a_row_changes_once_without_an_error(
    slack: SlackDriver,
) -> None:
    await slack.command()
    message = slack.last_posted()
    stale = type(message)(message.channel, message.ts, message.text, list(message.blocks))
    await slack.click(message, "reject-all")
    await slack.click(stale, "reject-all")
    assert await states(slack) == {"rejected": 143}
    async with db.session_scope(slack.services.sessions) as session:
        assert len((await session.exec(select(RejectBatch))).all()) == 1
    assert not slack.ephemerals()
    assert message.text.startswith("143 cost codes were removed")


async def test_undo_restores_the_codes_and_other_copies_follow(slack: SlackDriver) -> None:
    await slack.command()
    message = slack.last_posted()
    await slack.command("review rejected", channel=OTHER_CHANNEL)
    rejected_list = slack.last_posted(OTHER_CHANNEL)
    await slack.click(message, "reject-all")
    slack.services.clock.advance(minutes=14)  # type: ignore[attr-defined]
    await slack.flush()
    assert "Rejected (143)" in rejected_list.text

    stale = type(message)(message.channel, message.ts, message.text, [], list(message.attachments))
    await slack.click(message, "undo-reject")
    assert await states(slack) == {"ready": 143}
    assert message.attachments == [] and "removed" not in message.text
    assert "Ready to Export (143)" in message.text
    slack.services.clock.advance(seconds=2)  # type: ignore[attr-defined]
    await slack.flush()
    assert "Rejected (0)" in rejected_list.text
    await slack.click(stale, "undo-reject")  # a second Undo changes nothing and says nothing
    assert await states(slack) == {"ready": 143}
    assert not slack.ephemerals()


async def test_undo_after_15_minutes_is_too_late_and_the_button_goes(slack: SlackDriver) -> None:
    await slack.command()
    message = slack.last_posted()
    await slack.click(message, "reject-all")
    slack.services.clock.advance(minutes=15)  # type: ignore[attr-defined]
    await slack.click(message, "undo-reject")

    assert await states(slack) == {"rejected": 143}
    (refusal,) = slack.ephemerals(ADMIN)
    assert refusal["channel"] == CHANNEL
    assert "too late to undo this Reject All" in refusal["text"]
    await slack.flush()
    assert "undo-reject" not in action_ids(message)
    assert message.text.startswith("143 cost codes were removed")  # the banner stays
