"""Element helpers: truncation for display text, refusal for IDs and values, Slack dates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from blocks.elements import (
    actions,
    button,
    context,
    escape,
    option,
    plural,
    slack_date,
    static_select,
    truncate,
)


def test_truncate_and_escape() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd", 3) == "ab…"
    assert escape("a & <b>") == "a &amp; &lt;b&gt;"
    assert plural(1, "code", "codes") == "1 code"
    assert plural(0, "code", "codes") == "0 codes"


def test_option_truncates_text_but_refuses_long_values() -> None:
    assert option("x" * 80, "1")["text"]["text"] == "x" * 74 + "…"
    with pytest.raises(ValueError):
        option("x", "1" * 151)


def test_button_refuses_long_text_and_ids() -> None:
    with pytest.raises(ValueError):
        button("x" * 76, "a", "v")
    with pytest.raises(ValueError):
        button("x", "a" * 256, "v")
    with pytest.raises(ValueError):
        button("x", "a", "v" * 2001)


def test_containers_refuse_bad_sizes() -> None:
    with pytest.raises(ValueError):
        actions([button(str(n), f"a{n}", "v") for n in range(26)])
    with pytest.raises(ValueError):
        actions([])
    with pytest.raises(ValueError):
        context(*["x"] * 11)
    with pytest.raises(ValueError):
        static_select("a", "p", [option(str(n), str(n)) for n in range(101)], option("0", "0"))


def test_slack_date_uses_utc_fallback_for_any_zone() -> None:
    local = datetime(2024, 5, 6, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2024, 5, 6, 9, 30)
    expected = "<!date^1714987800^{date_short_pretty} at {time}|2024-05-06 09:30 UTC>"
    assert slack_date(local) == slack_date(naive) == expected
