"""The cost code list: labels, pickers, buttons, banner and Slack's limits at their worst."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from blocks_samples import (
    AT,
    EXPENSE,
    EXPORT,
    INCOME,
    LONG_ACCOUNT,
    busiest_page,
    code,
    longest_code,
    page,
)
from slack_limits import all_blocks, assert_within_limits

from blocks.costcodes import banner_text, list_message
from blocks.ids import ActionId, ListRef, parse_code_block_id, parse_list_block_id
from bot.costcodes.domain import LastChange, ListFilter, RejectBanner, State

Snapshot = Callable[[str, Any], None]


def actions_of(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every interactive element by action_id (the last one wins for repeated pickers)."""
    found = {}
    for block in all_blocks(message):
        for element in [*block.get("elements", []), block.get("accessory")]:
            if element and "action_id" in element:
                found[element["action_id"]] = element
    return found


def texts_of(message: dict[str, Any]) -> str:
    parts = []
    for block in all_blocks(message):
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn")
    return "\n".join(parts)


def mixed_ready_page() -> Any:
    codes = (
        code(1, income=INCOME, expense=EXPENSE),
        code(2, income=INCOME),
        code(3, rule_error="The code has a “:”, which QuickBooks uses between item levels."),
        code(4, State.QUEUED, income=INCOME),
        code(5, State.EXPORTING, income=INCOME, expense=EXPENSE),
    )
    return page(
        codes,
        page=1,
        page_count=4,
        total=37,
        rejectable=34,
        last_change=LastChange("U0FINANCE", AT),
    )


def test_ready_page_snapshot(snapshot: Snapshot) -> None:
    message = list_message(mixed_ready_page())
    snapshot("list_ready_page2", message)
    assert_within_limits(message)


@pytest.mark.parametrize("list_filter", list(ListFilter))
def test_busiest_page_fits_every_limit(list_filter: ListFilter) -> None:
    message = list_message(busiest_page(list_filter))
    assert_within_limits(message)
    assert len(message["blocks"]) <= 50


def test_every_state_at_its_longest_fits() -> None:
    codes = tuple(longest_code(n, state) for n, state in enumerate(State))
    assert_within_limits(list_message(page(codes)))


def test_header_names_filter_and_count() -> None:
    message = list_message(mixed_ready_page())
    assert message["blocks"][0]["type"] == "header"
    assert message["blocks"][0]["text"]["text"] == "Standard Cost Codes — Ready to Export (37)"
    assert message["text"] == "Standard Cost Codes — Ready to Export (37)"
    ref = parse_list_block_id(message["blocks"][0]["block_id"])
    assert ref == ListRef(ListFilter.READY, 1)


def test_filter_select_offers_the_four_filters_with_current_selected() -> None:
    select = actions_of(list_message(page((), ListFilter.FAILED)))[ActionId.LIST_FILTER]
    labels = [o["text"]["text"] for o in select["options"]]
    assert labels == ["Ready to Export", "Failed to Export", "Synced", "Rejected"]
    assert select["initial_option"]["text"]["text"] == "Failed to Export"
    assert ListRef.decode(select["initial_option"]["value"]) == ListRef(ListFilter.FAILED, 0)


def test_row_words() -> None:
    text = texts_of(list_message(mixed_ready_page()))
    assert (
        "*03-301* Cast-in-place concrete · Cost type: Other · Export Status: Ready to Export"
        in text
    )
    assert ":warning: Held back from export: The code has a “:”" in text
    assert "Export Status: Queued" in text
    assert "Export Status: Exporting" in text


def test_failed_row_shows_reason_in_plain_words() -> None:
    failed = code(7, State.FAILED, last_error="the GL account 4000 no longer exists")
    message = list_message(page((failed,), ListFilter.FAILED))
    assert "Export Status: Failed: the GL account 4000 no longer exists" in texts_of(message)
    assert ActionId.PICK_INCOME in actions_of(message)  # a failed code can get a new account


