"""/costcodes help, status, later subcommands, and the not-yet-available buttons."""

from __future__ import annotations

from bot.store import db
from bot.store.models import QbwcTicket
from tests.handlers.slack_driver import ADMIN, OTHER, SlackDriver, texts


async def test_help_is_ephemeral_and_the_default_for_unknown_input(slack: SlackDriver) -> None:
    await slack.command("help")
    await slack.command("frobnicate now")
    assert len(slack.fake.responses) == 2
    for reply in slack.fake.responses:
        assert reply["response_type"] == "ephemeral"
        assert "/costcodes review ready|failed|synced|rejected" in texts(reply)
    assert slack.posted() == []


async def test_status_counts_and_web_connector_contact(slack: SlackDriver) -> None:
    await slack.command("status", user=OTHER)
    (reply,) = slack.fake.responses
    assert reply["response_type"] == "ephemeral"
    assert "Ready to Export: 143" in reply["text"] and "Rejected: 0" in reply["text"]
    assert "Web Connector last contact: never" in reply["text"]

    async with db.session_scope(slack.services.sessions) as session:
        session.add(QbwcTicket(ticket="t-1", last_seen_at=slack.services.clock()))
    await slack.command("status")
    assert "Web Connector last contact: <!date^" in slack.fake.responses[-1]["text"]


async def test_export_button_refuses_a_non_admin(slack: SlackDriver) -> None:
    await slack.command()
    message = slack.last_posted()
    await slack.click(message, "export-codes", user=OTHER)
    (refusal,) = slack.ephemerals(OTHER)
    assert "Only <@UADMIN1> can" in refusal["text"]
    assert slack.fake.of("chat.postMessage")[-1].args["channel"] == message.channel
    assert len(slack.fake.of("chat.postMessage")) == 1  # no status thread was started


async def test_cannot_post_in_a_channel_tells_the_user(slack: SlackDriver) -> None:
    slack.fake.refuse_posts_in.add("C0PRIVATE")
    await slack.command(channel="C0PRIVATE")
    (ephemeral,) = slack.ephemerals(ADMIN)
    assert "Invite me with /invite @costcodes" in ephemeral["text"]
