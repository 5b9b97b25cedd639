"""The reminder digest and the `/costcodes digest` replies as Block Kit (pure: no clock, no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from blocks.elements import Block, button, context, escape, plural, section, slack_date, who
from blocks.ids import COMMAND, ActionId, BlockId, ListRef
from blocks.messages import EPHEMERAL, procore_line
from bot.connection.words import ConnectionState, full_text
from bot.costcodes.domain import ListFilter
from bot.digests.views import DigestAction, DigestOutcome, DigestView, LastExport, ScheduleView

TITLE = "Cost code digest"
INCOME = "GL Account – Income"


def digest_message(view: DigestView) -> dict[str, Any]:
    """What waits, the last export and the Web Connector's health; Review posts the list."""
    last = context(last_export_text(view.last_export))
    blocks = [_summary_block(view), last, _contact_block(view)]
    text = _summary_text(view)
    trouble = _connection_words(view)
    if trouble:
        blocks.append(section(f":warning: {trouble}"))
        text += f" {trouble}"
    if view.procore is not None:
        blocks.append(context(procore_line(view.procore)))
        if not view.procore.healthy:
            text += f" {escape(view.procore.words)}."
    return {"text": text, "blocks": blocks}


def _connection_words(view: DigestView) -> str | None:
    """QuickBooks trouble other than silence (which the contact warning already covers)."""
    connection = view.connection
    if connection is None or connection.state in (ConnectionState.OK, ConnectionState.WAITING):
        return None
    return f"*QuickBooks: {connection.label}* — {escape(full_text(connection))}"


def wait_text(wait: timedelta) -> str:
    """A waiting time in words: ``under an hour``, ``5 hours``, ``3 days``."""
    hours = int(wait.total_seconds() // 3600)
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return plural(hours, "hour", "hours")
    return plural(hours // 24, "day", "days")


def _lines(view: DigestView) -> list[str]:
    ready = f"• *{view.ready}* Ready to Export"
    if view.missing_income:
        ready += f" — {view.missing_income} still without a {INCOME}"
    lines = [ready, f"• *{view.failed}* Failed to Export"]
    if view.oldest_wait is not None and view.ready:
        lines.append(f"• Oldest in Ready to Export: {wait_text(view.oldest_wait)}")
    return lines


def _summary_block(view: DigestView) -> Block:
    if not view.waiting:
        words = "Nothing waits: no cost codes are Ready to Export or Failed to Export."
        return section(f":white_check_mark: *{TITLE}* — {words}", block_id=BlockId.DIGEST)
    target = ListRef(ListFilter.READY if view.ready else ListFilter.FAILED)
    review = button("Review", ActionId.REVIEW, target.encode(), style="primary")
    body = "\n".join([f":clipboard: *{TITLE}*", *_lines(view)])
    return section(body, accessory=review, block_id=BlockId.DIGEST)


def _summary_text(view: DigestView) -> str:
    if not view.waiting:
        text = f"{TITLE}: nothing waits (no cost codes Ready to Export or Failed to Export)."
    else:
        missing = f" ({view.missing_income} without a {INCOME})" if view.missing_income else ""
        text = f"{TITLE}: {view.ready} Ready to Export{missing}, {view.failed} Failed to Export."
    if view.contact_stale:
        text += " Warning: " + stale_contact_words(view.last_contact)
    return text


def last_export_text(last: LastExport | None) -> str:
    if last is None:
        return "No export has reached QuickBooks yet."
    codes = plural(last.count, "code", "codes")
    return f"Last export: {codes} by {who(last.by)}, {slack_date(last.at)}."


def stale_contact_words(last_contact: datetime | None) -> str:
    """Why exports would wait: the Web Connector never called in, or not for too long."""
    if last_contact is None:
        return (
            "the QuickBooks Web Connector has never called in, so exports wait until it is set up."
        )
    return (
        f"the QuickBooks Web Connector has not called in since {slack_date(last_contact)}, "
        "so exports wait until it runs again. Check it on the QuickBooks computer."
    )


def _contact_block(view: DigestView) -> Block:
    if view.contact_stale:
        words = stale_contact_words(view.last_contact)
        return section(f":warning: *Warning:* {words[0].upper()}{words[1:]}")
    assert view.last_contact is not None
    return context(f"QuickBooks Web Connector last contact: {slack_date(view.last_contact)}.")


def digest_reply(outcome: DigestOutcome) -> dict[str, Any] | None:
    """The asker's ephemeral answer; None after `digest now` (the digest itself answers)."""
    if outcome.action is DigestAction.NOW:
        return None
    schedule = outcome.schedule
    if outcome.action is DigestAction.OFF:
        words = _off_words(schedule, outcome.changed)
    elif schedule is None or not schedule.enabled:
        words = _none_words()
    else:
        lead = "Digest set" if outcome.action is DigestAction.SET else "This channel's digest"
        words = f"{lead}: {_when(schedule)}"
    return {**EPHEMERAL, "text": words, "blocks": [section(words)]}


def _when(schedule: ScheduleView) -> str:
    when = f"{escape(schedule.summary)} ({escape(schedule.tz)})."
    if schedule.next_at is not None:
        when += f" Next: {slack_date(schedule.next_at)}."
    if not schedule.post_when_empty:
        when += " When nothing waits, no digest is posted."
    return when


def _off_words(schedule: ScheduleView | None, changed: bool) -> str:
    if not changed or schedule is None:
        return "This channel has no scheduled digest; nothing was changed."
    return (
        "Digest off: no more scheduled digests in this channel (it was "
        f"{escape(schedule.summary)}, {escape(schedule.tz)}). `{COMMAND} digest now` still "
        "posts one."
    )


def _none_words() -> str:
    return (
        f"This channel has no scheduled digest. Set one with `{COMMAND} digest weekdays 9:00`, "
        f"`{COMMAND} digest daily 8:30`, `{COMMAND} digest mondays 9:00` or a 5-field cron, "
        f"e.g. `{COMMAND} digest 0 9 * * 1-5`."
    )
