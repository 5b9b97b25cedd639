"""Quick hands: every pick Slack accepted is seen by what follows; no click's render is lost."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlmodel import col, select

from blocks.ids import ActionId, ListRef, code_block_id
from bot.costcodes.domain import ListFilter
from bot.store.models import CostCode, ExportBatch, GLAccount
from tests.fakes.slack_api import Message
from tests.handlers.slack_driver import ADMIN, OTHER, SlackDriver, elements, texts
from tests.statements import statements_sent


async def _codes(slack: SlackDriver, limit: int) -> list[CostCode]:
    async with slack.services.sessions() as session:
        found = await session.exec(select(CostCode).order_by(col(CostCode.code)).limit(limit))
        return list(found.all())


async def _income_account(slack: SlackDriver) -> int:
    async with slack.services.sessions() as session:
        account = (await session.exec(select(GLAccount).where(GLAccount.number == "4010"))).one()
    assert account.id is not None
    return account.id


def _pick_body(
    slack: SlackDriver, message: Message, code: CostCode, account: int, action: str
) -> bytes:
    assert code.id is not None
    picked = {
        "action_id": action,
        "block_id": code_block_id(code.id, code.version, 1),
        "type": "external_select",
        "action_ts": f"{time.time():.6f}",
        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": str(account)},
    }
    return slack._payload(message, ADMIN, picked)


def _page_body(slack: SlackDriver, message: Message, page: int, user: str) -> bytes:
    turn = {
        "action_id": ActionId.PAGE_NEXT.value,
        "block_id": "pager:1",
        "type": "button",
        "value": ListRef(ListFilter.READY, page).encode(),
        "action_ts": f"{time.time():.6f}",
    }
    return slack._payload(message, user, turn)


async def test_thirty_picks_then_export_at_once_exports_all_thirty(slack: SlackDriver) -> None:
    await slack.command()
    message = slack.last_posted()
    account = await _income_account(slack)
    picked = await _codes(slack, 30)
    bodies = [_pick_body(slack, message, code, account, "pick-income") for code in picked]

    # Thirty picks in flight at once; Export is clicked the moment the last one is acknowledged.
    answers = await asyncio.gather(*(slack.send(body) for body in bodies))
    assert [status for status, _ in answers] == [200] * 30
    await slack.click(message, "export-codes")

    async with slack.services.sessions() as session:
        (batch,) = (await session.exec(select(ExportBatch))).all()
        queued = (
            await session.exec(select(CostCode.code).where(CostCode.export_batch_id == batch.id))
        ).all()
    assert batch.total == 30
    assert sorted(queued) == sorted(code.code for code in picked)
    (held,) = slack.ephemerals(ADMIN)
    assert held["text"] == "113 cost codes stay in Ready to Export:"
    assert not any(f"*{code.code}* — no GL Account" in texts(held) for code in picked)


async def test_income_and_expense_picked_at_once_on_one_row_are_both_saved(
    slack: SlackDriver,
) -> None:
    await slack.command()
    message = slack.last_posted()
    account = await _income_account(slack)
    (code,) = await _codes(slack, 1)
    both = [
        _pick_body(slack, message, code, account, "pick-income"),
        _pick_body(slack, message, code, account, "pick-expense"),
    ]
    answers = await asyncio.gather(*(slack.send(body) for body in both))
    assert [status for status, _ in answers] == [200, 200]
    await slack.settle()
    async with slack.services.sessions() as session:
        stored = await session.get(CostCode, code.id)
    assert stored is not None
    assert (stored.income_account_id, stored.expense_account_id) == (account, account)
    assert stored.version == 3
    assert not slack.ephemerals()


def _shown_page(blocks: list[dict[str, Any]]) -> int:
    """The page a rendering shows, from its header's block_id `list:<filter>:<page>:<version>`."""
    return int(str(blocks[0]["block_id"]).split(":")[2])


async def test_page_turns_amid_picks_and_refreshes_end_on_the_last_click(
    slack: SlackDriver,
) -> None:
    await slack.command(user=OTHER)
    turned = slack.last_posted()
    await slack.command()
    picked_on = slack.last_posted()
    account = await _income_account(slack)
    codes = await _codes(slack, 10)
    stop = asyncio.Event()

    async def background_refreshes() -> None:
        while not stop.is_set():
            slack.services.clock.advance(seconds=2)  # type: ignore[attr-defined]
            await slack.flush()
            await asyncio.sleep(0)

    async def picks() -> None:
        for code in codes:
            await slack.send(_pick_body(slack, picked_on, code, account, "pick-income"))

    async def page_turns() -> None:
        # Each click is acknowledged before the next; none waits for its rendering.
        for page in range(1, 15):
            status, _ = await slack.send(_page_body(slack, turned, page, OTHER))
            assert status == 200

    refreshing = asyncio.create_task(background_refreshes())
    await asyncio.gather(picks(), page_turns())
    await slack.settle()
    stop.set()
    await refreshing
    slack.services.clock.advance(seconds=2)  # type: ignore[attr-defined]
    await slack.flush()

    assert "Page 15 of 15" in texts(turned)
    shown = [
        _shown_page(call.args["blocks"])
        for call in slack.fake.of("chat.update")
        if call.args["ts"] == turned.ts
    ]
    assert shown[-1] == 14
    assert shown == sorted(shown), shown  # never an older page after a newer one
    assert not slack.ephemerals()


async def test_copies_turned_at_the_same_moment_each_show_the_page_asked_for(
    slack: SlackDriver,
) -> None:
    copies = []
    for _ in range(6):  # six people, each with their own copy of the list
        await slack.command()
        copies.append(slack.last_posted())
    bodies = [_page_body(slack, copy, n + 1, ADMIN) for n, copy in enumerate(copies)]

    answers = await asyncio.gather(*(slack.send(body) for body in bodies))
    await slack.settle()

    assert [status for status, _ in answers] == [200] * 6
    for n, copy in enumerate(copies):
        assert f"Page {n + 2} of " in texts(copy), n
    assert not slack.ephemerals()


async def test_copies_on_one_page_show_every_pick_made_at_once_from_fewer_reads(
    slack: SlackDriver,
) -> None:
    copies = []
    for _ in range(6):  # six people on the same first page, each with their own copy
        await slack.command()
        copies.append(slack.last_posted())
    account = await _income_account(slack)
    codes = await _codes(slack, 6)
    bodies = [
        _pick_body(slack, copy, code, account, "pick-income")
        for copy, code in zip(copies, codes, strict=True)
    ]
    with statements_sent() as sent:
        answers = await asyncio.gather(*(slack.send(body) for body in bodies))
        await slack.settle()
        slack.services.clock.advance(seconds=2)  # type: ignore[attr-defined]
        while await slack.flush():  # the copies nobody clicked: the background pass
            slack.services.clock.advance(seconds=2)  # type: ignore[attr-defined]
    page_reads = [s for s in sent if "FROM cost_code" in s and "LIMIT" in s and "ORDER BY" in s]

    assert [status for status, _ in answers] == [200] * 6
    for n, copy in enumerate(copies):
        picked = [
            element
            for _, element in elements(copy)
            if element.get("action_id") == "pick-income"
            and (element.get("initial_option") or {}).get("value") == str(account)
        ]
        assert len(picked) == 6, n  # each copy shows all six picks
    renders = sum(copy.updates for copy in copies)
    assert 0 < len(page_reads) < renders, (len(page_reads), renders)
    assert not slack.ephemerals()
