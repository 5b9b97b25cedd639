"""Export from Slack end to end: picks, Export, Web Connector updates, threaded status, Retry."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlmodel import select

from bot.export.replies import ExportReporter
from bot.sandbox.example_data import example_quickbooks
from bot.server import QBWC
from bot.store.models import GLAccount
from qbd.simulator import QuickBooksSimulator, WebConnectorSimulator
from tests.builders import codes, web_connector
from tests.conftest import FakeClock
from tests.fakes.slack_api import Message
from tests.handlers.conftest import MakeDriver, slack_parts
from tests.handlers.slack_driver import (
    ADMIN,
    CHANNEL,
    OTHER,
    SlackDriver,
    elements,
    row_block_id,
    texts,
)

INCOME = "4000"  # Construction Income
EXPENSE = "5020"  # Job Costs:Subcontractors


def action_ids(message: Message) -> set[str]:
    return {str(element["action_id"]) for _, element in elements(message)}


def option_labels(answer: dict[str, Any]) -> list[str]:
    return [str(option["text"]["text"]) for option in answer["options"]]


def connector(slack: SlackDriver, simulator: QuickBooksSimulator) -> WebConnectorSimulator:
    return web_connector(str(slack.client.make_url("/qbwc")), simulator)


async def account_id(slack: SlackDriver, number: str) -> str:
    async with slack.services.sessions() as session:
        found = (await session.exec(select(GLAccount).where(GLAccount.number == number))).one()
    return str(found.id)


async def pick(slack: SlackDriver, code: str, number: str, action: str = "pick-income") -> None:
    message = slack.posted()[0]
    await slack.click(
        message,
        action,
        block_id=row_block_id(message, code),
        option=await account_id(slack, number),
    )


def thread_posts(slack: SlackDriver, thread_ts: str) -> list[dict[str, Any]]:
    return [
        c.args for c in slack.fake.of("chat.postMessage") if c.args.get("thread_ts") == thread_ts
    ]


def _ts(slack: SlackDriver, index: int) -> str:
    result = slack.fake.of("chat.postMessage")[index].result
    assert result is not None
    return str(result["ts"])


async def exporting(slack: SlackDriver) -> tuple[Message, ExportReporter]:
    """The list posted, 01-100 given its Income account, Export clicked; the list and reporter."""
    await slack.command()
    await pick(slack, "01-100", INCOME)
    listing = slack.posted()[0]
    await slack.click(listing, "export-codes")
    return listing, slack_parts(slack).reporter


async def later(slack: SlackDriver, seconds: float = 1.5) -> None:
    """Let Slack's one-update-a-second limit pass on the fake clock, then refresh."""
    clock = slack.services.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds=seconds)
    await slack.flush()


async def test_export_from_slack_ends_at_success_in_the_thread(slack: SlackDriver) -> None:
    simulator = example_quickbooks()
    await slack.command()
    await pick(slack, "01-100", INCOME)
    await pick(slack, "01-200", INCOME)
    await pick(slack, "01-200", EXPENSE, "pick-expense")
    listing = slack.posted()[0]
    await slack.click(slack.posted()[0], "export-codes")

    (status,) = thread_posts(slack, listing.ts)
    assert status["text"].startswith("Export of 2 cost codes started by <@UADMIN1> — waiting for")
    assert "(no contact yet)" in status["text"]
    (held,) = slack.ephemerals(ADMIN)
    assert held["text"] == "141 cost codes stay in Ready to Export:"
    assert "*01-300* — no GL Account – Income picked" in texts(held)
    listed = slack.fake.message(CHANNEL, listing.ts)
    assert "Export started by <@UADMIN1>" in texts(listed)
    assert "export-codes" not in action_ids(listed)

    report = await connector(slack, simulator).run_update()
    assert report.percents[-1] == 100
    await later(slack)
    status_message = slack.fake.message(CHANNEL, _ts(slack, 1))
    assert status_message.text == "Export of 2 cost codes started by <@UADMIN1>: all done."
    final = thread_posts(slack, listing.ts)[-1]
    assert final["text"] == "Success — 2 cost codes are now Service items in QuickBooks"
    assert final["reply_broadcast"] is True
    relisted = slack.fake.message(CHANNEL, listing.ts)
    assert "export-codes" in action_ids(relisted) and "Export started by" not in texts(relisted)
    # The copy the export ran from keeps its codes, each reading Success (DESIGN §6) ...
    shown = texts(relisted)
    assert "*01-100* Project supervision · Cost type: Other · Export Status: Success" in shown
    assert "*01-200* Site office trailer · Cost type: Other · Export Status: Success" in shown
    assert "Exported from this list: 2 exported, 0 waiting" in shown
    # ... while a fresh /costcodes shows only the codes that are not synced yet.
    await slack.command()
    fresh = texts(slack.last_posted())
    assert "*01-100* " not in fresh and "*01-300* " in fresh
    assert "Exported from this list" not in fresh
    stored = await codes(slack.services)
    assert stored["01-100"].state == "success" and stored["01-200"].state == "success"
    both = simulator.service_items_named("01-200")[0]
    assert (both.income_account_list_id, both.expense_account_list_id) == (
        "80000001-1234567890",
        "8000000F-1234567890",
    )


