"""Socket Mode has the HTTP door's rules: malformed or unhandled envelopes are acknowledged and
logged, the connection survives them, and nothing changes."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.core import Core
from tests.db_state import snapshot
from tests.fakes.slack_api import FakeSlack
from tests.handlers.slack_driver import ADMIN, CHANNEL
from tests.handlers.test_socket_mode import post_list, socket_app  # noqa: F401  (fixture)

ENVELOPES: list[tuple[str, str, Any]] = [
    ("actions: []", "interactive", {"type": "block_actions", "user": {"id": ADMIN}, "actions": []}),
    (
        "actions: [null]",
        "interactive",
        {"type": "block_actions", "user": {"id": ADMIN}, "actions": [None]},
    ),
    ("no type", "interactive", {"user": {"id": ADMIN}}),
    (
        "team: a number",
        "interactive",
        {"type": "block_actions", "team": 1, "actions": [{"action_id": "x"}]},
    ),
    ("event: a string", "events_api", {"type": "event_callback", "event": "x"}),
    ("command: a list", "slash_commands", {"command": ["/costcodes"], "user_id": ADMIN}),
    ("payload: a list", "interactive", [1, 2]),
    ("payload: a number", "events_api", 7),
    (
        "unknown action",
        "interactive",
        {
            "type": "block_actions",
            "user": {"id": ADMIN},
            "channel": {"id": CHANNEL},
            "actions": [{"action_id": "no-such", "block_id": "b"}],
        },
    ),
    (
        "unknown event",
        "events_api",
        {"type": "event_callback", "event": {"type": "reaction_added", "user": ADMIN}},
    ),
    ("unknown envelope type", "something_new", {"type": "x"}),
]


@pytest.mark.parametrize(
    ("kind", "payload"), [e[1:] for e in ENVELOPES], ids=[e[0] for e in ENVELOPES]
)
async def test_a_malformed_or_unhandled_envelope_is_acknowledged_and_the_socket_lives_on(
    socket_app: Core,  # noqa: F811
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    payload: Any,
) -> None:
    before = await snapshot(socket_app)
    with caplog.at_level(logging.INFO, logger="bot.slack.door"):
        ack = await fake_slack.send_envelope(kind, payload)
    assert set(ack) == {"envelope_id"}  # acknowledged, so Slack does not send it again
    assert "refused" in caplog.text or "nothing in this bot handles it" in caplog.text
    assert await snapshot(socket_app) == before
    assert fake_slack.of("chat.postMessage") == []
    assert fake_slack.of("chat.postEphemeral") == []
    listing = await post_list(fake_slack, ADMIN)  # the same connection still serves
    assert listing.channel == CHANNEL
