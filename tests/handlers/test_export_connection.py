"""Connection trouble as Slack shows it: the export's status reply says what is wrong and how to
fix it (never "failed"), `/costcodes status` carries the state, re-binding asks first, and a long
silence is said once in the export's channel."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot.accounts import chart
from bot.connection import service
from bot.sandbox.example_data import example_quickbooks
from bot.store import db
from bot.store.models import QbConnection, QbwcJob
from qbd.simulator import QuickBooksSimulator
from qbd.simulator.quickbooks import Fault
from tests.builders import codes
from tests.conftest import FakeClock
from tests.fakes.slack_api import Message
from tests.handlers.slack_driver import ADMIN, CHANNEL, SlackDriver, texts
from tests.handlers.test_export import (
    _ts,
    connector,
    exporting,
    later,
    thread_posts,
)

OTHER_FILE = r"C:\Users\Public\Documents\Intuit\QuickBooks\Sample Co.qbw"

HOLDS: dict[Fault, str] = {
    "closed": (
        "On hold (QuickBooks closed): QuickBooks is closed and could not start. Log in to Windows "
        "as the Web Connector's user and open the company file in QuickBooks"
    ),
    "dialog": (
        "On hold (dialog open in QuickBooks): A dialog is open in QuickBooks. On the QuickBooks "
        "computer, close the window or message open in QuickBooks"
    ),
    "rights": (
        "On hold (QuickBooks user lacks rights): This application has not been given access to "
        "the company file yet. As the QuickBooks Admin, open the company file"
    ),
    "mode": "On hold (error): QuickBooks has the company file open in a mode the Web Connector",
}


async def status_reply(slack: SlackDriver) -> Message:
    await later(slack)
    return slack.fake.message(CHANNEL, _ts(slack, 1))


@pytest.mark.parametrize("fault", list(HOLDS))
async def test_the_status_reply_says_what_holds_the_export(
    slack: SlackDriver, fault: Fault
) -> None:
    simulator = example_quickbooks()
    listing, _ = await exporting(slack)
    simulator.fault = fault
    await connector(slack, simulator).run_update()
    shown = await status_reply(slack)
    assert shown.text.startswith("Export of 1 cost code started by <@UADMIN1>")
    assert HOLDS[fault] in shown.text and HOLDS[fault] in texts(shown)
    assert "the export goes on at the next update" in shown.text
    assert "fail" not in shown.text.lower() and "fail" not in texts(shown).lower()
    assert (await codes(slack.services))["01-100"].state == "queued"
    assert len(thread_posts(slack, listing.ts)) == 1  # the same reply, edited

    simulator.fault = None
    assert (await connector(slack, simulator).run_update()).percents[-1] == 100
    shown = await status_reply(slack)
    assert shown.text == "Export of 1 cost code started by <@UADMIN1>: all done."
    assert thread_posts(slack, listing.ts)[-1]["text"].startswith("Success — 1 cost code")


async def test_connection_error_is_shown_and_cleared(slack: SlackDriver) -> None:
    simulator = example_quickbooks()
    await exporting(slack)
    wc = connector(slack, simulator)
    wc.lose_next_response = True
    await wc.run_update()
    shown = await status_reply(slack)
    assert "On hold (error)" in shown.text and "fail" not in shown.text.lower()
    await wc.run_update()
    shown = await status_reply(slack)
    assert shown.text == "Export of 1 cost code started by <@UADMIN1>: all done."


def _other_company() -> QuickBooksSimulator:
    other = QuickBooksSimulator(company_file=OTHER_FILE, company_name="Sample Construction Co")
    other.add_account("Sample Income", "Income", number="4900")
    return other


async def _bound_to_northwind(slack: SlackDriver, simulator: QuickBooksSimulator) -> None:
    """A GL account sync from Northwind: its file is the one the chart came from."""
    async with db.session_scope(slack.services.sessions) as session:
        await chart.queue_sync(session, requested_by=ADMIN)
    assert (await connector(slack, simulator).run_update()).percents[-1] == 100


async def test_another_company_file_holds_the_export_and_names_both(slack: SlackDriver) -> None:
    simulator, other = example_quickbooks(), _other_company()
    await _bound_to_northwind(slack, simulator)
    await exporting(slack)
    report = await connector(slack, other).run_update()
    assert other.messages == [] and other.items == []
    assert report.last_error is not None and "Sample Construction Co" in report.last_error
    shown = await status_reply(slack)
    assert (
        "On hold (wrong company file): QuickBooks has Sample Construction Co "
        "(C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\Sample Co.qbw) open, but the cost "
        "codes belong to Northwind Builders (C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\"
        "Northwind.qbw). Open Northwind Builders"
    ) in shown.text
    assert "fail" not in shown.text.lower()

    await slack.command("status")
    status = slack.fake.responses[-1]
    assert (
        "QuickBooks: wrong company file — QuickBooks has Sample Construction Co" in status["text"]
    )
    assert ":warning: *QuickBooks: wrong company file*" in texts(status)

    assert (await connector(slack, simulator).run_update()).percents[-1] == 100
    assert (await codes(slack.services))["01-100"].state == "success"
    assert other.items == [] and len(simulator.items) == 1


def _ephemeral_message(args: dict[str, Any]) -> Message:
    return Message(channel=CHANNEL, ts="9.9", text=args["text"], blocks=args["blocks"])


async def test_accounts_sync_from_another_file_asks_then_rebinds(slack: SlackDriver) -> None:
    simulator, other = example_quickbooks(), _other_company()
    await _bound_to_northwind(slack, simulator)
    await exporting(slack)
    await connector(slack, other).run_update()  # the Web Connector now has another file open
    assert other.messages == []

    await slack.command("accounts sync")
    ask = slack.ephemerals(ADMIN)[-1]  # (the first: codes Export left behind)
    assert ask["text"].startswith(
        "The GL accounts came from Northwind Builders (C:\\Users\\Public\\Documents\\Intuit\\"
        "QuickBooks\\Northwind.qbw), but the QuickBooks Web Connector last had Sample "
        "Construction Co"
    )
    button = ask["blocks"][1]["elements"][0]
    assert button["confirm"]["confirm"]["text"] == "Re-bind"
    async with slack.services.sessions() as session:
        jobs = (await session.exec(select(QbwcJob))).all()
    assert [job.state for job in jobs] == ["done"]  # Northwind's; nothing new queued yet

    await slack.click(_ephemeral_message(ask), "accounts-rebind")
    request = slack.last_posted()
    assert "re-binding to Sample Construction Co" in request.text
    report = await connector(slack, other).run_update()
    assert report.percents == [50] and report.stopped == "no_request"  # the code was held back
    async with slack.services.sessions() as session:
        row = await session.get(QbConnection, service.ROW_ID)
    assert row is not None and row.bound_company == "Sample Construction Co"
    (done,) = thread_posts(slack, request.ts)
    assert done["text"].startswith("GL accounts refreshed from QuickBooks: 1 new account")
    # The queued code's account is not in the new file's chart: held back, never sent.
    assert [m for m in other.messages if "ItemServiceAdd" in m] == [] and other.items == []
    code = (await codes(slack.services))["01-100"]
    assert code.state == "failed"
    assert code.last_error == (
        "held back: the GL Account – Income Construction Income is inactive or gone in "
        "QuickBooks' chart of accounts — pick another"
    )


async def test_a_silent_web_connector_is_said_once_in_the_export_channel(
    slack: SlackDriver,
) -> None:
    listing, reporter = await exporting(slack)
    clock = slack.services.clock
    assert isinstance(clock, FakeClock)
    clock.advance(hours=1)
    await reporter.tick()
    assert not [p for p in thread_posts(slack, listing.ts) if "has not called in" in p["text"]]
    clock.advance(hours=1, minutes=1)
    await reporter.tick()
    await reporter.tick()
    silent = [p for p in thread_posts(slack, listing.ts) if "has not called in" in p["text"]]
    assert len(silent) == 1
    assert silent[0]["text"].startswith(
        "The QuickBooks Web Connector has not called in for over 2 hours, so this export waits."
    )
    assert silent[0]["reply_broadcast"] is True
    assert "the Windows user it runs as is logged in" in texts(silent[0])
