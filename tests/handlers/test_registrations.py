"""The manifest's command, blocks.ids and the listeners registered on the built app all agree."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from blocks.accounts import rebind_confirm_message
from blocks.costcodes import list_message
from blocks.digest import digest_message
from blocks.home import home_view
from blocks.ids import COMMAND, ActionId, CallbackId, HomeActionId
from bot.costcodes.domain import (
    AccountView,
    CodeView,
    ListFilter,
    ListPage,
    RejectBanner,
    State,
    SuggestedAccount,
)
from bot.digests.views import DigestView
from bot.home.views import HomeSummary
from handlers import actions, bulk, options
from qbd.companyfile import CompanyFile
from tests.handlers.slack_driver import CHANNEL, SlackDriver
from tests.test_manifest import manifest_command_names


def _page(list_filter: ListFilter, state: State, **extra: Any) -> ListPage:
    hint = SuggestedAccount(AccountView(1, "Construction Income", "4000", "Income"), "3 of 3")
    codes = tuple(
        CodeView(
            id=n,
            code=f"03-{n:03d}",
            description="Concrete",
            division=None,
            state=state,
            version=1,
            suggested_income=hint,
        )
        for n in range(3)
    )
    fields: dict[str, Any] = {
        "list_filter": list_filter,
        "codes": codes,
        "page": 1,
        "page_count": 3,
        "total": 30,
        "rejectable": 30 if state is State.READY else 0,
        "render_version": 1,
        "divisions": (("03", 30),),
    }
    return ListPage(**{**fields, **extra})


def rendered_action_ids() -> set[str]:
    """Every action_id any message the app sends can carry."""
    messages = [
        list_message(_page(ListFilter.READY, State.READY, banner=RejectBanner(3, "U1", "tok"))),
        list_message(_page(ListFilter.FAILED, State.FAILED)),
        digest_message(DigestView(3, 1, 1, None, None, None, contact_stale=True)),
        rebind_confirm_message(CompanyFile("C:\\a.qbw", "A"), CompanyFile("C:\\b.qbw", "B")),
    ]
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "action_id" in value:
                found.add(str(value["action_id"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(messages)
    return found


def test_every_action_id_has_a_listener_and_every_listener_id_is_an_action_id() -> None:
    listened = {**actions.LISTENERS, **bulk.LISTENERS}
    assert set(listened) == set(ActionId)
    assert rendered_action_ids() <= {a.value for a in listened}
    assert rendered_action_ids() == {a.value for a in ActionId}  # none is dead either


def test_the_home_tab_carries_exactly_the_home_buttons() -> None:
    home = home_view(HomeSummary(dict.fromkeys(State, 1), None, None, None, contact_stale=True))
    found = {
        element["action_id"]
        for block in home["blocks"]
        for element in block.get("elements", [])
        if "action_id" in element
    }
    assert found == {a.value for a in HomeActionId}


def test_options_listeners_serve_exactly_the_external_selects() -> None:
    assert {a.value for a in options.LISTENERS} == {"pick-income", "pick-expense"}
    assert set(options.LISTENERS) <= set(ActionId)


def test_the_manifest_command_is_the_one_registered() -> None:
    assert manifest_command_names() == {COMMAND}


def _action(action_id: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "UADMIN1"},
        "channel": {"id": CHANNEL},
        "actions": [{"action_id": action_id, "block_id": "x", "type": "button", "value": "x"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def _submission(callback_id: str) -> bytes:
    payload = {
        "type": "view_submission",
        "user": {"id": "UADMIN1"},
        "view": {"type": "modal", "callback_id": callback_id, "state": {"values": {}}},
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def _options(action_id: str) -> bytes:
    payload = {
        "type": "block_suggestion",
        "user": {"id": "UADMIN1"},
        "action_id": action_id,
        "block_id": "x",
        "value": "",
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


async def test_the_built_app_answers_every_id_and_nothing_else(slack: SlackDriver) -> None:
    for action_id in ActionId:
        status, _ = await slack.send(_action(action_id.value))
        assert status == 200, action_id
    for action_id in HomeActionId:
        status, _ = await slack.send(_action(action_id.value))
        assert status == 200, action_id
    for callback_id in (CallbackId.POST_LIST, CallbackId.IMPORT):
        status, _ = await slack.send(_submission(callback_id.value))
        assert status == 200, callback_id
    for action_id in options.LISTENERS:
        status, _ = await slack.send(_options(action_id.value))
        assert status == 200, action_id
    command = urlencode({"command": COMMAND, "text": "help", "user_id": "UADMIN1"}).encode()
    assert (await slack.send(command))[0] == 200
    await slack.settle()
    # Nothing listens for these: acknowledged (Slack retries anything but a 2xx), nothing sent.
    calls = len(slack.fake.calls)
    assert await slack.send(_action("no-such-action")) == (200, "")
    assert await slack.send(_options("no-such-options")) == (200, '{"options": []}')
    await slack.settle()
    assert len(slack.fake.calls) == calls
    # The listeners read these minimal payloads as unreadable: told, not crashed.
    assert slack.ephemerals() and all("could not read" in e["text"] for e in slack.ephemerals())
