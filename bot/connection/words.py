"""The QuickBooks connection states and their plain words: what is wrong and how to fix it.

Pure (no database, no clock, no Slack): the thread reply, `/costcodes status`, the digest,
`/healthz`, the CLI and the Web Connector's `getLastError` all say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from qbd.companyfile import CompanyFile
from qbd.hresults import Trouble

GOES_ON = "Nothing is lost: the cost codes stay queued and the export goes on at the next update."


class ConnectionState(StrEnum):
    """The company's connection to QuickBooks, separate from every cost code's Export Status."""

    OK = "ok"
    WAITING = "waiting"
    """The Web Connector has not called in for too long (or never)."""
    QUICKBOOKS_CLOSED = "quickbooks_closed"
    WRONG_FILE = "wrong_company_file"
    NO_RIGHTS = "no_rights"
    DIALOG = "dialog_open"
    ERROR = "error"


STATE_FOR: dict[Trouble, ConnectionState] = {
    Trouble.QUICKBOOKS_CLOSED: ConnectionState.QUICKBOOKS_CLOSED,
    Trouble.WRONG_FILE: ConnectionState.WRONG_FILE,
    Trouble.NO_RIGHTS: ConnectionState.NO_RIGHTS,
    Trouble.DIALOG: ConnectionState.DIALOG,
    Trouble.ERROR: ConnectionState.ERROR,
}

LABELS: dict[ConnectionState, str] = {
    ConnectionState.OK: "connected",
    ConnectionState.WAITING: "waiting for the Web Connector",
    ConnectionState.QUICKBOOKS_CLOSED: "QuickBooks closed",
    ConnectionState.WRONG_FILE: "wrong company file",
    ConnectionState.NO_RIGHTS: "QuickBooks user lacks rights",
    ConnectionState.DIALOG: "dialog open in QuickBooks",
    ConnectionState.ERROR: "error",
}


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """Where the connection stands, as every surface shows it."""

    state: ConnectionState
    since: datetime | None = None
    message: str | None = None
    """What is wrong in plain words (for WAITING: how long it has been silent)."""
    open_file: CompanyFile | None = None
    expected_file: CompanyFile | None = None

    @property
    def ok(self) -> bool:
        return self.state is ConnectionState.OK

    @property
    def label(self) -> str:
        return LABELS[self.state]


def headline(view: ConnectionView) -> str:
    """What is wrong, one sentence."""
    if view.state is ConnectionState.OK:
        return "QuickBooks is connected."
    if view.state is ConnectionState.WRONG_FILE and not view.message:
        return f"{wrong_file_words(view.open_file, view.expected_file)}."
    if view.state is ConnectionState.WAITING:
        return f"The QuickBooks Web Connector {view.message or 'has not called in yet'}."
    words = view.message or LABELS[view.state]
    return f"{words[:1].upper()}{words[1:]}."


def wrong_file_words(open_file: CompanyFile | None, expected: CompanyFile | None) -> str:
    is_open = f"has {open_file.label} open" if open_file else "has no company file open"
    return f"QuickBooks {is_open}{belong_words(expected)}"


def belong_words(expected: CompanyFile | None) -> str:
    return f", but the cost codes belong to {expected.label}" if expected else ""


def _expected(view: ConnectionView) -> str:
    return view.expected_file.label if view.expected_file else "the company file"


def how_to_fix(view: ConnectionView) -> str:
    """What to do about it, on the QuickBooks computer or here."""
    match view.state:
        case ConnectionState.OK:
            return ""
        case ConnectionState.WAITING:
            return (
                "On the QuickBooks computer: log in to Windows as the Web Connector's user, keep "
                "the computer awake, start the QuickBooks Web Connector and turn Auto-Run on "
                "(or press Update Selected)."
            )
        case ConnectionState.QUICKBOOKS_CLOSED:
            return (
                f"Log in to Windows as the Web Connector's user and open {_expected(view)} in "
                "QuickBooks, or let the Web Connector start QuickBooks by itself (QuickBooks "
                "Admin: Edit > Preferences > Integrated Applications > Company Preferences, "
                "allow Cost Code Export to log in automatically)."
            )
        case ConnectionState.WRONG_FILE:
            return (
                f"Open {_expected(view)} in QuickBooks (File > Open or Restore Company). If the "
                "open file is now the right one, re-bind on purpose: `/costcodes accounts sync` "
                "(and confirm) or `costcodes accounts sync --yes`."
            )
        case ConnectionState.NO_RIGHTS:
            return (
                "As the QuickBooks Admin, open the company file, then Edit > Preferences > "
                "Integrated Applications > Company Preferences: select Cost Code Export, choose "
                '"Yes, always; allow access even if QuickBooks is not running" and log it in '
                "as a QuickBooks user who may add items (grant the application unattended "
                "access)."
            )
        case ConnectionState.DIALOG:
            return (
                "On the QuickBooks computer, close the window or message open in QuickBooks (an "
                "update, backup or registration prompt, a report); the Web Connector can then "
                "go on."
            )
    return (
        "Check QuickBooks and the Web Connector on the QuickBooks computer; if it happens again, "
        "tell the bot's operator (the log has QuickBooks' own words)."
    )


def full_text(view: ConnectionView) -> str:
    """Headline and fix together, e.g. for `/healthz` and the CLI."""
    fix = how_to_fix(view)
    return f"{headline(view)} {fix}".strip()


def web_connector_text(view: ConnectionView) -> str:
    """What `getLastError` answers: the person at the Web Connector reads it."""
    return f"{headline(view)} {how_to_fix(view)} {GOES_ON}"
