"""Requests must be signed by Slack and recent: 401 otherwise, and nothing changes."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlmodel import select

from bot.store import db
from bot.store.models import AuditEvent, PostedMessage
from tests.handlers.slack_driver import CHANNEL, SlackDriver, row_block_id


async def nothing_changed(slack: SlackDriver, posted_before: int) -> None:
    async with db.session_scope(slack.services.sessions) as session:
        picks = (await session.exec(select(AuditEvent).where(AuditEvent.surface == "slack"))).all()
        posted = (await session.exec(select(PostedMessage))).all()
    assert picks == [] and len(posted) == posted_before


def command_body() -> bytes:
    return urlencode(
        {"command": "/costcodes", "text": "", "user_id": "UADMIN1", "channel_id": CHANNEL}
    ).encode()


def pick_body(slack: SlackDriver) -> bytes:
    message = slack.last_posted()
    action = {
        "action_id": "pick-income",
        "block_id": row_block_id(message, "01-100"),
        "type": "external_select",
        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": "1"},
    }
    payload = {
        "type": "block_actions",
        "user": {"id": "UADMIN1"},
        "channel": {"id": CHANNEL},
        "message": {"ts": message.ts, "blocks": message.blocks},
        "actions": [action],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


async def test_bad_signature_is_refused(slack: SlackDriver) -> None:
    status, _ = await slack.send(command_body(), secret="not-the-secret")
    assert status == 401
    await slack.settle()
    assert slack.fake.calls == []
    await nothing_changed(slack, 0)


async def test_a_timestamp_more_than_five_minutes_old_is_refused(slack: SlackDriver) -> None:
    await slack.command()
    calls = len(slack.fake.calls)
    old = int(time.time()) - 6 * 60
    status, _ = await slack.send(pick_body(slack), timestamp=old)
    assert status == 401
    status, _ = await slack.send(command_body(), timestamp=int(time.time()) + 6 * 60)
    assert status == 401
    await slack.settle()
    assert len(slack.fake.calls) == calls
    await nothing_changed(slack, 1)


async def test_a_signed_request_four_minutes_old_is_accepted(slack: SlackDriver) -> None:
    status, _ = await slack.send(command_body(), timestamp=int(time.time()) - 4 * 60)
    assert status == 200
    await slack.settle()
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_an_oversized_body_is_refused_without_reading_it(slack: SlackDriver) -> None:
    body = b"payload=" + b"x" * (1024 * 1024 + 1)
    response = await slack.client.post("/slack/events", data=body)
    assert response.status == 413
