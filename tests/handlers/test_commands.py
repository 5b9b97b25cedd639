"""/costcodes: posting the list, help, status and the subcommands that come later."""

from __future__ import annotations

from sqlmodel import select

from bot.store import db
from bot.store.models import PostedMessage
from tests.handlers.slack_driver import CHANNEL, SlackDriver, texts


async def test_bare_command_posts_the_ready_list_in_the_channel(slack: SlackDriver) -> None:
    assert await slack.command("") == 200
    (post,) = slack.fake.of("chat.postMessage")
    assert post.args["channel"] == CHANNEL and post.token == "xoxb-test"
    message = slack.last_posted()
    words = texts(message)
    assert message.text.startswith("Standard Cost Codes — Ready to Export (143)")
    for label in (
        "GL Account – Income",
        "GL Account – Expense (Optional)",
        "Export Cost Codes",
        "Reject All",
    ):
        assert label in words
    assert "*01-100* Project supervision" in words
    assert "Page 1 of 15" in words
    async with db.session_scope(slack.services.sessions) as session:
        (row,) = (await session.exec(select(PostedMessage))).all()
    assert (row.channel, row.ts, row.kind) == (CHANNEL, message.ts, "list")
    assert (row.list_filter, row.page, row.render_version) == ("ready", 0, 1)
