"""The App Home tab, its modal and the import modal and report: words, limits, snapshots."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from blocks_samples import AT
from slack_limits import assert_view_within_limits, assert_within_limits

from blocks.home import FAILED_LABEL, home_view, post_list_modal
from blocks.ids import CallbackId, HomeActionId
from blocks.imports import REPORT_BLOCKS_MAX, import_modal, import_report_message
from bot.costcodes.domain import State
from bot.digests.views import LastExport
from bot.home.views import ConnectionHealth, HomeSummary, WaitingCode

Snapshot = Callable[[str, Any], None]
BUSY = HomeSummary(
    counts={state: n * 1000 for n, state in enumerate(State, start=1)},
    oldest_waiting=WaitingCode("03-300", "Rebar <supply> & tie", AT),
    last_export=LastExport(AT, "U0EXPORT", 12),
    last_contact=AT,
    contact_stale=False,
)
QUIET = HomeSummary(
    counts=dict.fromkeys(State, 0),
    oldest_waiting=None,
    last_export=None,
    last_contact=None,
    contact_stale=True,
)


def words(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


def action_ids(view: dict[str, Any]) -> list[str]:
    return [
        e["action_id"] for b in view["blocks"] for e in b.get("elements", []) if "action_id" in e
    ]


def test_busy_home(snapshot: Snapshot) -> None:
    view = home_view(BUSY)
    assert_view_within_limits(view)
    snapshot("home_busy", view)
    assert "*Failed*\\n5,000" in words(view)
    assert "Rebar &lt;supply&gt; &amp; tie" in words(view)  # people's words are escaped
    assert action_ids(view) == [HomeActionId.CHOOSE_CHANNEL, HomeActionId.OPEN_FAILED]
    assert f"{FAILED_LABEL} (5,000)" in words(view)


def test_quiet_home_warns_about_the_web_connector(snapshot: Snapshot) -> None:
    view = home_view(QUIET)
    assert_view_within_limits(view)
    snapshot("home_quiet", view)
    assert "nothing is waiting in Ready to Export" in words(view)
    assert ":warning: *Warning:* The QuickBooks Web Connector has never called in" in words(view)
    assert action_ids(view) == [HomeActionId.CHOOSE_CHANNEL]  # nothing failed: no such button


def test_quickbooks_state_has_its_place() -> None:
    health = ConnectionHealth("no company file", "Open the company file in QuickBooks.", AT)
    view = home_view(dataclasses.replace(BUSY, quickbooks=health))
    assert_view_within_limits(view)
    assert "*QuickBooks:* no company file: Open the company file in QuickBooks." in words(view)
    assert "QuickBooks:*" not in words(home_view(BUSY))


def test_long_descriptions_stay_within_limits() -> None:
    oldest = WaitingCode("X" * 31, "é" * 5000, AT)
    assert_view_within_limits(home_view(dataclasses.replace(BUSY, oldest_waiting=oldest)))


def test_post_list_modal(snapshot: Snapshot) -> None:
    modal = post_list_modal()
    assert_view_within_limits(modal)
    snapshot("home_post_list_modal", modal)
    assert modal["callback_id"] == CallbackId.POST_LIST


def test_import_modal(snapshot: Snapshot) -> None:
    modal = import_modal("C0000001")
    assert_view_within_limits(modal)
    snapshot("import_modal", modal)


def test_import_report_fits_a_message_however_many_rows_were_refused() -> None:
    lines = ["Imported 0 new cost codes to Ready to Export (0 unchanged, 0 updated, 0 re-sent)."]
    lines += [f"  line {n} 01:{n:03d}: refused: the code must not contain ':'" for n in range(5000)]
    lines.append("5000 rows were refused; fix them and import again.")
    message = import_report_message("big.csv", lines)
    assert_within_limits(message)
    assert len(message["blocks"]) == REPORT_BLOCKS_MAX + 1
    assert "more lines not shown" in message["blocks"][-1]["elements"][0]["text"]


def test_import_report_shows_every_line_when_it_fits(snapshot: Snapshot) -> None:
    lines = [
        "Imported 1 new cost codes to Ready to Export (2 unchanged, 0 updated, 0 re-sent).",
        "  line 3 <b>: refused: the code must not contain ':'",
        "1 rows were refused; fix them and import again.",
    ]
    message = import_report_message("a&b.csv", lines)
    assert_within_limits(message)
    snapshot("import_report", message)
    assert message["blocks"][1]["text"]["text"] == (
        "```  line 3 &lt;b&gt;: refused: the code must not contain ':'\n"
        "1 rows were refused; fix them and import again.```"
    )
