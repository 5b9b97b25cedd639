"""Block Kit for reviewing many codes: Apply to division…, ticks, Accept suggestions, Reject one.

DESIGN §9: the controls' labels say what they do; a suggestion is text beside its code, never a
picker's selected value; the apply modal says how many codes will change and which already
have a different pick; Reject asks for a reason of at most 300 characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blocks.elements import (
    OPTION_VALUE_MAX,
    Block,
    Element,
    actions,
    button,
    confirm_dialog,
    escape,
    external_select,
    input_block,
    option,
    plain,
    plural,
    section,
    truncate,
)
from blocks.ids import ActionId, BlockId, CallbackId, versioned
from blocks.messages import EPHEMERAL
from bot.costcodes.domain import AccountView, ApplyOutcome, ApplyPreview, CodeView, State

APPLY_DIVISION_LABEL = "Apply to division…"
APPLY_TICKED_LABEL = "Apply to ticked codes…"
ACCEPT_LABEL = "Accept suggestions"
REJECT_ONE_LABEL = "Reject"
OVERWRITE_LABEL = "Overwrite picks that differ"
EVERY_DIVISION_LABEL = "Every division"
REASON_MAX = 300
TICKS_MAX = 10
"""Slack's limit for one checkboxes element; a page holds ten codes."""
_NAMED_MAX = 20


def suggestion_lines(code: CodeView) -> list[str]:
    """The row's "Suggested: <account> — <why>" lines (DESIGN §9), for codes without a pick."""
    lines = []
    if code.suggested_income is not None:
        hint = code.suggested_income
        lines.append(f"Suggested: {escape(hint.account.label)} — {escape(hint.why)}")
    if code.suggested_expense is not None:
        hint = code.suggested_expense
        lines.append(f"Suggested Expense: {escape(hint.account.label)} — {escape(hint.why)}")
    return lines


def reject_button(code: CodeView) -> Element:
    return button(REJECT_ONE_LABEL, ActionId.REJECT_CODE, f"{code.id}:{code.version}")


def division_select(divisions: Sequence[tuple[str, int]]) -> Element | None:
    """The list's "Apply to division…" menu: each division with Ready codes, then all of them."""
    choices = [
        option(f"{name} ({count})", name)
        for name, count in divisions
        if len(name) <= OPTION_VALUE_MAX
    ][:99]
    if not choices:
        return None
    total = sum(count for _, count in divisions)
    choices.append(option(f"{EVERY_DIVISION_LABEL} ({total})", "*"))
    return {
        "type": "static_select",
        "action_id": ActionId.APPLY_DIVISION.value,
        "placeholder": plain(APPLY_DIVISION_LABEL),
        "options": choices,
    }


def accept_button(codes: Sequence[CodeView]) -> Element | None:
    """Accept suggestions: the value carries exactly the suggestions the page shows."""
    parts = []
    for code in codes:
        if code.state is not State.READY and code.state is not State.FAILED:
            continue
        income = code.suggested_income.account.id if code.suggested_income else ""
        expense = code.suggested_expense.account.id if code.suggested_expense else ""
        if income or expense:
            parts.append(f"{code.id}:{code.version}:{income}:{expense}")
    if not parts:
        return None
    count = plural(len(parts), "cost code", "cost codes")
    confirm = confirm_dialog(
        f"{ACCEPT_LABEL}?",
        f"Save the suggested GL accounts of {count} on this page? Other picks stay as they are.",
        "Save",
    )
    confirm.pop("style")
    return button(ACCEPT_LABEL, ActionId.ACCEPT_SUGGESTIONS, ";".join(parts), confirm=confirm)


def ticks_block(codes: Sequence[CodeView], render_version: int) -> list[Block]:
    """Checkboxes for the page's Ready codes and the button that applies to the ticked ones."""
    ready = [code for code in codes if code.state is State.READY][:TICKS_MAX]
    if not ready:
        return []
    boxes = {
        "type": "checkboxes",
        "action_id": ActionId.TICK_CODES.value,
        "options": [option(f"{code.code} {code.description}", str(code.id)) for code in ready],
    }
    apply = button(APPLY_TICKED_LABEL, ActionId.APPLY_TICKED, "ticked")
    return [actions([boxes, apply], block_id=versioned(BlockId.TICKS, render_version))]


