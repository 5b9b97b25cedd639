"""The App Home tab and its "Post the list" modal as Block Kit (pure: no clock, no I/O).

A Home tab holds at most 100 blocks; this one holds about ten, whatever the numbers are.
"""

from __future__ import annotations

from typing import Any

from blocks.digest import last_export_text, stale_contact_words
from blocks.elements import (
    Block,
    Element,
    actions,
    button,
    context,
    escape,
    header,
    input_block,
    mrkdwn,
    option,
    plain,
    section,
    slack_date,
    static_select,
    truncate,
)
from blocks.ids import COMMAND, CallbackId, HomeActionId
from bot.costcodes.domain import STATE_LABELS, ListFilter, State
from bot.home.views import ConnectionHealth, HomeSummary

TITLE = "Cost Code Export"
POST_LABEL = "Post the list in a channel…"
FAILED_LABEL = "Open failed codes"
HOME_BLOCKS_MAX = 100
MODAL_BLOCKS_MAX = 100


def home_view(summary: HomeSummary) -> dict[str, Any]:
    """The Home tab: counts per Export Status, what waits longest, the last export, QuickBooks."""
    blocks: list[Block] = [
        header(TITLE),
        _counts(summary),
        section(_oldest(summary)),
        section(last_export_text(summary.last_export)),
        _contact(summary),
    ]
    if summary.quickbooks is not None:
        blocks.append(_quickbooks(summary.quickbooks))
    blocks.append({"type": "divider"})
    blocks.append(actions(_buttons(summary), block_id="home-actions"))
    blocks.append(
        context(
            f"Anyone can look and post the list; only people with ERP permission can pick "
            f"accounts, export, reject or import. `{COMMAND} help` lists every command."
        )
    )
    return {"type": "home", "blocks": blocks}


def _counts(summary: HomeSummary) -> Block:
    fields = [
        mrkdwn(f"*{STATE_LABELS[state]}*\n{summary.counts.get(state, 0):,}") for state in State
    ]
    return {
        "type": "section",
        "text": mrkdwn("*Cost codes by Export Status*"),
        "fields": fields,
    }


def _oldest(summary: HomeSummary) -> str:
    oldest = summary.oldest_waiting
    if oldest is None:
        return "*Oldest waiting:* nothing is waiting in Ready to Export."
    name = truncate(f"{oldest.code} {oldest.description}", 200)
    return (
        f"*Oldest waiting:* {escape(name)} — in Ready to Export since {slack_date(oldest.since)}."
    )


def _contact(summary: HomeSummary) -> Block:
    if summary.contact_stale:
        words = stale_contact_words(summary.last_contact)
        return section(f":warning: *Warning:* {words[0].upper()}{words[1:]}")
    assert summary.last_contact is not None
    return context(f"QuickBooks Web Connector last contact: {slack_date(summary.last_contact)}.")


def _quickbooks(health: ConnectionHealth) -> Block:
    since = f" (since {slack_date(health.since)})" if health.since else ""
    words = truncate(f"{health.state}: {health.message}", 2000)
    return section(f"*QuickBooks:* {escape(words)}{since}")


def _buttons(summary: HomeSummary) -> list[Element]:
    found = [button(POST_LABEL, HomeActionId.CHOOSE_CHANNEL, "post", style="primary")]
    failed = summary.counts.get(State.FAILED, 0)
    if failed:
        found.append(button(f"{FAILED_LABEL} ({failed:,})", HomeActionId.OPEN_FAILED, "failed"))
    return found


def post_list_modal() -> dict[str, Any]:
    """Which channel, and which list: posts it there as `/costcodes review …` would."""
    filters = [option(f.label, f.value) for f in ListFilter]
    channel = {
        "type": "conversations_select",
        "action_id": CallbackId.POST_CHANNEL.value,
        "placeholder": plain("Choose a channel"),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    return {
        "type": "modal",
        "callback_id": CallbackId.POST_LIST.value,
        "title": plain("Post the list"),
        "submit": plain("Post"),
        "close": plain("Cancel"),
        "blocks": [
            input_block(CallbackId.POST_CHANNEL, "Channel", channel),
            input_block(
                CallbackId.POST_FILTER,
                "List",
                static_select(CallbackId.POST_FILTER, "Choose a list", filters, filters[0]),
            ),
            context("In a private channel, invite me first: `/invite @costcodes`."),
        ],
    }