async def test_progress_is_edited_in_place(slack: SlackDriver) -> None:
    await slack.command()
    await pick(slack, "01-100", INCOME)
    await slack.click(slack.posted()[0], "export-codes")
    (status_call,) = thread_posts(slack, slack.posted()[0].ts)
    backend = slack.client.app[QBWC]
    ticket, _ = await backend.authenticate("costcodes", "test-password")
    await backend.send_request(ticket, "", "", "US", 13, 0)
    await later(slack)
    status = [m for m in slack.posted() if m.text.startswith("Exporting…")]
    assert [m.text for m in status] == ["Exporting… 0 of 1 (started by <@UADMIN1>)"]
    assert "Export Status: Exporting" in texts(slack.posted()[0])
    assert status_call["thread_ts"] == slack.posted()[0].ts


async def test_partial_failure_reasons_retry_then_success(slack: SlackDriver) -> None:
    simulator = example_quickbooks()
    simulator.add_item("01-100", "ItemInventory")
    simulator.accounts = [a for a in simulator.accounts if a.number != "4010"]
    await slack.command()
    for code in ("01-100", "01-200", "01-300"):
        await pick(slack, code, INCOME)
    await pick(slack, "01-200", "4010")  # Contract Revenue: gone from QuickBooks
    listing = slack.posted()[0]
    await slack.click(listing, "export-codes")
    await connector(slack, simulator).run_update()
    await later(slack)
    final = thread_posts(slack, listing.ts)[-1]
    assert final["text"].startswith("1 succeeded, 2 failed: 01-100: QuickBooks already has an item")
    body = texts(final)
    assert "*01-200* — Failed: the GL account" in body and "no longer exists in QuickBooks" in body
    final_message = slack.fake.message(CHANNEL, _ts(slack, -1))

    await slack.command("review failed")
    failed_list = slack.last_posted()
    assert "Failed: QuickBooks already has an item named" in texts(failed_list)
    # The finance team renames the inventory item in QuickBooks and picks another account.
    for item in simulator._items:  # the simulator's own list: what QuickBooks holds
        if item.name == "01-100":
            item.name = "01-100-OLD"
    await slack.click(
        failed_list,
        "pick-income",
        block_id=row_block_id(failed_list, "01-200"),
        option=await account_id(slack, "4020"),
    )
    await slack.click(final_message, "retry-failed")
    retry_status = thread_posts(slack, listing.ts)[-1]
    assert retry_status["text"].startswith("Export of 2 cost codes started by <@UADMIN1>")
    await connector(slack, simulator).run_update()
    await later(slack)
    assert thread_posts(slack, listing.ts)[-1]["text"] == (
        "Success — 2 cost codes are now Service items in QuickBooks"
    )
    assert {
        c.state
        for k, c in (await codes(slack.services)).items()
        if k in ("01-100", "01-200", "01-300")
    } == {"success"}


async def test_second_click_while_running_says_who_started_it(make_driver: MakeDriver) -> None:
    slack = await make_driver(erp_admins=f"{ADMIN},{OTHER}")
    await slack.command()
    await pick(slack, "01-100", INCOME)
    listing = slack.posted()[0]
    stale_copy = copy.deepcopy(listing)  # what a second person's screen still shows
    await slack.click(listing, "export-codes")
    await slack.click(stale_copy, "export-codes", user=OTHER)
    (busy,) = slack.ephemerals(OTHER)
    assert busy["text"].startswith("An export is already running, started by <@UADMIN1> at <!date^")
    assert len(thread_posts(slack, listing.ts)) == 1


