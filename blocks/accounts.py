"""Replies about refreshing the GL accounts from QuickBooks (`/costcodes accounts sync`)."""

from __future__ import annotations

from typing import Any

from blocks.elements import button, confirm_dialog, escape, plural, section, who
from blocks.ids import ActionId
from blocks.messages import EPHEMERAL
from qbd.companyfile import CompanyFile

REBIND_LABEL = "Sync from the open file"


def sync_requested_message(actor: str) -> dict[str, Any]:
    text = (
        f"GL account refresh requested by {who(actor)}: the QuickBooks Web Connector fetches "
        "the chart of accounts on its next update. I'll reply here when it is done."
    )
    return {"text": text, "blocks": [section(f":arrows_counterclockwise: {text}")]}


def sync_waiting_message(actor: str) -> dict[str, Any]:
    text = (
        f"A GL account refresh is already waiting for the Web Connector (asked by {who(actor)}); "
        "nothing more to do."
    )
    return {"text": text, "blocks": [section(text)], **EPHEMERAL}


def sync_done_message(state: str, result: dict[str, Any]) -> dict[str, Any]:
    if state != "done":
        reason = escape(str(result.get("error") or "no reason given"))
        text = f"The GL account refresh failed: {reason}. Try `/costcodes accounts sync` again."
        return {"text": text, "blocks": [section(f":warning: {text}")]}
    parts = [
        plural(int(result.get("new", 0)), "new account", "new accounts"),
        f"{int(result.get('changed', 0))} changed",
        f"{int(result.get('inactivated', 0))} made inactive",
    ]
    text = "GL accounts refreshed from QuickBooks: " + ", ".join(parts) + "."
    return {"text": text, "blocks": [section(f":white_check_mark: {text}")]}


def rebind_confirm_message(bound: CompanyFile, opened: CompanyFile) -> dict[str, Any]:
    """A sync would re-bind to another company file: say so, and ask before doing it."""
    text = (
        f"The GL accounts came from {escape(bound.label)}, but the QuickBooks Web Connector last "
        f"had {escape(opened.label)} open. Syncing from it re-binds the bot to that file: cost "
        "codes are added there from then on, and picks of accounts it does not have are held "
        "back until someone picks again. If the old file is the right one, open it in "
        "QuickBooks instead; nothing has been changed."
    )
    question = (
        f"Take the GL accounts from {opened.label} and export to that company file from now on?"
    )
    confirm = confirm_dialog("Re-bind to another file?", question, "Re-bind")
    actions = {
        "type": "actions",
        "elements": [
            button(
                REBIND_LABEL,
                ActionId.REBIND_ACCOUNTS,
                opened.encode(),
                style="danger",
                confirm=confirm,
            )
        ],
    }
    return {"text": text, "blocks": [section(f":warning: {text}"), actions], **EPHEMERAL}


def rebind_requested_message(actor: str, opened: CompanyFile) -> dict[str, Any]:
    text = (
        f"GL account refresh requested by {who(actor)}, re-binding to {escape(opened.label)}: "
        "the QuickBooks Web Connector fetches that file's chart of accounts on its next update, "
        "and exports go to that file from then on. I'll reply here when it is done."
    )
    return {"text": text, "blocks": [section(f":arrows_counterclockwise: {text}")]}
