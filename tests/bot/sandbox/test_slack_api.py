"""The one Slack Web API stand-in answers as Slack does, for the sandbox and the tests alike.

Scenario tests only reach the answers the app happens to need; these pin each answer down,
against both owners (the sandbox's Workspace behind its token, the tests' FakeSlack), so the
two cannot drift apart again.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.sandbox.slack_api import Identity, SlackWebAPI
from bot.sandbox.workspace import BOT_TOKEN, Workspace
from tests.fakes.slack_api import FakeSlack

Answer = Callable[[str, dict[str, Any]], dict[str, Any]]
CHANNEL = "C1"


def _sandbox() -> tuple[SlackWebAPI, Answer]:
    workspace = Workspace()
    return workspace, lambda method, args: workspace.call(method, args, BOT_TOKEN)


def _tests_fake() -> tuple[SlackWebAPI, Answer]:
    fake = FakeSlack()
    fake.add_user("U1")
    return fake, fake.answer


@pytest.fixture(params=[_sandbox, _tests_fake], ids=["sandbox", "tests"])
def api(request: pytest.FixtureRequest) -> tuple[SlackWebAPI, Answer]:
    made: tuple[SlackWebAPI, Answer] = request.param()
    return made


def _post(answer: Answer, **args: Any) -> dict[str, Any]:
    posted = answer("chat.postMessage", {"channel": CHANNEL, "text": "first", **args})
    assert posted["ok"], posted
    return posted


def test_a_posted_message_then_updated_reads_back_updated(api: tuple[SlackWebAPI, Answer]) -> None:
    kept, answer = api
    ts = _post(answer, blocks=json.dumps([{"type": "divider"}]))["ts"]
    before = kept.version
    new = [{"type": "section", "block_id": "b1", "text": {"type": "mrkdwn", "text": "2nd"}}]
    updated = answer("chat.update", {"channel": CHANNEL, "ts": ts, "text": "second", "blocks": new})
    assert updated["ok"] and updated["text"] == "second"
    assert updated["message"]["blocks"] == new
    message = kept.find(ts)
    assert message is not None and message.text == "second" and message.blocks == new
    assert message.updates == 1 and message.edited and kept.version == before + 1


def test_slack_names_every_block_but_keeps_given_names(api: tuple[SlackWebAPI, Answer]) -> None:
    kept, answer = api
    blocks = [{"type": "divider"}, {"type": "divider", "block_id": "mine"}]
    message = kept.find(_post(answer, blocks=blocks)["ts"])
    assert message is not None
    named, given = message.blocks
    assert named["block_id"] and given["block_id"] == "mine"


def test_an_ephemeral_is_kept_for_its_user_only(api: tuple[SlackWebAPI, Answer]) -> None:
    kept, answer = api
    shared = _post(answer)["ts"]
    sent = answer("chat.postEphemeral", {"channel": CHANNEL, "user": "U1", "text": "psst"})
    assert sent["ok"]
    assert [m.ts for m in kept.visible(CHANNEL, "U1")] == [shared, sent["message_ts"]]
    assert [m.ts for m in kept.visible(CHANNEL, "U2")] == [shared]
    update = {"channel": CHANNEL, "ts": sent["message_ts"], "text": "x"}
    assert answer("chat.update", update) == {"ok": False, "error": "message_not_found"}


def test_an_unknown_method_is_slacks_unknown_method(api: tuple[SlackWebAPI, Answer]) -> None:
    _, answer = api
    assert answer("files.upload", {}) == {"ok": False, "error": "unknown_method"}


def test_arguments_slack_would_refuse(api: tuple[SlackWebAPI, Answer]) -> None:
    kept, answer = api
    assert answer("chat.postMessage", {})["error"] == "invalid_arguments"
    reply = {"channel": CHANNEL, "text": "r", "thread_ts": "9.9"}
    assert answer("chat.postMessage", reply)["error"] == "thread_not_found"
    assert answer("chat.update", {"channel": CHANNEL, "ts": "9.9"})["error"] == "message_not_found"
    kept.refuse_posts_in.add(CHANNEL)
    assert answer("chat.postMessage", {"channel": CHANNEL})["error"] == "not_in_channel"
    assert kept.kept == {}


def test_a_post_to_a_user_lands_in_the_bots_direct_messages(
    api: tuple[SlackWebAPI, Answer],
) -> None:
    kept, answer = api
    posted = answer("chat.postMessage", {"channel": "U1", "text": "hi"})
    assert posted["channel"] == "D1" and kept.visible("D1", "U1")[0].text == "hi"


def test_a_deleted_message_is_gone(api: tuple[SlackWebAPI, Answer]) -> None:
    kept, answer = api
    ts = _post(answer)["ts"]
    assert answer("chat.delete", {"channel": CHANNEL, "ts": ts})["ok"]
    assert kept.find(ts) is None
    assert answer("chat.delete", {"channel": CHANNEL, "ts": ts})["error"] == "message_not_found"


def test_views_need_a_trigger_or_a_home_for_a_known_user(api: tuple[SlackWebAPI, Answer]) -> None:
    kept, answer = api
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Add"}}
    assert answer("views.open", {"view": modal})["error"] == "invalid_trigger_id"
    assert answer("views.open", {"view": json.dumps(modal), "trigger_id": "t"})["ok"]
    assert kept.modals == [modal]
    home = {"type": "home", "blocks": []}
    assert answer("views.publish", {"user_id": "U1", "view": modal})["error"] == "invalid_arguments"
    assert answer("views.publish", {"user_id": "U1", "view": home})["ok"]
    assert kept.homes == {"U1": home}


def test_users_groups_and_files() -> None:
    kept = SlackWebAPI(Identity("T1", "Team", "UB", "B1", "https://t.invalid/"), epoch=1)
    kept.add_user("U1", admin=True)
    kept.groups["S1"] = ["U1"]
    assert kept.answer("users.info", {"user": "U1"})["user"]["is_admin"] is True
    assert kept.answer("users.info", {"user": "U2"})["error"] == "user_not_found"
    assert kept.answer("usergroups.users.list", {"usergroup": "S1"})["users"] == ["U1"]
    assert kept.answer("usergroups.users.list", {"usergroup": "S2"})["error"] == "no_such_subteam"
    kept.files_url = "http://files"
    shared = kept.add_file("codes.CSV", b"a,b")
    info = kept.answer("files.info", {"file": shared["id"]})["file"]
    assert info["filetype"] == "csv" and info["size"] == 3
    assert info["url_private_download"] == f"http://files/files/{shared['id']}/download/codes.CSV"
    assert kept.answer("files.info", {"file": "F0"})["error"] == "file_not_found"
    assert kept.answer("auth.test", {})["team_id"] == "T1"


def test_the_sandbox_draws_a_modal_as_a_note_to_its_user() -> None:
    workspace, answer = _sandbox()
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Add codes"}}
    assert answer("views.open", {"view": view, "trigger_id": "t"})["ok"]
    (note,) = workspace.in_channel()
    assert "“Add codes” form" in note["text"] and note["ephemeral_to"]


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeSlack, aiohttp.ClientSession]]:
    fake = FakeSlack()
    await fake.start()
    async with aiohttp.ClientSession() as session:
        yield fake, session
    await fake.stop()


async def test_calls_over_http_as_a_form_or_json(
    served: tuple[FakeSlack, aiohttp.ClientSession],
) -> None:
    fake, session = served
    form = {"channel": CHANNEL, "text": "hi", "blocks": '[{"type": "divider"}]', "token": "xoxb-1"}
    async with session.post(f"{fake.api_url}chat.postMessage", data=form) as response:
        ts = (await response.json())["ts"]
    assert fake.message(CHANNEL, ts).blocks[0]["type"] == "divider"
    (call,) = fake.of("chat.postMessage")
    assert call.token == "xoxb-1" and "token" not in call.args and call.result is not None
    headers = {"Content-Type": "application/json"}
    async with session.post(f"{fake.api_url}auth.test", data="{", headers=headers) as response:
        assert response.status == 400
        assert await response.json() == {"ok": False, "error": "invalid_arguments"}
