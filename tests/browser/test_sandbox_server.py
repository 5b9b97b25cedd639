"""The sandbox's routes in-process: the page's controls become signed Slack requests to the app."""

from __future__ import annotations

from sqlmodel import select

from bot.sandbox.slack_requests import signed_headers
from bot.sandbox.workspace import USER
from bot.store.models import CostCode, GLAccount
from tests.browser.sandbox_env import READY, Local


def _element(message: object, action_id: str, code: str | None = None) -> tuple[str, dict]:
    """(block_id, element) of the first `action_id`, or of the one in `code`'s row."""
    blocks = list(message.blocks)  # type: ignore[attr-defined]
    for index, block in enumerate(blocks):
        if code is not None and not (block.get("text") or {}).get("text", "").startswith(
            f"*{code}*"
        ):
            continue
        candidates = blocks[index : index + 2] if code is not None else [block]
        for candidate in candidates:
            for element in candidate.get("elements") or []:
                if element.get("action_id") == action_id:
                    return candidate["block_id"], element
    raise AssertionError(f"no {action_id}")


async def test_the_page_and_its_files_are_served(local: Local) -> None:
    page = await local.client.get("/sandbox")
    assert page.status == 200
    html = await page.text()
    assert "Connect Slack" in html and "Run Web Connector now" in html
    for name in ("sandbox.js", "blocks.js", "sandbox.css"):
        assert (await local.client.get(f"/sandbox/static/{name}")).status == 200
    assert (await local.client.get("/sandbox/static/../app.py")).status in (403, 404)
    state = await (await local.client.get("/sandbox/state")).json()
    assert state["messages"] == [] and state["quickbooks"]["accounts"] == 50


async def test_slash_command_posts_the_list_the_app_built(local: Local) -> None:
    answer = await local.command("/costcodes")
    assert answer["status"] == 200
    posted = await local.eventually(local.list_message)
    assert posted.text.startswith(f"Standard Cost Codes — Ready to Export ({READY})")
    elements = [e for b in posted.blocks for e in b.get("elements", [])]
    labels = [e["text"]["text"] for e in elements if e.get("type") == "button"]
    assert "Export Cost Codes" in labels and "Reject All" in labels
    assert local.sandbox.workspace.calls.count("chat.postMessage") == 1


async def test_status_and_help_are_shown_only_to_the_asker(local: Local) -> None:
    await local.command("/costcodes status")
    status = await local.eventually(lambda: [m for m in local.messages() if m.ephemeral_to])
    assert status[0].ephemeral_to == USER and "Cost codes by Export Status" in status[0].text
    await local.command("/costcodes nonsense")
    await local.eventually(lambda: len(local.messages()) == 2)
    assert all(m.ephemeral_to == USER for m in local.messages())


async def test_unsigned_or_wrongly_signed_requests_are_still_refused(local: Local) -> None:
    body = b"command=%2Fcostcodes&text=&user_id=U0SANDBOX&channel_id=C0SANDBOX"
    plain = await local.client.post("/slack/events", data=body)
    assert plain.status == 401
    forged = await local.client.post(
        "/slack/events", data=body, headers=signed_headers("not-the-secret", body)
    )
    assert forged.status == 401
    assert local.messages() == []


async def test_typing_in_a_picker_searches_and_a_pick_is_saved(local: Local) -> None:
    await local.command("/costcodes")
    posted = await local.eventually(local.list_message)
    block_id, _ = _element(posted, "pick-income", "01-100")
    where = {"ts": posted.ts, "block_id": block_id, "action_id": "pick-income"}
    status, options = await local.post("/sandbox/options", {**where, "value": "contract"})
    assert status == 200 and options["status"] == 200
    found = options["body"]["options"]
    assert [o["text"]["text"] for o in found] == [
        "4010 · Construction Income:Contract Revenue",  # income accounts first
        "5020 · Job Costs:Subcontractors",
    ]
    status, _ = await local.post("/sandbox/action", {**where, "selected_option": found[0]})
    assert status == 200

    async def saved() -> CostCode:
        async with local.services.sessions() as session:
            query = select(CostCode).where(CostCode.code == "01-100")
            return (await session.exec(query)).one()

    await local.eventually(lambda: posted.edited)
    code = await saved()
    async with local.services.sessions() as session:
        account = await session.get(GLAccount, code.income_account_id)
    assert account is not None and account.full_name == "Construction Income:Contract Revenue"


async def test_export_then_one_web_connector_update_makes_the_item(local: Local) -> None:
    idle = await local.post("/sandbox/webconnector", {})
    assert idle[0] == 200 and idle[1]["authenticate"] == ["none"]
    await local.command("/costcodes")
    posted = await local.eventually(local.list_message)
    block_id, _ = _element(posted, "pick-income", "01-100")
    where = {"ts": posted.ts, "block_id": block_id, "action_id": "pick-income"}
    _, options = await local.post("/sandbox/options", {**where, "value": "4010"})
    await local.post("/sandbox/action", {**where, "selected_option": options["body"]["options"][0]})
    await local.eventually(lambda: "Last change by" in str(posted.blocks))
    footer, _ = _element(posted, "export-codes")
    click = {"ts": posted.ts, "block_id": footer, "action_id": "export-codes"}
    assert (await local.post("/sandbox/action", click))[0] == 200
    await local.eventually(lambda: any(m.thread_ts == posted.ts for m in local.messages()))
    status, report = await local.post("/sandbox/webconnector", {})
    assert status == 200 and report["stopped"] == "done", report
    state = await (await local.client.get("/sandbox/state")).json()
    assert state["web_connector"] == report
    assert [i["name"] for i in state["quickbooks"]["items"]] == ["01-100"]
    item = state["quickbooks"]["items"][0]
    assert item["type"] == "Service" and item["income_account"].endswith("Contract Revenue")
    await local.eventually(lambda: any("Success" in m.text for m in local.messages()))
    final = next(m for m in local.messages() if "Success" in m.text)
    assert final.thread_ts == posted.ts and final.reply_broadcast
    shown = (await (await local.client.get("/sandbox/state")).json())["messages"]
    public = [m["ts"] for m in shown if not m["ephemeral_to"]]
    assert public == [posted.ts, final.ts]  # the broadcast reply shows in the channel
    assert final.ts in [r["ts"] for r in shown[0]["replies"]]  # and in the thread


async def test_the_page_cannot_send_what_the_channel_does_not_show(local: Local) -> None:
    assert (await local.post("/sandbox/command", {"text": "/other thing"}))[0] == 400
    bad = await local.client.post("/sandbox/command", data=b"not json")
    assert bad.status == 400
    assert (await local.post("/sandbox/command", ["a list"]))[0] == 400
    gone = {"ts": "1.000001", "block_id": "b", "action_id": "export-codes"}
    assert (await local.post("/sandbox/action", gone))[0] == 404
    assert (await local.post("/sandbox/options", {**gone, "value": ""}))[0] == 404
    await local.command("/costcodes")
    posted = await local.eventually(local.list_message)
    missing = {"ts": posted.ts, "block_id": "nope", "action_id": "export-codes"}
    assert (await local.post("/sandbox/action", missing))[0] == 404
    big = await local.client.post(
        "/sandbox/command", data=b"{" + b" " * 70_000 + b"}", headers={"Content-Type": "x"}
    )
    assert big.status == 413