def apply_modal(preview: ApplyPreview) -> dict[str, Any]:
    """Choose the accounts; the modal says how many codes change and which keep their pick."""
    codes = plural(preview.total, "Ready cost code", "Ready cost codes")
    lines = [f"*{codes}* in {escape(preview.scope)}."]
    if preview.without_pick:
        lines.append(
            f"*{plural(preview.without_pick, 'code', 'codes')} without a GL Account – Income "
            "will change* to the account you choose."
        )
    if preview.with_pick:
        named = ", ".join(escape(code) for code in preview.with_pick[:_NAMED_MAX])
        more = len(preview.with_pick) - _NAMED_MAX
        if more > 0:
            named += f" and {more} more"
        lines.append(
            f"{plural(len(preview.with_pick), 'code already has', 'codes already have')} a "
            f"different pick ({named}): kept unless you tick “{OVERWRITE_LABEL}”, then "
            f"{preview.without_pick + len(preview.with_pick)} change."
        )
    initial = _initial(preview.suggested)
    income = external_select(ActionId.PICK_INCOME, "GL Account – Income", initial)
    expense = external_select(ActionId.PICK_EXPENSE, "GL Account – Expense (Optional)")
    overwrite = {
        "type": "checkboxes",
        "action_id": CallbackId.APPLY_OVERWRITE.value,
        "options": [option(OVERWRITE_LABEL, "overwrite")],
    }
    blocks: list[Block] = [
        section("\n".join(lines)),
        input_block(CallbackId.APPLY_INCOME, "GL Account – Income", income),
        input_block(CallbackId.APPLY_EXPENSE, "GL Account – Expense", expense, optional=True),
        input_block(CallbackId.APPLY_OVERWRITE, "Picks that differ", overwrite, optional=True),
    ]
    if preview.suggested is not None:
        blocks.insert(
            1, section(f"Suggested for {escape(preview.scope)}: {escape(preview.suggested.label)}")
        )
    return {
        "type": "modal",
        "callback_id": CallbackId.APPLY.value,
        "private_metadata": preview.metadata,
        "title": plain("Apply GL accounts"),
        "submit": plain("Apply"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


def reject_modal(code: CodeView, metadata: str) -> dict[str, Any]:
    field = {
        "type": "plain_text_input",
        "action_id": CallbackId.REJECT_REASON.value,
        "multiline": True,
        "max_length": REASON_MAX,
        "placeholder": plain("Why is this code rejected?"),
    }
    words = (
        f"Reject *{escape(code.code)}* {escape(code.description)}? It leaves Ready to Export; "
        "Undo on the list brings it back for 15 minutes."
    )
    return {
        "type": "modal",
        "callback_id": CallbackId.REJECT.value,
        "private_metadata": metadata,
        "title": plain("Reject cost code"),
        "submit": plain("Reject"),
        "close": plain("Cancel"),
        "blocks": [
            section(words),
            input_block(CallbackId.REJECT_REASON, f"Reason (at most {REASON_MAX} chars)", field),
        ],
    }


def applied_message(outcome: ApplyOutcome) -> dict[str, Any]:
    words = (
        f":white_check_mark: {escape(outcome.account)} applied to "
        f"{plural(outcome.changed, 'cost code', 'cost codes')} in {escape(outcome.scope)}."
    )
    if outcome.kept:
        named = ", ".join(escape(code) for code in outcome.kept[:_NAMED_MAX])
        if len(outcome.kept) > _NAMED_MAX:
            named += f" and {len(outcome.kept) - _NAMED_MAX} more"
        words += f" Kept their own picks: {named}."
    if outcome.skipped:
        left = plural(outcome.skipped, "code was", "codes were")
        words += f" {left} no longer Ready and left alone."
    return {**EPHEMERAL, "text": words, "blocks": [section(words)]}


def accepted_message(count: int, left: int) -> dict[str, Any]:
    codes = plural(count, "cost code", "cost codes")
    words = f":white_check_mark: Saved the suggested accounts of {codes}."
    if left:
        words += f" {plural(left, 'code', 'codes')} changed meanwhile and kept what is there now."
    return {**EPHEMERAL, "text": words, "blocks": [section(words)]}


def rejected_reply(user_id: str, code: str, reason: str) -> dict[str, Any]:
    words = f"<@{user_id}> rejected *{escape(code)}*: {escape(truncate(reason, REASON_MAX))}"
    return {"text": words, "blocks": [section(words)]}


def _initial(account: AccountView | None) -> Element | None:
    return option(account.label, str(account.id)) if account is not None else None