def test_pickers_carry_placeholders_initial_options_and_versioned_block_id() -> None:
    message = list_message(page((code(1, income=INCOME, expense=EXPENSE, version=9),)))
    row = next(b for b in message["blocks"] if b.get("block_id", "").startswith("code:"))
    assert row["block_id"] == "code:1:9:7"
    assert parse_code_block_id(row["block_id"]).code_version == 9
    income, expense, reject = row["elements"]
    assert reject["action_id"] == "reject-code" and reject["value"] == "1:9"
    assert (income["action_id"], expense["action_id"]) == ("pick-income", "pick-expense")
    assert income["type"] == expense["type"] == "external_select"
    assert income["placeholder"]["text"] == "GL Account \u2013 Income"
    assert expense["placeholder"]["text"] == "GL Account \u2013 Expense (Optional)"
    assert income["initial_option"] == {
        "text": {"type": "plain_text", "text": "4000 · Construction Income", "emoji": True},
        "value": "41",
    }
    assert expense["initial_option"]["value"] == "51"


def test_render_version_changes_every_code_block_id() -> None:
    first = list_message(page((code(1),), render_version=1))
    second = list_message(page((code(1),), render_version=2))
    ids = [{b.get("block_id") for b in m["blocks"]} - {None} for m in (first, second)]
    assert not ids[0] & ids[1]


@pytest.mark.parametrize("state", [State.SUCCESS, State.EXPORTING, State.QUEUED, State.REJECTED])
def test_codes_out_of_reach_get_no_pickers_but_show_accounts(state: State) -> None:
    message = list_message(page((code(1, state, income=INCOME),), ListFilter.SYNCED))
    assert not {ActionId.PICK_INCOME, ActionId.PICK_EXPENSE} & set(actions_of(message))
    assert "GL Account – Income: 4000 · Construction Income" in texts_of(message)
    assert "GL Account – Expense: —" in texts_of(message)


def test_long_account_label_is_cut_in_the_option_only() -> None:
    message = list_message(page((code(1, income=LONG_ACCOUNT),)))
    initial = actions_of(message)[ActionId.PICK_INCOME]["initial_option"]
    assert len(initial["text"]["text"]) == 75 and initial["text"]["text"].endswith("…")
    assert initial["value"] == str(LONG_ACCOUNT.id)


def test_user_text_is_escaped() -> None:
    text = texts_of(list_message(page((longest_code(1),))))
    assert "Concrete &amp; &lt;formwork&gt;" in text
    assert "<formwork>" not in text


def test_pager_buttons_point_to_neighbour_pages() -> None:
    message = list_message(mixed_ready_page())
    found = actions_of(message)
    assert found[ActionId.PAGE_PREV]["text"]["text"] == "Previous"
    assert found[ActionId.PAGE_NEXT]["text"]["text"] == "Next"
    assert ListRef.decode(found[ActionId.PAGE_PREV]["value"]) == ListRef(ListFilter.READY, 0)
    assert ListRef.decode(found[ActionId.PAGE_NEXT]["value"]) == ListRef(ListFilter.READY, 2)
    assert "Page 2 of 4" in texts_of(message)


def test_first_and_last_pages_and_single_page() -> None:
    first = actions_of(list_message(page((code(1),), page=0, page_count=3)))
    last = actions_of(list_message(page((code(1),), page=2, page_count=3)))
    single = list_message(page((code(1),)))
    assert ActionId.PAGE_PREV not in first and ActionId.PAGE_NEXT in first
    assert ActionId.PAGE_NEXT not in last and ActionId.PAGE_PREV in last
    assert not {ActionId.PAGE_PREV, ActionId.PAGE_NEXT} & set(actions_of(single))
    assert "Page 1 of 1" not in texts_of(single)


def test_ready_footer_buttons_and_reject_confirmation() -> None:
    found = actions_of(list_message(mixed_ready_page()))
    export, reject = found[ActionId.EXPORT], found[ActionId.REJECT_ALL]
    assert (export["text"]["text"], export["style"]) == ("Export Cost Codes", "primary")
    assert (reject["text"]["text"], reject["style"]) == ("Reject All", "danger")
    assert reject["confirm"]["text"]["text"] == "Remove 34 cost codes from Ready to Export?"
    assert reject["confirm"]["confirm"]["text"] == "Reject All"
    assert reject["confirm"]["deny"]["text"] == "Cancel"
    assert ListRef.decode(export["value"]) == ListRef(ListFilter.READY, 1)


