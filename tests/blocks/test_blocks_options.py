"""Options responses for the GL account pickers stay within Slack's 100-option limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from blocks_samples import EXPENSE, INCOME, LONG_ACCOUNT
from slack_limits import check_option

from blocks.ids import NONE_VALUE
from blocks.options import account_options
from bot.costcodes.domain import AccountView

MANY = [AccountView(n, f"Account {n}", str(4000 + n), "Income") for n in range(250)]


def test_snapshot(snapshot: Callable[[str, Any], None]) -> None:
    response = account_options([INCOME, EXPENSE, LONG_ACCOUNT], include_none=True)
    snapshot("account_options", response)
    for item in response["options"]:
        check_option(item)


def test_none_option_comes_first_and_counts() -> None:
    options = account_options(MANY, include_none=True)["options"]
    assert len(options) == 100
    assert options[0] == {
        "text": {"type": "plain_text", "text": "— none —", "emoji": True},
        "value": NONE_VALUE,
    }
    assert options[-1]["value"] == "98"


def test_without_none_caps_at_100() -> None:
    options = account_options(MANY, include_none=False)["options"]
    assert [o["value"] for o in options] == [str(n) for n in range(100)]


def test_empty() -> None:
    assert account_options([], include_none=False) == {"options": []}
    assert len(account_options([], include_none=True)["options"]) == 1


def test_label_and_truncation() -> None:
    (item,) = account_options([LONG_ACCOUNT], include_none=False)["options"]
    assert item["text"]["text"].startswith("123456789 · Job Costs:")
    assert len(item["text"]["text"]) == 75 and item["text"]["text"].endswith("…")
    (short,) = account_options([INCOME], include_none=False)["options"]
    assert short["text"]["text"] == "4000 · Construction Income"
