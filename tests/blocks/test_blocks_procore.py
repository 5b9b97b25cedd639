"""The Procore link's line in /costcodes status and in the digest: healthy or what is wrong."""

from __future__ import annotations

import dataclasses
from typing import Any

from blocks_samples import AT
from slack_limits import assert_within_limits

from blocks.digest import digest_message
from blocks.messages import status_message
from bot.costcodes.domain import State, StatusSummary
from bot.digests.views import DigestView
from bot.procore.view import ProcoreHealth

HEALTHY = ProcoreHealth(
    list_id=5,
    last_reconcile_at=AT,
    last_reconcile="40 read, 0 new",
    last_delivery_at=AT,
    writebacks_waiting=3,
    last_error=None,
    last_error_at=None,
)
BROKEN = dataclasses.replace(
    HEALTHY, last_error="reconcile: Procore answered GET x with 401: <refused>", last_error_at=AT
)
VIEW = DigestView(
    ready=2,
    missing_income=0,
    failed=0,
    oldest_wait=None,
    last_export=None,
    last_contact=AT,
    contact_stale=False,
)


def words(message: dict[str, Any]) -> str:
    parts = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(e.get("text", "") for e in block.get("elements", []))
    return "\n".join(parts)


def test_status_says_the_link_is_healthy() -> None:
    message = status_message(StatusSummary({State.READY: 1}, AT, procore=HEALTHY))
    assert_within_limits(message)
    assert ":white_check_mark: Procore link is healthy" in words(message)
    assert "write-backs waiting: 3" in message["text"]


def test_status_says_what_is_wrong_in_escaped_words() -> None:
    message = status_message(
        StatusSummary({}, None, procore=dataclasses.replace(BROKEN, held_back=2))
    )
    assert_within_limits(message)
    text = words(message)
    assert ":warning: Procore link has a problem: reconcile: Procore answered" in text
    assert "&lt;refused&gt;" in text and "<refused>" not in text
    assert "2 held back by a rule" in text


def test_status_without_the_link_says_nothing_of_procore() -> None:
    assert "Procore" not in words(status_message(StatusSummary({}, None)))


def test_a_link_that_never_read_the_list_is_not_called_healthy() -> None:
    waiting = dataclasses.replace(HEALTHY, last_reconcile_at=None)
    assert not waiting.healthy
    assert "has not read the cost code list yet" in words(
        status_message(StatusSummary({}, None, procore=waiting))
    )


def test_the_digest_carries_the_link_line_and_warns_in_its_text() -> None:
    healthy = digest_message(dataclasses.replace(VIEW, procore=HEALTHY))
    assert_within_limits(healthy)
    assert "Procore link is healthy" in words(healthy)
    assert "Procore" not in healthy["text"]
    broken = digest_message(dataclasses.replace(VIEW, procore=BROKEN))
    assert "Procore link has a problem" in broken["text"]
    assert "Procore" not in words(digest_message(VIEW))
