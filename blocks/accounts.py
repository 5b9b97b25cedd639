"""Replies about refreshing the GL accounts from QuickBooks (`/costcodes accounts sync`)."""

from __future__ import annotations

from typing import Any

from blocks.elements import escape, plural, section, who
from blocks.messages import EPHEMERAL


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