def test_reject_confirmation_singular() -> None:
    reject = actions_of(list_message(page((code(1),))))[ActionId.REJECT_ALL]
    assert reject["confirm"]["text"]["text"] == "Remove 1 cost code from Ready to Export?"


def test_export_notice_replaces_buttons(snapshot: Snapshot) -> None:
    message = list_message(page((code(1, State.QUEUED, income=INCOME),), export=EXPORT))
    snapshot("list_ready_export_started", message)
    assert not {ActionId.EXPORT, ActionId.REJECT_ALL} & set(actions_of(message))
    assert (
        "Export started by <@U0EXPORTER> at "
        "<!date^1714987800^{date_short_pretty} at {time}|2024-05-06 09:30 UTC>"
    ) in texts_of(message)


@pytest.mark.parametrize("list_filter", [ListFilter.SYNCED, ListFilter.REJECTED])
def test_other_filters_have_no_list_buttons(list_filter: ListFilter) -> None:
    message = list_message(page((code(1, State.SUCCESS),), list_filter))
    assert set(actions_of(message)) == {ActionId.LIST_FILTER}


def test_failed_filter_offers_retry(snapshot: Snapshot) -> None:
    failed = code(8, State.FAILED, income=INCOME, last_error="the account is inactive")
    message = list_message(page((failed,), ListFilter.FAILED))
    snapshot("list_failed", message)
    found = actions_of(message)
    assert found[ActionId.RETRY_FAILED]["text"]["text"] == "Retry"
    assert not {ActionId.EXPORT, ActionId.REJECT_ALL} & set(found)


def test_last_change_line() -> None:
    assert (
        "Last change by <@U0FINANCE> at <!date^1714987800^{date_short_pretty} at {time}"
        "|2024-05-06 09:30 UTC>" in texts_of(list_message(mixed_ready_page()))
    )


@pytest.mark.parametrize(
    ("list_filter", "words"),
    [
        (ListFilter.READY, "Nothing is waiting in Ready to Export."),
        (ListFilter.FAILED, "Nothing has failed to export."),
        (ListFilter.SYNCED, "No cost codes have been synced to QuickBooks yet."),
        (ListFilter.REJECTED, "No cost codes have been rejected."),
    ],
)
def test_empty_list(list_filter: ListFilter, words: str) -> None:
    message = list_message(page((), list_filter))
    assert words in texts_of(message)
    assert set(actions_of(message)) == {ActionId.LIST_FILTER}
    assert_within_limits(message)


def test_empty_ready_snapshot(snapshot: Snapshot) -> None:
    snapshot("list_ready_empty", list_message(page(())))


def test_banner_is_a_yellow_attachment_with_words_and_undo(snapshot: Snapshot) -> None:
    banner = RejectBanner(12, "U0FINANCE", undo_token="tok-123", skipped=3)
    message = list_message(page((), banner=banner))
    snapshot("list_ready_banner", message)
    words = (
        "12 cost codes were removed from Ready to Export by <@U0FINANCE>. "
        "3 codes already on their way to QuickBooks were left alone."
    )
    assert words in message["text"]
    (attachment,) = message["attachments"]
    assert attachment["color"] == "warning"
    (section,) = attachment["blocks"]
    assert words in section["text"]["text"]
    assert section["accessory"]["action_id"] == ActionId.UNDO_REJECT
    assert section["accessory"]["text"]["text"] == "Undo"
    assert section["accessory"]["value"] == "tok-123"
    assert_within_limits(message)


def test_banner_without_undo_token_has_no_undo_button() -> None:
    message = list_message(page((), banner=RejectBanner(1, "U0FINANCE")))
    assert "accessory" not in message["attachments"][0]["blocks"][0]
    assert message["text"].startswith(
        "1 cost code was removed from Ready to Export by <@U0FINANCE>."
    )


def test_banner_words_singular_skipped() -> None:
    words = banner_text(RejectBanner(2, "U1", skipped=1))
    assert words == (
        "2 cost codes were removed from Ready to Export by <@U1>. "
        "1 code already on its way to QuickBooks was left alone."
    )


def test_no_banner_no_attachments() -> None:
    assert "attachments" not in list_message(page((code(1),)))
