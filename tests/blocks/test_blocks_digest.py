"""The reminder digest and the /costcodes digest replies: words, the Review button, limits."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from blocks_samples import AT
from slack_limits import assert_within_limits

from blocks.digest import digest_message, digest_reply, wait_text
from blocks.ids import ActionId, ListRef
from bot.costcodes.domain import ListFilter
from bot.digests.views import DigestAction, DigestOutcome, DigestView, LastExport, ScheduleView

Snapshot = Callable[[str, Any], None]
BUSY = DigestView(
    ready=37,
    missing_income=5,
    failed=2,
    oldest_wait=timedelta(days=12, hours=3),
    last_export=LastExport(AT, "U0EXPORT", 12),
    last_contact=AT,
    contact_stale=False,
)
SCHEDULE = ScheduleView("C1", "weekdays at 9:00", "UTC", True, AT + timedelta(days=1))


def words(message: dict[str, Any]) -> str:
    parts = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(e.get("text", "") for e in block.get("elements", []))
    return "\n".join(parts)


def test_digest_with_codes_waiting(snapshot: Snapshot) -> None:
    message = digest_message(BUSY)
    snapshot("digest_waiting", message)
    assert_within_limits(message)
    assert message["text"] == (
        "Cost code digest: 37 Ready to Export (5 without a GL Account – Income), "
        "2 Failed to Export."
    )
    body = words(message)
    assert "*37* Ready to Export — 5 still without a GL Account – Income" in body
    assert "*2* Failed to Export" in body and "Oldest in Ready to Export: 12 days" in body
    assert "Last export: 12 codes by <@U0EXPORT>, <!date^1714987800^" in body
    assert "QuickBooks Web Connector last contact: <!date^1714987800^" in body
    assert "Warning" not in body
    review = message["blocks"][0]["accessory"]
    assert (review["action_id"], review["text"]["text"]) == (ActionId.REVIEW, "Review")
    assert ListRef.decode(review["value"]) == ListRef(ListFilter.READY)


def test_the_review_button_points_to_failed_when_nothing_is_ready() -> None:
    message = digest_message(_replace(ready=0, missing_income=0))
    review = message["blocks"][0]["accessory"]
    assert ListRef.decode(review["value"]) == ListRef(ListFilter.FAILED)
    assert "Oldest" not in words(message)


def test_nothing_waiting_and_a_web_connector_never_heard_from(snapshot: Snapshot) -> None:
    view = _replace(ready=0, missing_income=0, failed=0, oldest_wait=None, last_export=None)
    message = digest_message(_stale(view, contact=None))
    snapshot("digest_nothing_waits", message)
    assert_within_limits(message)
    assert message["text"] == (
        "Cost code digest: nothing waits (no cost codes Ready to Export or Failed to Export). "
        "Warning: the QuickBooks Web Connector has never called in, so exports wait until it "
        "is set up."
    )
    assert "accessory" not in message["blocks"][0]
    assert "No export has reached QuickBooks yet." in words(message)


def test_a_silent_web_connector_is_a_warning_in_words_not_colour() -> None:
    message = digest_message(_stale(BUSY, contact=AT))
    body = words(message)
    assert (
        ":warning: *Warning:* The QuickBooks Web Connector has not called in since <!date^" in body
    )
    assert "Warning: the QuickBooks Web Connector has not called in since" in message["text"]


def test_an_export_from_the_cli_names_the_operator_plainly() -> None:
    message = digest_message(_replace(last_export=LastExport(AT, "cli:<ann>", 1)))
    assert "Last export: 1 code by cli:&lt;ann&gt;," in words(message)


@pytest.mark.parametrize(
    ("wait", "text"),
    [
        (timedelta(minutes=59), "under an hour"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=47, minutes=59), "47 hours"),
        (timedelta(days=2), "2 days"),
        (timedelta(days=400), "400 days"),
    ],
)
def test_wait_text(wait: timedelta, text: str) -> None:
    assert wait_text(wait) == text


def test_set_reply(snapshot: Snapshot) -> None:
    message = digest_reply(DigestOutcome(DigestAction.SET, SCHEDULE))
    assert message is not None
    snapshot("digest_set", message)
    assert_within_limits(message)
    assert message["response_type"] == "ephemeral"
    assert message["text"].startswith(
        "Digest set: weekdays at 9:00 (UTC). Next: <!date^1715074200^"
    )
    assert message["text"].endswith("When nothing waits, no digest is posted.")


def test_show_off_and_none_replies() -> None:
    shown = digest_reply(DigestOutcome(DigestAction.SHOW, SCHEDULE, changed=False))
    assert shown is not None and shown["text"].startswith("This channel's digest: weekdays")
    off = digest_reply(DigestOutcome(DigestAction.OFF, _off(SCHEDULE)))
    assert off is not None and off["text"].startswith(
        "Digest off: no more scheduled digests in this channel (it was weekdays at 9:00, UTC)."
    )
    for outcome in (
        DigestOutcome(DigestAction.OFF, None, changed=False),
        DigestOutcome(DigestAction.OFF, _off(SCHEDULE), changed=False),
    ):
        unchanged = digest_reply(outcome)
        assert unchanged is not None
        assert unchanged["text"] == "This channel has no scheduled digest; nothing was changed."
    for schedule in (None, _off(SCHEDULE)):
        none = digest_reply(DigestOutcome(DigestAction.SHOW, schedule, changed=False))
        assert none is not None and none["response_type"] == "ephemeral"
        assert none["text"].startswith("This channel has no scheduled digest. Set one with")
        assert "`/costcodes digest weekdays 9:00`" in none["text"]
    assert digest_reply(DigestOutcome(DigestAction.NOW)) is None  # the digest itself answers


def _replace(**changes: Any) -> DigestView:
    return dataclasses.replace(BUSY, **changes)


def _off(schedule: ScheduleView) -> ScheduleView:
    return dataclasses.replace(schedule, enabled=False, next_at=None)


def _stale(view: DigestView, *, contact: Any) -> DigestView:
    return dataclasses.replace(view, last_contact=contact, contact_stale=True)
