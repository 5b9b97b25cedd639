"""Hostile and malformed Slack requests through the real server: a clear answer, never a 500.

Signature first (401), then the body's shape (400 with a short reason), and a signed request
nothing listens for is acknowledged (200) and logged. Each test also shows that the database
is exactly as it was and that nothing was sent to Slack.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.bolt import events_handler
from tests.db_state import snapshot
from tests.fakes.signing import signed_headers
from tests.fakes.slack_api import FakeSlack
from tests.handlers.slack_driver import ADMIN, CHANNEL, FORM, SECRET, SlackDriver, row_block_id

JSON = "application/json"


def form(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def block_actions(actions: object, **extra: object) -> bytes:
    return form(
        {
            "type": "block_actions",
            "user": {"id": ADMIN},
            "channel": {"id": CHANNEL},
            "actions": actions,
            **extra,
        }
    )


# (name, body, content type, what the 400 says)
MALFORMED: list[tuple[str, bytes, str, str]] = [
    ("actions: []", block_actions([]), FORM, "block_actions has no actions"),
    ("actions: [null]", block_actions([None]), FORM, "an action has no action_id"),
    ("actions: a string", block_actions("pick-income"), FORM, "block_actions has no actions"),
    ("actions: [{}]", block_actions([{}]), FORM, "an action has no action_id"),
    ("action_id: a number", block_actions([{"action_id": 7}]), FORM, "an action has no action_id"),
    (
        "payload: not JSON",
        urlencode({"payload": "{nope"}).encode(),
        FORM,
        "the payload is not valid JSON",
    ),
    (
        "payload: a JSON list",
        urlencode({"payload": "[1, 2]"}).encode(),
        FORM,
        "the payload is a JSON list",
    ),
    (
        "payload: a JSON string",
        urlencode({"payload": '"hi"'}).encode(),
        FORM,
        "the payload is a JSON string",
    ),
    (
        "payload: JSON null",
        urlencode({"payload": "null"}).encode(),
        FORM,
        "the payload is a JSON null",
    ),
    ("payload: no type", form({"user": {"id": ADMIN}}), FORM, "the request has no type"),
    ("payload: type a number", form({"type": 3}), FORM, "the request has no type"),
    ("body: a JSON list", b"[1]", JSON, "the body is a JSON list"),
    ("body: a JSON string", b'"event_callback"', JSON, "the body is a JSON string"),
    ("body: not JSON", b"{", JSON, "the body is not valid JSON"),
    (
        "body: deeply nested",
        b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        JSON,
        "the body is not valid JSON",
    ),
    ("body: empty", b"", FORM, "the body is empty"),
    ("body: not UTF-8", b"payload=\xff\xfe", FORM, "the body is not UTF-8 text"),
    (
        "event: missing",
        json.dumps({"type": "event_callback"}).encode(),
        JSON,
        "event_callback has no event type",
    ),
    (
        "event: a string",
        json.dumps({"type": "event_callback", "event": "x"}).encode(),
        JSON,
        "event_callback has no event type",
    ),
    (
        "event type: null",
        json.dumps({"type": "event_callback", "event": {"type": None}}).encode(),
        JSON,
        "event_callback has no event type",
    ),
    (
        "url_verification: no challenge",
        json.dumps({"type": "url_verification"}).encode(),
        JSON,
        "url_verification has no challenge",
    ),
    (
        "block_suggestion: no action_id",
        form({"type": "block_suggestion", "value": "x"}),
        FORM,
        "block_suggestion has no action_id",
    ),
    (
        "block_suggestion: value a list",
        form({"type": "block_suggestion", "action_id": "pick-income", "value": []}),
        FORM,
        "value in block_suggestion is not a string",
    ),
    (
        "view_submission: no view",
        form({"type": "view_submission"}),
        FORM,
        "view_submission has no view callback_id",
    ),
    (
        "view_submission: no view type",
        form({"type": "view_submission", "view": {"callback_id": "x"}}),
        FORM,
        "view_submission has no view type",
    ),
    ("shortcut: no callback_id", form({"type": "shortcut"}), FORM, "shortcut has no callback_id"),
    (
        "user: a number",
        block_actions([{"action_id": "x"}], user=5),
        FORM,
        "user in the request is neither an ID nor an object",
    ),
    (
        "team: a list",
        block_actions([{"action_id": "x"}], team=[]),
        FORM,
        "team in the request is neither an ID nor an object",
    ),
    (
        "channel id: a number",
        block_actions([{"action_id": "x"}], channel={"id": 1}),
        FORM,
        "id in channel is not a string",
    ),
    (
        "enterprise: a number",
        block_actions([{"action_id": "x"}], enterprise=1),
        FORM,
        "enterprise in the request",
    ),
    (
        "authorizations: a string",
        block_actions([{"action_id": "x"}], authorizations="x"),
        FORM,
        "authorizations in the request is not a list of objects",
    ),
    (
        "message: a list",
        block_actions([{"action_id": "x"}], message=[]),
        FORM,
        "message in the request is not an object",
    ),
    (
        "container: a string",
        block_actions([{"action_id": "x"}], container="x"),
        FORM,
        "container in the request is not an object",
    ),
    (
        "response_urls: [1]",
        block_actions([{"action_id": "x"}], response_urls=[1]),
        FORM,
        "response_urls in the request is not a list of objects",
    ),
    (
        "nested event user",
        json.dumps({"type": "event_callback", "event": {"type": "message", "user": 3}}).encode(),
        JSON,
        "user in event",
    ),
    (
        "command: not a slash command",
        urlencode({"command": "costcodes"}).encode(),
        FORM,
        "command is not a slash command",
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "reason"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
async def test_a_signed_body_slack_never_sends_is_a_400_with_its_reason(
    slack: SlackDriver, body: bytes, content_type: str, reason: str
) -> None:
    before = await snapshot(slack.services)
    status, text = await slack.send(body, content_type=content_type)
    await slack.settle()
    assert (status, text.startswith("not a Slack request: ")) == (400, True), text
    assert reason in text
    assert len(text) < 120  # short, plain, no traceback
    assert slack.fake.calls == []  # not even auth.test: Bolt never saw it
    assert await snapshot(slack.services) == before
    slack.statuses.remove(400)


@pytest.mark.parametrize(
    ("body", "content_type"), [m[1:3] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
async def test_an_unsigned_malformed_body_is_a_401_not_a_500(
    slack: SlackDriver, body: bytes, content_type: str
) -> None:
    before = await snapshot(slack.services)
    response = await slack.client.post(
        "/slack/events", data=body, headers={"Content-Type": content_type}
    )
    assert response.status == 401
    assert await response.text() == "invalid signature"
    status, _ = await slack.send(body, content_type=content_type, secret="another-secret")
    assert status == 401
    assert slack.fake.calls == []
    assert await snapshot(slack.services) == before


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
        {"X-Slack-Signature": "v0=00"},
    ],
    ids=["word", "exponent", "empty", "no timestamp"],
)
async def test_a_garbled_signature_header_is_a_401(
    slack: SlackDriver, headers: dict[str, str]
) -> None:
    body = block_actions([{"action_id": "export"}])
    response = await slack.client.post(
        "/slack/events", data=body, headers={"Content-Type": FORM, **headers}
    )
    assert response.status == 401


async def test_a_non_ascii_signature_is_a_401(slack: SlackDriver) -> None:
    body = block_actions([{"action_id": "export"}])
    headers = {**signed_headers(SECRET, body), "Content-Type": FORM}
    headers["X-Slack-Signature"] = "v0=\u00e9\u00e9"
    response = await slack.client.post(
        "/slack/events",
        data=body,
        headers={k: v.encode().decode("latin-1") for k, v in headers.items()},
    )
    assert response.status == 401


UNHANDLED: list[tuple[str, bytes, str, str]] = [
    (
        "unknown action_id",
        block_actions([{"action_id": "no-such-action", "block_id": "b", "type": "button"}]),
        FORM,
        "",
    ),
    (
        "unknown options action_id",
        form(
            {
                "type": "block_suggestion",
                "user": {"id": ADMIN},
                "action_id": "no-such",
                "block_id": "b",
                "value": "",
            }
        ),
        FORM,
        '{"options": []}',
    ),
    (
        "unknown view callback_id",
        form(
            {
                "type": "view_submission",
                "user": {"id": ADMIN},
                "view": {"id": "V1", "type": "modal", "callback_id": "no-such"},
            }
        ),
        FORM,
        "",
    ),
    (
        "view_closed",
        form(
            {
                "type": "view_closed",
                "user": {"id": ADMIN},
                "view": {"id": "V1", "type": "modal", "callback_id": "no-such"},
            }
        ),
        FORM,
        "",
    ),
    (
        "global shortcut",
        form(
            {
                "type": "shortcut",
                "user": {"id": ADMIN},
                "callback_id": "no-such",
                "trigger_id": "1.2",
            }
        ),
        FORM,
        "",
    ),
    (
        "message shortcut",
        form(
            {
                "type": "message_action",
                "user": {"id": ADMIN},
                "callback_id": "no-such",
                "channel": {"id": CHANNEL},
            }
        ),
        FORM,
        "",
    ),
    ("unknown payload type", form({"type": "something_new", "user": {"id": ADMIN}}), FORM, ""),
    (
        "unknown event type",
        json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0001",
                "event": {"type": "reaction_added", "user": ADMIN},
            }
        ).encode(),
        JSON,
        "",
    ),
    (
        "app_mention",
        json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0001",
                "event": {"type": "app_mention", "user": ADMIN, "text": "hi"},
            }
        ).encode(),
        JSON,
        "",
    ),
    (
        "another command",
        urlencode(
            {"command": "/other", "text": "", "user_id": ADMIN, "channel_id": CHANNEL}
        ).encode(),
        FORM,
        "",
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "answer"), [u[1:] for u in UNHANDLED], ids=[u[0] for u in UNHANDLED]
)
async def test_a_signed_request_nothing_handles_is_acknowledged_and_logged(
    slack: SlackDriver,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
    answer: str,
) -> None:
    before = await snapshot(slack.services)
    with caplog.at_level(logging.INFO, logger="bot.slack.door"):
        status, text = await slack.send(body, content_type=content_type)
    await slack.settle()
    assert (status, text) == (200, answer)
    assert "nothing in this bot handles it" in caplog.text
    assert [c.method for c in slack.fake.calls] in ([], ["auth.test"])  # nothing posted
    assert await snapshot(slack.services) == before


async def test_url_verification_still_answers_its_challenge(slack: SlackDriver) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"}).encode()
    assert await slack.send(body, content_type=JSON) == (200, '{"challenge": "abc123"}')


async def test_a_failing_listener_logs_a_reference_and_tells_the_person(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    """A pick of an account id no database can hold: the listener fails unexpectedly."""
    await slack.command()
    listing = slack.last_posted()
    before = await snapshot(slack.services)
    with caplog.at_level(logging.ERROR, logger="handlers.errors"):
        status = await slack.click(
            listing, "pick-income", block_id=row_block_id(listing, "01-100"), option="9" * 40
        )
    assert status == 200
    told = slack.ephemerals(ADMIN)
    assert len(told) == 1, told
    words = told[0]["text"]
    match = re.search(r"reference ([0-9a-f]{10})", words)
    assert match is not None, words
    assert "Something went wrong on our side" in words and "Traceback" not in words
    assert f"[ref {match.group(1)}]" in caplog.text  # the operator's log line carries it
    assert await snapshot(slack.services, ignore=("posted_message",)) == {
        k: v for k, v in before.items() if k != "posted_message"
    }


async def test_a_block_that_is_not_an_object_is_unreadable_not_unexpected(
    slack: SlackDriver,
) -> None:
    await slack.command()
    listing = slack.last_posted()
    block_id = row_block_id(listing, "01-100")
    before = await snapshot(slack.services)
    action = {
        "action_id": "pick-income",
        "block_id": block_id,
        "type": "external_select",
        "selected_option": {"value": "1"},
    }
    body = block_actions([action], message={"ts": listing.ts, "blocks": ["not a block"]})
    assert (await slack.send(body))[0] == 200
    await slack.settle()
    told = slack.ephemerals(ADMIN)
    assert len(told) == 1 and "could not read" in told[0]["text"], told
    assert await snapshot(slack.services) == before


async def test_when_bolt_itself_fails_on_a_body_the_answer_is_a_400_with_a_reference(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """The last line of defence: a body the shape check let through and Bolt could not handle."""
    app = AsyncApp(
        signing_secret=SECRET, client=AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)
    )

    async def broken_middleware(next_: object) -> None:
        raise RuntimeError("middleware failed")

    async def broken_error_handler(error: Exception) -> None:
        raise RuntimeError("and so did the error handler")

    app.middleware(broken_middleware)
    app.error(broken_error_handler)
    web_app = web.Application()
    web_app.router.add_post("/slack/events", events_handler(app, SECRET))
    async with TestClient(TestServer(web_app)) as client:
        body = block_actions([{"action_id": "export-codes"}])
        headers = {"Content-Type": FORM, **signed_headers(SECRET, body)}
        with caplog.at_level(logging.WARNING, logger="bot.slack.door"):
            response = await client.post("/slack/events", data=body, headers=headers)
        text = await response.text()
    assert response.status == 400
    match = re.fullmatch(r"the request could not be read \[ref ([0-9a-f]{10})\]", text)
    assert match is not None, text
    assert f"[ref {match.group(1)}]" in caplog.text
