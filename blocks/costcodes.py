"""The Standard Cost Codes list message: one page of codes with their pickers and list buttons."""

from __future__ import annotations

from typing import Any

from blocks.bulk import (
    accept_button,
    division_select,
    reject_button,
    suggestion_lines,
    ticks_block,
)
from blocks.elements import (
    Block,
    Element,
    actions,
    button,
    confirm_dialog,
    context,
    escape,
    external_select,
    header,
    mention,
    option,
    plural,
    section,
    slack_date,
    static_select,
    truncate,
    who,
)
from blocks.ids import (
    ActionId,
    BlockId,
    ListRef,
    code_block_id,
    list_block_id,
    versioned,
)
from bot.costcodes.domain import (
    COST_TYPE,
    AccountView,
    CodeView,
    ExportTally,
    ListFilter,
    ListPage,
    RejectBanner,
    State,
    status_label,
)

INCOME_PLACEHOLDER = "GL Account – Income"
EXPENSE_PLACEHOLDER = "GL Account – Expense (Optional)"
EXPORT_LABEL = "Export Cost Codes"
REJECT_LABEL = "Reject All"
RETRY_LABEL = "Retry"
UNDO_LABEL = "Undo"
TITLE = "Standard Cost Codes"

# Only these can still change before export; the others are in QuickBooks' hands or on record.
EDITABLE_STATES = frozenset({State.READY, State.FAILED})
# QuickBooks messages can be long; the row must stay far below Slack's 3,000-character section.
_REASON_MAX = 500

_EMPTY = {
    ListFilter.READY: "Nothing is waiting in Ready to Export.",
    ListFilter.FAILED: "Nothing has failed to export.",
    ListFilter.SYNCED: "No cost codes have been synced to QuickBooks yet.",
    ListFilter.REJECTED: "No cost codes have been rejected.",
}
_GUIDANCE = {
    ListFilter.READY: (
        f"Pick a *{INCOME_PLACEHOLDER}* for each code; the Expense account is optional. Every "
        f"pick is saved at once. *{EXPORT_LABEL}* sends every Ready code that has an Income "
        "account, on every page."
    ),
    ListFilter.FAILED: (
        f"Change the GL accounts if QuickBooks refused them, then press *{RETRY_LABEL}*."
    ),
}


def list_message(page: ListPage) -> dict[str, Any]:
    """The list as posted in a channel; ten codes a page stay well inside Slack's 50 blocks."""
    rows = [block for code in page.codes for block in code_blocks(code, page.render_version)]
    blocks = [
        *_top(page),
        *(rows or [section(_EMPTY[page.list_filter])]),
        *_ticks(page),
        *_pager(page),
        *_footer(page),
        *_last_change(page),
    ]
    message: dict[str, Any] = {"text": list_title(page), "blocks": blocks}
    if page.banner is not None:
        message["text"] = f"{banner_text(page.banner)} {message['text']}"
        message["attachments"] = [_banner_attachment(page.banner, page.render_version)]
    return message


def list_title(page: ListPage) -> str:
    return f"{TITLE} — {page.list_filter.label} ({page.total})"


def tally_text(tally: ExportTally) -> str:
    """The header line of a copy an export ran from: its codes stay on it until posted again."""
    words = f"Exported from this list: {tally.exported} exported, {tally.waiting} waiting"
    if tally.failed:
        words += f", {tally.failed} failed"
    return words


def banner_text(banner: RejectBanner) -> str:
    """The banner's words, also sent as message text so the yellow colour never speaks alone."""
    removed = "was" if banner.count == 1 else "were"
    words = (
        f"{plural(banner.count, 'cost code', 'cost codes')} {removed} removed from "
        f"Ready to Export by {mention(banner.user_id)}."
    )
    if banner.skipped:
        way, was = ("its way", "was") if banner.skipped == 1 else ("their way", "were")
        codes = plural(banner.skipped, "code", "codes")
        words += f" {codes} already on {way} to QuickBooks {was} left alone."
    return words


def code_blocks(code: CodeView, render_version: int) -> list[Block]:
    """A code's row: its words, plus the two pickers while it can still be changed."""
    blocks = [section(_row_text(code))]
    if code.state in EDITABLE_STATES:
        pickers = [
            external_select(ActionId.PICK_INCOME, INCOME_PLACEHOLDER, _initial(code.income)),
            external_select(ActionId.PICK_EXPENSE, EXPENSE_PLACEHOLDER, _initial(code.expense)),
        ]
        if code.state is State.READY:
            pickers.append(reject_button(code))
        block_id = code_block_id(code.id, code.version, render_version)
        blocks.append(actions(pickers, block_id=block_id))
    return blocks


