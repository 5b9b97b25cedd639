"""Sandbox mode's switch and settings, the Slack stand-in, response_url posts, signed requests."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from pathlib import Path
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlmodel import select

from bot import cli
from bot.core import Core
from bot.sandbox import example_data, mode, slack_requests
from bot.sandbox.interactions import NotFoundInMessage, action_for
from bot.sandbox.workspace import BOT_TOKEN, CHANNEL, USER, Posted, ResponseTarget, Workspace
from bot.store.models import GLAccount
from tests.browser.conftest import free_port
from tests.browser.sandbox_env import NO_SLACK, Local
from tests.conftest import make_settings

URL = "sqlite+aiosqlite:///:memory:"


@pytest.mark.parametrize(
    ("given", "sandbox"),
    [
        ({}, True),
        ({"slack_bot_token": "xoxb-1"}, False),
        ({"slack_signing_secret": "s"}, False),
        ({"slack_app_token": "xapp-1"}, False),
    ],
)
def test_sandbox_mode_only_without_any_slack_setting(given: dict, sandbox: bool) -> None:
    assert mode.wanted(make_settings(URL, **{**NO_SLACK, **given})) is sandbox


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:3000"),
        ("::1", "http://[::1]:3000"),
        ("a.b", "http://a.b:3000"),
    ],
)
def test_the_server_reaches_itself(host: str, url: str) -> None:
    assert mode.base_url(make_settings(URL, host=host, port=3000)) == url


def test_sandbox_settings_are_new_secrets_that_lead_back_here() -> None:
    plain = make_settings(URL, port=4567, qbwc_password=None, **NO_SLACK)
    first, second = mode.sandbox_settings(plain), mode.sandbox_settings(plain)
    assert first.slack_configured and first.slack_api_url == "http://127.0.0.1:4567/sandbox/api/"
    assert first.slack_signing_secret != second.slack_signing_secret
    assert first.qbwc_password is not None and first.qbwc_password != second.qbwc_password
    kept = mode.sandbox_settings(make_settings(URL, qbwc_password="mine", erp_admins="U1"))
    assert kept.qbwc_password is not None and kept.qbwc_password.get_secret_value() == "mine"
    assert kept.erp_admins == ()


async def test_examples_go_only_into_empty_tables(local: Local, tmp_path: Path) -> None:
    await mode.seed_examples(local.services)  # a second start: nothing is added
    async with local.services.sessions() as session:
        accounts = (await session.exec(select(GLAccount))).all()
    assert len(accounts) == 50
    same = {a.list_id for a in local.sandbox.quickbooks.accounts}
    assert same == {a.list_id for a in accounts}  # QuickBooks and the table agree on ListIDs
    assert example_data.example_accounts(tmp_path) == []
    assert example_data.example_quickbooks(folder=tmp_path).accounts == []


def _workspace_with_message() -> tuple[Workspace, str]:
    workspace = Workspace()
    posted = workspace.call(
        "chat.postMessage",
        {"channel": CHANNEL, "text": "hi", "blocks": json.dumps([{"type": "section"}])},
        BOT_TOKEN,
    )
    return workspace, posted["ts"]


def test_the_stand_in_answers_like_slack() -> None:
    workspace, ts = _workspace_with_message()
    assert workspace.find(ts).blocks[0]["block_id"]  # type: ignore[union-attr]
    assert workspace.call("auth.test", {}, "xoxb-wrong") == {"ok": False, "error": "invalid_auth"}
    assert workspace.call("files.upload", {}, BOT_TOKEN)["error"] == "unknown_method"
    assert workspace.call("users.info", {"user": USER}, BOT_TOKEN)["user"]["is_admin"] is True
    assert workspace.call("users.info", {"user": "U2"}, BOT_TOKEN)["user"]["is_admin"] is False
    assert workspace.call("usergroups.users.list", {"usergroup": "S1"}, BOT_TOKEN)["ok"] is False
    assert workspace.call("chat.postMessage", {}, BOT_TOKEN)["error"] == "invalid_arguments"
    reply = {"channel": CHANNEL, "text": "r", "thread_ts": "9.9"}
    assert workspace.call("chat.postMessage", reply, BOT_TOKEN)["error"] == "thread_not_found"
    update = {"channel": CHANNEL, "ts": "9.9", "text": "x"}
    assert workspace.call("chat.update", update, BOT_TOKEN)["error"] == "message_not_found"
    assert workspace.call("chat.delete", {"channel": CHANNEL, "ts": ts}, BOT_TOKEN)["ok"]
    assert workspace.call("chat.delete", {"channel": CHANNEL, "ts": ts}, BOT_TOKEN)["ok"] is False


def test_thread_replies_sit_under_their_parent_and_broadcasts_also_in_channel() -> None:
    workspace, ts = _workspace_with_message()
    for text, broadcast in (("quiet", "false"), ("loud", "true")):
        reply = {"channel": CHANNEL, "text": text, "thread_ts": ts, "reply_broadcast": broadcast}
        workspace.call("chat.postMessage", reply, BOT_TOKEN)
    shown = workspace.in_channel()
    assert [m["text"] for m in shown] == ["hi", "loud"]
    assert [r["text"] for r in shown[0]["replies"]] == ["quiet", "loud"]


def test_response_urls_replace_delete_or_post() -> None:
    workspace, ts = _workspace_with_message()
    url = workspace.response_url_for("http://x", ResponseTarget(CHANNEL, ts, USER))
    name = url.rsplit("/", 1)[-1]
    assert workspace.respond(name, {"replace_original": True, "text": "new"})
    assert workspace.find(ts).text == "new"  # type: ignore[union-attr]
    assert workspace.respond(name, {"text": "just you"})
    assert workspace.respond(name, {"response_type": "in_channel", "text": "everyone"})
    kinds = [(m.text, m.ephemeral_to) for m in workspace.messages.values()]
    assert kinds[1:] == [("just you", USER), ("everyone", None)]
    assert workspace.respond(name, {"delete_original": "true"})
    assert workspace.find(ts) is None
    assert not workspace.respond("unknown", {"text": "x"})
    ephemeral = workspace.call(
        "chat.postEphemeral", {"channel": CHANNEL, "user": USER, "text": "e"}, BOT_TOKEN
    )
    update = {"channel": CHANNEL, "ts": ephemeral["message_ts"], "text": "x"}
    assert workspace.call("chat.update", update, BOT_TOKEN)["error"] == "message_not_found"


def test_a_click_is_built_from_the_message_or_as_the_page_shows_it() -> None:
    button = {"type": "button", "action_id": "go", "value": "v", "text": {"text": "Go"}}
    select = {"type": "static_select", "action_id": "pick", "options": [{"value": "a"}]}
    block = {"type": "actions", "block_id": "b1", "elements": [button, select]}
    message = Posted(CHANNEL, "1.1", "t", [block])
    assert action_for(message, "b1", "go", None)["value"] == "v"
    assert action_for(message, "b1", "pick", {"value": "a"})["selected_option"] == {"value": "a"}
    with pytest.raises(NotFoundInMessage):
        action_for(message, "b1", "pick", {"value": "z"})
    with pytest.raises(NotFoundInMessage):
        action_for(message, "b1", "pick", None)
    stale = action_for(message, "old", "go", None, {"type": "button", "value": "w"})
    assert stale["value"] == "w" and stale["block_id"] == "old"
    with pytest.raises(NotFoundInMessage):
        action_for(message, "old", "go", None, {"type": "datepicker"})
    chosen = action_for(
        message, "old", "x", {"value": "1", "text": "One"}, {"type": "external_select"}
    )
    assert chosen["selected_option"]["text"]["text"] == "One"


async def _serve_once(services: Core, sandbox: bool = True, **values: object) -> int:
    """Run `cli.serve` as `costcodes serve` does; the status of GET /sandbox while it runs."""
    port = free_port()
    given = make_settings(services.settings.database_url, port=port, **{**NO_SLACK, **values})
    served = dataclasses.replace(services, settings=given)
    task = asyncio.create_task(cli.serve(served, sandbox=sandbox))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/sandbox") as answer:
                        return answer.status
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        raise AssertionError("the server did not start")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_serve_without_slack_is_the_sandbox_and_with_slack_is_not(services: Core) -> None:
    assert await _serve_once(services) == 200
    configured = {"slack_bot_token": "xoxb-1", "slack_signing_secret": "secret"}
    assert await _serve_once(services, **configured) == 404
    assert await _serve_once(services, sandbox=False) == 404  # costcodes serve --no-sandbox


def test_a_modal_is_described_to_the_person_instead_of_drawn() -> None:
    workspace = Workspace()
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Reject 01-100"}}
    assert workspace.call("views.open", {"trigger_id": "t", "view": json.dumps(view)}, BOT_TOKEN)[
        "ok"
    ]
    (note,) = workspace.in_channel()
    assert "“Reject 01-100” form" in str(note) and "does not draw" in str(note)


def test_requests_are_signed_as_slack_verifies_them() -> None:
    body = b"payload=%7B%7D"
    headers = slack_requests.signed_headers("sandbox-secret", body)
    stamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert SignatureVerifier("sandbox-secret").is_valid(body, stamp, signature)
    assert not SignatureVerifier("another-secret").is_valid(body, stamp, signature)
    assert not SignatureVerifier("sandbox-secret").is_valid(body + b"x", stamp, signature)


def test_an_interaction_names_its_message_and_carries_it_unless_ephemeral() -> None:
    where = {"team": {"id": "T1"}, "user": {"id": "U1"}, "app_id": "A1", "channel": {"id": "C1"}}
    shown = slack_requests.in_message(
        "block_actions", **where, message_ts="1.2", message={"ts": "1.2"}, actions=[]
    )
    assert shown["container"] == {
        "type": "message",
        "message_ts": "1.2",
        "channel_id": "C1",
        "is_ephemeral": False,
    }
    assert shown["message"] == {"ts": "1.2"} and shown["actions"] == []
    ephemeral = slack_requests.in_message(
        "block_suggestion", **where, message_ts="1.3", message=None
    )
    assert ephemeral["container"]["is_ephemeral"] and "message" not in ephemeral
    body = slack_requests.payload_body(ephemeral)
    assert json.loads(parse_qs(body.decode())["payload"][0]) == ephemeral
