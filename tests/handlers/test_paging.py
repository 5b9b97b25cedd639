"""Anyone may page through the list and switch its filter; each rendering is a new version."""

from __future__ import annotations

from sqlmodel import select

from bot.store import db
from bot.store.models import PostedMessage
from tests.handlers.slack_driver import OTHER, SlackDriver, texts


async def row(slack: SlackDriver) -> PostedMessage:
    async with db.session_scope(slack.services.sessions) as session:
        (found,) = (await session.exec(select(PostedMessage))).all()
    return found


async def test_next_and_previous(slack: SlackDriver) -> None:
    await slack.command(user=OTHER)
    message = slack.last_posted()
    assert "Next" in texts(message) and "Previous" not in texts(message)
    await slack.click(message, "page-next", user=OTHER)
    words = texts(message)
    assert "Page 2 of 15" in words and "*01-100*" not in words
    assert message.blocks[0]["block_id"] == "list:ready:1:2"
    await slack.click(message, "page-next", user=OTHER)
    await slack.click(message, "page-prev", user=OTHER)
    assert "Page 2 of 15" in texts(message)
    assert message.blocks[0]["block_id"] == "list:ready:1:4"
    posted = await row(slack)
    assert (posted.page, posted.render_version, posted.dirty) == (1, 4, False)
    assert not slack.ephemerals()


async def test_filter_select(slack: SlackDriver) -> None:
    await slack.command()
    message = slack.last_posted()
    await slack.click(message, "list-filter", option="rejected:0", user=OTHER)
    assert message.text == "Standard Cost Codes — Rejected (0)"
    assert "No cost codes have been rejected." in texts(message)
    assert "Reject All" not in texts(message)
    assert (await row(slack)).list_filter == "rejected"
    await slack.click(message, "list-filter", option="ready:0")
    assert message.text == "Standard Cost Codes — Ready to Export (143)"


async def test_review_with_a_filter_and_unknown_words(slack: SlackDriver) -> None:
    await slack.command("review failed")
    assert slack.last_posted().text == "Standard Cost Codes — Failed to Export (0)"
    await slack.command("review everything")
    assert len(slack.posted()) == 1  # help instead of a list
    (reply,) = slack.fake.responses
    assert "How to use /costcodes" in reply["text"]