def _row_text(code: CodeView) -> str:
    reason = truncate(code.last_error, _REASON_MAX) if code.last_error else None
    status = status_label(code.state, reason)
    lines = [
        f"*{escape(code.code)}* {escape(code.description)} · Cost type: {COST_TYPE} · "
        f"Export Status: {escape(status)}"
    ]
    if code.rule_error:
        rule = escape(truncate(code.rule_error, _REASON_MAX))
        lines.append(f":warning: Held back from export: {rule}")
    if code.state is State.REJECTED and code.reject_reason:
        lines.append(f"Rejected: {escape(truncate(code.reject_reason, _REASON_MAX))}")
    lines.extend(suggestion_lines(code))
    if code.state not in EDITABLE_STATES:
        lines.append(
            f"{INCOME_PLACEHOLDER}: {_account_text(code.income)} · "
            f"GL Account – Expense: {_account_text(code.expense)}"
        )
    return "\n".join(lines)


def _account_text(account: AccountView | None) -> str:
    return escape(account.label) if account is not None else "—"


def _initial(account: AccountView | None) -> Element | None:
    return option(account.label, str(account.id)) if account is not None else None


def _top(page: ListPage) -> list[Block]:
    ref = ListRef(page.list_filter, page.page)
    filters = [option(f.label, ListRef(f).encode()) for f in ListFilter]
    current = option(page.list_filter.label, ListRef(page.list_filter).encode())
    select = static_select(ActionId.LIST_FILTER, "Show", filters, current)
    blocks = [
        header(list_title(page), block_id=list_block_id(ref, page.render_version)),
        actions([select], block_id=versioned(BlockId.FILTER, page.render_version)),
    ]
    if page.tally is not None:
        blocks.append(context(tally_text(page.tally)))
    guidance = _GUIDANCE.get(page.list_filter)
    if guidance and any(code.state in EDITABLE_STATES for code in page.codes):
        blocks.append(context(guidance))
    return blocks


def _pager(page: ListPage) -> list[Block]:
    if page.page_count <= 1:
        return []
    buttons = []
    if page.page > 0:
        previous = ListRef(page.list_filter, page.page - 1).encode()
        buttons.append(button("Previous", ActionId.PAGE_PREV, previous))
    if page.page < page.page_count - 1:
        following = ListRef(page.list_filter, page.page + 1).encode()
        buttons.append(button("Next", ActionId.PAGE_NEXT, following))
    blocks = [context(f"Page {page.page + 1} of {page.page_count}")]
    if buttons:
        blocks.append(actions(buttons, block_id=versioned(BlockId.PAGER, page.render_version)))
    return blocks


def _footer(page: ListPage) -> list[Block]:
    value = ListRef(page.list_filter, page.page).encode()
    block_id = versioned(BlockId.FOOTER, page.render_version)
    if page.list_filter is ListFilter.READY and page.export is not None:
        started = f"{who(page.export.user_id)} at {slack_date(page.export.at)}"
        return [context(f"Export started by {started}", block_id=block_id)]
    if page.list_filter is ListFilter.READY and page.rejectable > 0:
        question = (
            f"Remove {plural(page.rejectable, 'cost code', 'cost codes')} from Ready to Export?"
        )
        confirm = confirm_dialog(f"{REJECT_LABEL}?", question, REJECT_LABEL)
        buttons = [
            button(EXPORT_LABEL, ActionId.EXPORT, value, style="primary"),
            button(REJECT_LABEL, ActionId.REJECT_ALL, value, style="danger", confirm=confirm),
        ]
        extra = [accept_button(page.codes), division_select(page.divisions)]
        buttons.extend(element for element in extra if element is not None)
        return [actions(buttons, block_id=block_id)]
    if page.list_filter is ListFilter.FAILED and page.total > 0:
        return [actions([button(RETRY_LABEL, ActionId.RETRY_FAILED, value)], block_id=block_id)]
    return []


def _ticks(page: ListPage) -> list[Block]:
    if page.list_filter is not ListFilter.READY or page.export is not None:
        return []
    return ticks_block(page.codes, page.render_version)


def _last_change(page: ListPage) -> list[Block]:
    change = page.last_change
    if change is None:
        return []
    return [context(f"Last change by {who(change.user_id)} at {slack_date(change.at)}")]


def _banner_attachment(banner: RejectBanner, render_version: int) -> dict[str, Any]:
    undo = None
    if banner.undo_token is not None:
        undo = button(UNDO_LABEL, ActionId.UNDO_REJECT, banner.undo_token)
    block_id = versioned(BlockId.BANNER, render_version)
    words = section(f":warning: {banner_text(banner)}", accessory=undo, block_id=block_id)
    return {"color": "warning", "blocks": [words]}
