"""Export replies: the status reply edited in place, the final reply, and the export refusals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from blocks.elements import button, context, escape, plural, section, slack_date, who
from blocks.ids import ActionId, ListRef
from blocks.messages import EPHEMERAL
from bot.connection.words import (
    GOES_ON,
    ConnectionState,
    ConnectionView,
    headline,
    how_to_fix,
)
from bot.costcodes.domain import ExportProgress, FailedCode, ListFilter

MAX_LISTED = 30
"""Failures listed by name in one reply; the rest are counted (section text holds 3,000)."""
REASON_MAX = 150
TEXT_BUDGET = 2800
"""Room for the listed failures inside one section (3,000), leaving space for the last line."""


def ago(at: datetime) -> str:
    """A relative time every reader sees from their own clock ("3 minutes ago")."""
    utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return f"<!date^{int(utc.timestamp())}^{{ago}}|{utc.strftime('%Y-%m-%d %H:%M UTC')}>"


def _codes(count: int) -> str:
    return plural(count, "cost code", "cost codes")


def status_text(progress: ExportProgress) -> str:
    """The one threaded reply that follows an export until it ends."""
    starter = who(progress.started_by)
    if progress.finished:
        if not progress.failed:
            return f"Export of {_codes(progress.total)} started by {starter}: all done."
        return (
            f"Export of {_codes(progress.total)} started by {starter}: finished, "
            f"{progress.succeeded} succeeded, {len(progress.failed)} failed."
        )
    if not progress.picked_up:
        contact = (
            f"last contact {ago(progress.last_contact)}"
            if progress.last_contact
            else "no contact yet"
        )
        return (
            f"Export of {_codes(progress.total)} started by {starter} — waiting for the QuickBooks "
            f"Web Connector ({contact})"
        )
    return f"Exporting… {progress.done} of {progress.total} (started by {starter})"


def hold_text(view: ConnectionView | None) -> str | None:
    """Connection trouble while an export waits: what is wrong, how to fix it, nothing is lost."""
    if view is None or view.state in (ConnectionState.OK, ConnectionState.WAITING):
        return None  # a silence has its own notice; the waiting line shows the last contact
    return f"On hold ({view.label}): {headline(view)} {how_to_fix(view)} {GOES_ON}"


def status_message(progress: ExportProgress) -> dict[str, Any]:
    text = status_text(progress)
    hold = None if progress.finished else hold_text(progress.connection)
    if hold is None:
        return {"text": text, "blocks": [section(text)]}
    return {
        "text": f"{text}. {escape(hold)}",
        "blocks": [section(text), section(f":pause_button: {escape(hold)}")],
    }


def final_message(progress: ExportProgress) -> dict[str, Any]:
    """Broadcast to the channel when an export ends: success, or what failed and a Retry."""
    if not progress.failed:
        text = f"Success — {_codes(progress.succeeded)} are now Service items in QuickBooks"
        return {"text": text, "blocks": [section(f":white_check_mark: *{text}*")]}
    headline = f"{progress.succeeded} succeeded, {len(progress.failed)} failed"
    blocks = [
        section(f":warning: *{headline}*"),
        section(_failure_lines(progress.failed)),
        {
            "type": "actions",
            "elements": [
                button(
                    "Retry",
                    ActionId.RETRY_FAILED,
                    ListRef(ListFilter.FAILED).encode(),
                    style="primary",
                )
            ],
        },
        context(
            "Fix what the reasons ask (pick another account, rename in QuickBooks), then Retry."
        ),
    ]
    summary = escape("; ".join(_plain(f) for f in progress.failed[:5]))
    return {"text": f"{headline}: {summary}", "blocks": blocks}


def _plain(failure: FailedCode) -> str:
    return f"{failure.code}: {failure.reason}"


def _failure_lines(failures: Sequence[FailedCode]) -> str:
    lines: list[str] = []
    size = 0
    for failure in failures[:MAX_LISTED]:
        line = f"• *{escape(failure.code)}* — Failed: {escape(failure.reason[:REASON_MAX])}"
        if size + len(line) > TEXT_BUDGET:
            break
        lines.append(line)
        size += len(line) + 1
    if len(lines) < len(failures):
        lines.append(f"…and {len(failures) - len(lines)} more: `/costcodes review failed`")
    return "\n".join(lines)


CHECKS = (
    "Please check, on the QuickBooks computer:\n"
    "• the QuickBooks Web Connector is running (Auto-Run on, or press *Update Selected*);\n"
    "• the Windows user it runs as is logged in, and the computer is awake;\n"
    "• QuickBooks is open with the company file."
)
"""What to check when the Web Connector is late or silent (stale and silence notices)."""


def stale_message(minutes: int) -> dict[str, Any]:
    text = (
        f"The QuickBooks Web Connector has not picked up this export in {minutes} minutes. "
        "The codes stay queued and go as soon as it runs."
    )
    return {"text": text, "blocks": [section(f":hourglass: {text}"), section(CHECKS)]}


def silence_message(hours: float, last_contact: datetime | None) -> dict[str, Any]:
    """Said once in the channel of a running export when the Web Connector has gone silent."""
    since = f" (last contact {ago(last_contact)})" if last_contact else ""
    text = (
        f"The QuickBooks Web Connector has not called in for over {hours:g} "
        f"{'hour' if hours == 1 else 'hours'}{since}, so this export waits. Nothing is lost: the "
        "codes stay queued and go as soon as it runs again."
    )
    return {"text": text, "blocks": [section(f":zzz: {text}"), section(CHECKS)]}


def already_exporting_message(started_by: str, started_at: datetime) -> dict[str, Any]:
    text = (
        f"An export is already running, started by {who(started_by)} at "
        f"{slack_date(started_at)}. Its progress is in the thread under the list."
    )
    return {"text": text, "blocks": [section(text)], **EPHEMERAL}


def held_message(held: Sequence[FailedCode], *, exported: int) -> dict[str, Any]:
    """Which Ready codes stay behind and why (ephemeral to the person who pressed Export)."""
    if exported:
        head = f"{_codes(len(held))} stay in Ready to Export:"
    else:
        head = "Nothing was exported: no Ready cost code can go to QuickBooks yet."
    lines = _failure_lines(held).replace("— Failed:", "—")
    text = f"{head}\n{lines}" if held else head
    return {"text": head, "blocks": [section(text)], **EPHEMERAL}
