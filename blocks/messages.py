"""Short replies to /costcodes: help, status, errors and refusals (digests: blocks.digest)."""

from __future__ import annotations

from typing import Any

from blocks.elements import (
    context,
    escape,
    section,
    slack_date,
)
from blocks.ids import COMMAND
from bot.connection.words import full_text
from bot.costcodes.domain import STATE_LABELS, State, StatusSummary
from bot.errors import ERP_ACTIONS
from bot.procore.view import ProcoreHealth

EPHEMERAL = {"response_type": "ephemeral"}
"""Merged into replies only the asker should see (``respond`` and ``chat.postEphemeral``)."""

_USAGE = (
    (f"`{COMMAND}` or `{COMMAND} review`", "post the Ready to Export list in this channel."),
    (
        f"`{COMMAND} review ready|failed|synced|rejected`",
        f"post another list, e.g. `{COMMAND} review failed`.",
    ),
    (
        f"`{COMMAND} status`",
        "counts by Export Status, and when the QuickBooks Web Connector last called in.",
    ),
    (
        f"`{COMMAND} accounts sync`",
        "fetch the GL accounts from QuickBooks again, at the Web Connector's next run.",
    ),
    (
        f"`{COMMAND} digest now|off|<cron>`",
        "post the reminder digest now, stop it, or schedule it here with a 5-field cron or "
        f"`weekdays|daily|mondays… H:MM`, e.g. `{COMMAND} digest 0 9 * * 1-5` or "
        f"`{COMMAND} digest weekdays 9:00`; `{COMMAND} digest` shows the schedule.",
    ),
    (
        f"`{COMMAND} import`",
        "import cost codes from a CSV or JSON file (as `costcodes import` takes); "
        "only people with ERP permission.",
    ),
    (f"`{COMMAND} help`", "this message."),
)
_PERMISSION = (
    "Only people with ERP permission can pick GL accounts, export or reject cost codes; "
    "everyone in the channel can look."
)


def help_message() -> dict[str, Any]:
    usage = "\n".join(f"• {escape(command)} — {what}" for command, what in _USAGE)
    intro = (
        "*Cost Code Export* — review cost codes, pick their GL accounts and export them to "
        "QuickBooks Desktop as Service items."
    )
    text = (
        f"How to use {COMMAND}: help, review [ready|failed|synced|rejected], status, "
        "accounts sync, digest now|off|<cron>, import."
    )
    return {
        **EPHEMERAL,
        "text": escape(text),
        "blocks": [section(intro), section(usage), context(_PERMISSION)],
    }


def status_message(summary: StatusSummary) -> dict[str, Any]:
    counts = [f"{STATE_LABELS[state]}: {summary.counts.get(state, 0)}" for state in State]
    contact = "never" if summary.last_contact is None else slack_date(summary.last_contact)
    web_connector = f"QuickBooks Web Connector last contact: {contact}"
    lines = "\n".join(f"• {line}" for line in counts)
    blocks = [section(f"*Cost codes by Export Status*\n{lines}"), context(web_connector)]
    text = f"Cost codes by Export Status — {', '.join(counts)}. {web_connector}."
    view = summary.connection
    if view is not None:
        words = escape(full_text(view))
        icon = ":white_check_mark:" if view.ok else ":warning:"
        blocks.append(section(f"{icon} *QuickBooks: {view.label}* — {words}"))
        text += f" QuickBooks: {view.label} — {words}"
    if summary.procore is not None:
        procore = procore_line(summary.procore)
        blocks.append(context(procore))
        text += f" {procore}"
    return {**EPHEMERAL, "text": text, "blocks": blocks}


def procore_line(health: ProcoreHealth) -> str:
    """One line on the Procore link: healthy or the problem, last reconcile, write-backs waiting."""
    when = "never" if health.last_reconcile_at is None else slack_date(health.last_reconcile_at)
    words = escape(health.words)
    icon = ":white_check_mark:" if health.healthy else ":warning:"
    held = f", {health.held_back} held back by a rule" if health.held_back else ""
    return (
        f"{icon} {words}. Last read of Procore's list: {when}; "
        f"write-backs waiting: {health.writebacks_waiting}{held}."
    )


def error_message(text: str) -> dict[str, Any]:
    """Plain words for the asker only; ``text`` is escaped, so it cannot carry Slack markup."""
    words = f":no_entry: {escape(text)}"
    return {**EPHEMERAL, "text": words, "blocks": [section(words)]}


def not_permitted_message(who_can: str, what: str = ERP_ACTIONS) -> dict[str, Any]:
    """``who_can`` is mrkdwn, e.g. ``<@U123> or members of <!subteam^S456>``."""
    words = (
        f":no_entry: Only {who_can} can {escape(what)}. "
        "Everyone in the channel can look at the list."
    )
    return {**EPHEMERAL, "text": words, "blocks": [section(words)]}


def unexpected_error_message(reference: str) -> dict[str, Any]:
    """An error nobody foresaw: no details for the user, a reference to match the operator's log."""
    words = (
        "Something went wrong on our side and your request may not have been completed. "
        f"Please try again; if it keeps happening, give the reference {escape(reference)} to "
        "the person who runs the Cost Code Export bot."
    )
    return {**EPHEMERAL, "text": words, "blocks": [section(f":warning: {words}")]}
