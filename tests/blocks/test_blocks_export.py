from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_limits import assert_within_limits

from blocks.export import (
    already_exporting_message,
    final_message,
    held_message,
    stale_message,
    status_message,
)
from bot.costcodes.domain import ExportProgress, FailedCode

STARTED = datetime(2026, 11, 26, 10, 42, tzinfo=UTC)


def progress(**overrides: Any) -> ExportProgress:
    values: dict[str, Any] = {
        "batch_id": 7,
        "started_by": "UANN",
        "started_at": STARTED,
        "total": 12,
        "succeeded": 0,
        "failed": (),
        "picked_up": False,
        "finished": False,
        "last_contact": datetime(2026, 11, 26, 10, 39, tzinfo=UTC),
    }
    values.update(overrides)
    return ExportProgress(**values)


def test_waiting_names_who_and_the_last_contact() -> None:
    message = status_message(progress())
    assert message["text"] == (
        "Export of 12 cost codes started by <@UANN> — waiting for the QuickBooks Web Connector "
        "(last contact <!date^1795689540^{ago}|2026-11-26 10:39 UTC>)"
    )
    assert "no contact yet" in status_message(progress(last_contact=None))["text"]


def test_progress_counts_done_codes() -> None:
    failed = (FailedCode("03-100", "x"),)
    message = status_message(progress(picked_up=True, succeeded=7, failed=failed))
    assert message["text"] == "Exporting… 8 of 12 (started by <@UANN>)"


def test_final_success(snapshot: Callable[[str, Any], None]) -> None:
    message = final_message(progress(picked_up=True, finished=True, succeeded=12))
    assert message["text"] == "Success — 12 cost codes are now Service items in QuickBooks"
    snapshot("export_final_success", message)


def test_final_with_failures_lists_reasons_and_retry(snapshot: Callable[[str, Any], None]) -> None:
    failed = (
        FailedCode("03-300", "the GL account 4010 no longer exists in QuickBooks — pick another"),
        FailedCode("03-<b>", 'QuickBooks already has an item named "03-<b>" of type Inventory'),
    )
    message = final_message(progress(picked_up=True, finished=True, succeeded=10, failed=failed))
    assert message["text"].startswith("10 succeeded, 2 failed: 03-300: the GL account 4010")
    blocks_text = str(message["blocks"])
    assert "03-&lt;b&gt;" in blocks_text and "<b>" not in blocks_text
    retry = message["blocks"][2]["elements"][0]
    assert (retry["text"]["text"], retry["action_id"], retry["value"]) == (
        "Retry",
        "retry-failed",
        "failed:0",
    )
    assert_within_limits(message)
    snapshot("export_final_failures", message)


def test_many_failures_stay_within_limits() -> None:
    failed = tuple(FailedCode(f"{n:02d}-{'9' * 28}", "r" * 400) for n in range(500))
    message = final_message(progress(total=500, picked_up=True, finished=True, failed=failed))
    assert_within_limits(message)
    assert "more: `/costcodes review failed`" in message["blocks"][1]["text"]["text"]


def test_stale_says_what_to_check() -> None:
    message = stale_message(15)
    assert "not picked up this export in 15 minutes" in message["text"]
    checks = message["blocks"][1]["text"]["text"]
    assert "Web Connector is running" in checks and "logged in" in checks
    assert "company file" in checks


def test_refusals_are_ephemeral() -> None:
    busy = already_exporting_message("UANN", STARTED)
    assert busy["response_type"] == "ephemeral"
    assert busy["text"].startswith("An export is already running, started by <@UANN> at <!date^")
    held = held_message([FailedCode("01-100", "no GL Account – Income picked")], exported=0)
    assert held["text"].startswith("Nothing was exported")
    assert "*01-100* — no GL Account – Income picked" in held["blocks"][0]["text"]["text"]
    some = held_message([FailedCode("01-100", "no GL Account – Income picked")], exported=3)
    assert some["text"] == "1 cost code stay in Ready to Export:"
