"""Help, status, error and refusal replies: words, ephemerality and limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from blocks_samples import AT
from slack_limits import assert_within_limits

from blocks.messages import (
    error_message,
    help_message,
    not_permitted_message,
    status_message,
)
from bot.costcodes.domain import State, StatusSummary

Snapshot = Callable[[str, Any], None]


def body(message: dict[str, Any]) -> str:
    parts = []
    for block in message["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(e.get("text", "") for e in block.get("elements", []))
    return "\n".join(parts)


def test_help(snapshot: Snapshot) -> None:
    message = help_message()
    snapshot("help", message)
    assert_within_limits(message)
    assert message["response_type"] == "ephemeral"
    words = body(message)
    for usage in (
        "`/costcodes help`",
        "`/costcodes review ready|failed|synced|rejected`",
        "`/costcodes` or `/costcodes review`",
        "`/costcodes status`",
        "`/costcodes accounts sync`",
        "`/costcodes digest now|off|&lt;cron&gt;`",
        "`/costcodes digest 0 9 * * 1-5`",
        "`/costcodes review failed`",
    ):
        assert usage in words


def test_status(snapshot: Snapshot) -> None:
    summary = StatusSummary({State.READY: 37, State.FAILED: 2, State.SUCCESS: 120}, AT)
    message = status_message(summary)
    snapshot("status", message)
    assert_within_limits(message)
    words = body(message)
    for line in ("Ready to Export: 37", "Queued: 0", "Failed: 2", "Success: 120", "Rejected: 0"):
        assert line in words and line in message["text"]
    assert "<!date^1714987800^" in words


def test_status_never_contacted() -> None:
    message = status_message(StatusSummary({}, None))
    assert "QuickBooks Web Connector last contact: never" in body(message)
    assert "never" in message["text"]


def test_error_is_ephemeral_plain_words() -> None:
    message = error_message("Cron <expr> is not valid & was ignored.")
    assert_within_limits(message)
    assert message["response_type"] == "ephemeral"
    assert message["text"] == ":no_entry: Cron &lt;expr&gt; is not valid &amp; was ignored."


@pytest.mark.parametrize("who", ["<@U1> or members of <!subteam^S2>", "workspace admins"])
def test_not_permitted(who: str) -> None:
    message = not_permitted_message(who)
    assert_within_limits(message)
    assert message["response_type"] == "ephemeral"
    assert f"Only {who} can pick GL accounts, export or reject cost codes." in message["text"]


def test_unexpected_error_gives_a_reference_and_no_details() -> None:
    from blocks.messages import unexpected_error_message

    message = unexpected_error_message("ab12cd34ef")
    assert_within_limits(message)
    assert message["response_type"] == "ephemeral"
    assert "give the reference ab12cd34ef" in message["text"]
    assert "Traceback" not in body(message)
