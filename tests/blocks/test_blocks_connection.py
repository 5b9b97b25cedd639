"""Connection trouble in Slack's words: the status reply, /costcodes status, the digest, re-bind."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_limits import assert_within_limits
from test_blocks_export import progress

from blocks.accounts import rebind_confirm_message, rebind_requested_message
from blocks.digest import digest_message
from blocks.export import hold_text, silence_message, status_message
from blocks.messages import status_message as costcodes_status
from bot.connection.words import ConnectionState, ConnectionView
from bot.costcodes.domain import State, StatusSummary
from bot.digests.views import DigestView
from qbd.companyfile import CompanyFile

NORTHWIND = CompanyFile(r"C:\QB\Northwind.qbw", "Northwind <Builders> & Co")
OTHER = CompanyFile(r"C:\QB\Other.qbw", "Other Co")
AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_the_status_reply_shows_the_hold_and_never_says_failed() -> None:
    view = ConnectionView(
        ConnectionState.WRONG_FILE, since=AT, open_file=OTHER, expected_file=NORTHWIND
    )
    message = status_message(progress(picked_up=True, succeeded=3, connection=view))
    assert message["text"].startswith("Exporting… 3 of 12 (started by <@UANN>). On hold (wrong")
    assert "Northwind &lt;Builders&gt; &amp; Co" in message["blocks"][1]["text"]["text"]
    assert "fail" not in message["text"].lower()
    assert_within_limits(message)


def test_no_hold_when_fine_waiting_or_finished() -> None:
    assert hold_text(None) is None
    assert hold_text(ConnectionView(ConnectionState.OK)) is None
    assert hold_text(ConnectionView(ConnectionState.WAITING, message="has not called in")) is None
    dialog = ConnectionView(ConnectionState.DIALOG, message="a dialog is open in QuickBooks")
    finished = status_message(progress(finished=True, succeeded=12, connection=dialog))
    assert len(finished["blocks"]) == 1 and "On hold" not in finished["text"]


def test_costcodes_status_carries_the_connection() -> None:
    counts = dict.fromkeys(State, 0)
    dialog = ConnectionView(ConnectionState.DIALOG, message="a dialog is open in QuickBooks")
    message = costcodes_status(StatusSummary(counts, AT, connection=dialog))
    assert (
        "QuickBooks: dialog open in QuickBooks — A dialog is open in QuickBooks."
        in (message["text"])
    )
    ok = costcodes_status(StatusSummary(counts, AT, connection=ConnectionView(ConnectionState.OK)))
    assert ok["blocks"][-1]["text"]["text"].startswith(":white_check_mark: *QuickBooks: connected")
    assert_within_limits(message)


def test_the_digest_warns_of_trouble_but_not_twice_of_silence() -> None:
    closed = ConnectionView(ConnectionState.QUICKBOOKS_CLOSED, message="QuickBooks is closed")
    view = DigestView(3, 0, 0, None, None, AT, contact_stale=False, connection=closed)
    message = digest_message(view)
    assert "*QuickBooks: QuickBooks closed* — QuickBooks is closed." in message["text"]
    assert_within_limits(message)
    waiting = ConnectionView(ConnectionState.WAITING, message="has not called in yet")
    quiet = digest_message(DigestView(3, 0, 0, None, None, None, True, connection=waiting))
    assert "*QuickBooks:" not in quiet["text"]


def test_the_silence_notice_says_what_to_check() -> None:
    message = silence_message(2, AT)
    assert message["text"].startswith(
        "The QuickBooks Web Connector has not called in for over 2 hours (last contact <!date^"
    )
    assert "QuickBooks is open with the company file" in message["blocks"][1]["text"]["text"]
    assert silence_message(1, None)["text"].startswith("The QuickBooks Web Connector has not ")
    assert "over 1 hour," in silence_message(1, None)["text"]


def test_the_rebind_question_fits_slack_and_names_both_files() -> None:
    long = CompanyFile("C:\\" + "x" * 250 + ".qbw", "Y" * 100)
    message = rebind_confirm_message(NORTHWIND, long)
    assert_within_limits(message)
    assert message["response_type"] == "ephemeral"
    button = message["blocks"][1]["elements"][0]
    assert CompanyFile.decode(button["value"]) == long
    assert "Northwind &lt;Builders&gt;" in message["text"]
    assert_within_limits(rebind_requested_message("UANN", OTHER))