async def test_nothing_to_export_says_why(slack: SlackDriver) -> None:
    await slack.command()
    await slack.click(slack.posted()[0], "export-codes")
    (reply,) = slack.ephemerals(ADMIN)
    assert reply["text"].startswith("Nothing was exported")
    assert thread_posts(slack, slack.posted()[0].ts) == []


async def test_lost_response_mid_export_no_duplicate(slack: SlackDriver) -> None:
    simulator = example_quickbooks()
    await slack.command()
    await pick(slack, "01-100", INCOME)
    await slack.click(slack.posted()[0], "export-codes")
    wc = connector(slack, simulator)
    wc.lose_next_response = True
    await wc.run_update()
    await wc.run_update()
    await later(slack)
    assert len(simulator.service_items_named("01-100")) == 1
    assert thread_posts(slack, slack.posted()[0].ts)[-1]["text"].startswith("Success — 1 cost code")


async def test_rate_limited_updates_still_end_right(slack: SlackDriver) -> None:
    simulator = example_quickbooks()
    await slack.command()
    await pick(slack, "01-100", INCOME)
    await slack.click(slack.posted()[0], "export-codes")
    await connector(slack, simulator).run_update()
    slack.fake.rate_limit(next_calls=3, retry_after=1)
    for _ in range(4):
        await later(slack, 2)
    status = [m for m in slack.posted() if "started by <@UADMIN1>" in m.text]
    assert [m.text for m in status] == ["Export of 1 cost code started by <@UADMIN1>: all done."]
    assert "export-codes" in action_ids(slack.posted()[0])


async def test_stale_export_is_reported_once(slack: SlackDriver) -> None:
    listing, reporter = await exporting(slack)
    clock = slack.services.clock
    assert isinstance(clock, FakeClock)
    clock.advance(minutes=14)
    await reporter.check_stale()
    assert len(thread_posts(slack, listing.ts)) == 1
    clock.advance(minutes=2)
    await reporter.check_stale()
    await reporter.check_stale()
    replies = thread_posts(slack, listing.ts)
    assert len(replies) == 2
    assert "has not picked up this export in 15 minutes" in replies[-1]["text"]
    assert "Windows user it runs as is logged in" in texts(replies[-1])


async def test_accounts_sync_replies_in_its_thread(slack: SlackDriver) -> None:
    simulator = example_quickbooks()
    simulator.add_account("Job Costs:Drone Surveys", "CostOfGoodsSold", number="5110")
    assert option_labels(await slack.options("pick-expense", "drone")) == ["— none —"]
    await slack.command("accounts sync")
    request = slack.last_posted()
    assert request.text.startswith("GL account refresh requested by <@UADMIN1>")
    await slack.command("accounts sync")
    assert slack.ephemerals(ADMIN)[-1]["text"].startswith("A GL account refresh is already waiting")
    await connector(slack, simulator).run_update()
    (done,) = thread_posts(slack, request.ts)
    assert done["text"] == (
        "GL accounts refreshed from QuickBooks: 1 new account, 0 changed, 0 made inactive."
    )
    # By the time the reply says so, the pickers already offer the new account.
    assert option_labels(await slack.options("pick-expense", "drone")) == [
        "— none —",
        "5110 · Job Costs:Drone Surveys",
    ]


async def test_a_sync_reply_goes_out_even_if_getting_ready_for_it_fails(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    reporter = slack_parts(slack).reporter
    ran: list[str] = []

    async def broken() -> None:
        ran.append("broken")
        raise OSError("disk full")

    reporter.before_sync_reply(broken)
    await slack.command("accounts sync")
    request = slack.last_posted()
    await connector(slack, example_quickbooks()).run_update()
    (done,) = thread_posts(slack, request.ts)
    assert done["text"].startswith("GL accounts refreshed from QuickBooks")
    assert ran == ["broken"]
    assert "could not prepare for a GL account sync reply" in caplog.text


async def test_a_final_reply_lost_to_a_crash_is_posted_by_the_next_tick(slack: SlackDriver) -> None:
    simulator = example_quickbooks()
    listing, reporter = await exporting(slack)
    backend = slack.client.app[QBWC]
    backend.listeners.clear()  # the process dies after committing QuickBooks' answer
    await connector(slack, simulator).run_update()
    assert thread_posts(slack, listing.ts)[-1]["text"].startswith("Export of 1 cost code")
    await reporter.tick()
    await reporter.tick()
    finals = [p for p in thread_posts(slack, listing.ts) if p["text"].startswith("Success")]
    assert len(finals) == 1
