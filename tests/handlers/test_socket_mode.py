"""Socket Mode end to end: Slack's envelopes over a real websocket, the app's acks coming back."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from bot.core import Core
from bot.store.models import CostCode, GLAccount
from tests.builders import served
from tests.conftest import make_settings
from tests.fakes.slack_api import TEAM, FakeSlack, Message
from tests.handlers.conftest import seed
from tests.handlers.slack_driver import ADMIN, CHANNEL, OTHER, row_block_id, texts
from tests.waiting import eventually


@pytest.fixture
async def socket_app(
    services: Core, fake_slack: FakeSlack, database_url: str
) -> AsyncIterator[Core]:
    """The server with an app token and no signing secret: Slack reaches it only by websocket."""
    fake_slack.socket_mode = True
    settings = make_settings(
        database_url,
        slack_bot_token="xoxb-test",
        slack_app_token="xapp-test",
        slack_api_url=fake_slack.api_url,
        erp_admins=ADMIN,
    )
    socket_services = dataclasses.replace(services, settings=settings)
    await seed(socket_services)
    async with served(socket_services) as client:
        assert (await client.post("/slack/events", data=b"x")).status == 404
        yield socket_services


def interactive(user: str, on: Message, **fields: Any) -> dict[str, Any]:
    """An interaction payload from `user` on the posted message `on`."""
    return {
        "team": {"id": TEAM},
        "user": {"id": user},
        "api_app_id": "A0001",
        "channel": {"id": on.channel},
        "container": {"type": "message", "channel_id": on.channel, "message_ts": on.ts},
        **fields,
    }


async def post_list(fake_slack: FakeSlack, user: str) -> Message:
    """/costcodes over the websocket, as `user`; the list it posts in the channel."""
    command = {
        "command": "/costcodes",
        "text": "",
        "user_id": user,
        "channel_id": CHANNEL,
        "team_id": TEAM,
        "response_url": fake_slack.response_url(),
        "trigger_id": "1.2.3",
    }
    ack = await fake_slack.send_envelope("slash_commands", command)
    assert set(ack) == {"envelope_id"}  # an empty ack: the list is posted after it
    # The fake records a call before it answers it: wait for the answer, which holds the ts.
    posted = await eventually(lambda: [c for c in fake_slack.of("chat.postMessage") if c.result])
    assert posted[0].token == "xoxb-test"  # the Web API still uses the bot token
    return fake_slack.message(CHANNEL, str(posted[0].result and posted[0].result["ts"]))


def pick_payload(user: str, listing: Message, block_id: str, account: GLAccount) -> dict[str, Any]:
    """An Income pick of `account` in the row `block_id`, as Slack reports it."""
    action = {
        "action_id": "pick-income",
        "block_id": block_id,
        "type": "external_select",
        "selected_option": {
            "text": {"type": "plain_text", "text": f"{account.number} · {account.full_name}"},
            "value": str(account.id),
        },
        "action_ts": "1.1",
    }
    return interactive(
        user,
        listing,
        type="block_actions",
        message={"ts": listing.ts, "text": listing.text, "blocks": listing.blocks},
        actions=[action],
    )


async def income_account(services: Core, number: str) -> GLAccount:
    async with services.sessions() as session:
        return (await session.exec(select(GLAccount).where(GLAccount.number == number))).one()


async def code_row(services: Core, code: str) -> CostCode:
    async with services.sessions() as session:
        return (await session.exec(select(CostCode).where(CostCode.code == code))).one()


async def test_commands_searches_and_picks_travel_over_the_websocket(
    socket_app: Core, fake_slack: FakeSlack
) -> None:
    listing = await post_list(fake_slack, ADMIN)
    assert "Ready to Export" in texts(listing)

    block_id = row_block_id(listing, "01-100")
    search = interactive(
        ADMIN,
        listing,
        type="block_suggestion",
        action_id="pick-income",
        block_id=block_id,
        value="construction inc",
    )
    ack = await fake_slack.send_envelope("interactive", search)
    labels = [option["text"]["text"] for option in ack["payload"]["options"]]
    assert labels[0] == "4000 · Construction Income"

    account = await income_account(socket_app, "4000")
    assert "4000 · Construction Income" not in texts(listing)
    ack = await fake_slack.send_envelope(
        "interactive", pick_payload(ADMIN, listing, block_id, account)
    )
    assert set(ack) == {"envelope_id"}
    await eventually(lambda: listing.updates)  # saved, then re-rendered in place
    assert "4000 · Construction Income" in texts(listing)
    assert (await code_row(socket_app, "01-100")).income_account_id == account.id


async def test_a_refusal_over_the_websocket_is_ephemeral_and_changes_nothing(
    socket_app: Core, fake_slack: FakeSlack
) -> None:
    listing = await post_list(fake_slack, OTHER)  # anyone may look
    account = await income_account(socket_app, "4000")
    pick = pick_payload(OTHER, listing, row_block_id(listing, "01-100"), account)
    await fake_slack.send_envelope("interactive", pick)
    refusal = await eventually(lambda: fake_slack.of("chat.postEphemeral"))
    assert refusal[0].args["user"] == OTHER
    assert "<@UADMIN1>" in refusal[0].args["text"]
    assert (await code_row(socket_app, "01-100")).income_account_id != account.id
