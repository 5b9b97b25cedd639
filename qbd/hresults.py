"""What an hresult from the Web Connector means: our fault, or QuickBooks' surroundings (DESIGN §5).

Only a message QuickBooks could not parse is our fault and fails the codes it carried; every
other hresult is connection trouble: the work waits, and the next update carries on. The words
here are for the person at the Web Connector and in Slack; the original text goes to the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Trouble(StrEnum):
    """The kinds of answer an hresult stands for."""

    PARSE = "parse"
    """QuickBooks could not parse the message (nothing in it ran): our fault."""
    QUICKBOOKS_CLOSED = "quickbooks_closed"
    WRONG_FILE = "wrong_company_file"
    NO_RIGHTS = "no_rights"
    DIALOG = "dialog_open"
    ERROR = "error"
    """Anything else; the work still waits rather than fails."""


@dataclass(frozen=True, slots=True)
class Meaning:
    """An hresult in plain words."""

    trouble: Trouble
    words: str


_UNKNOWN = "QuickBooks did not accept the Web Connector's request"
_FILE_MODE = (
    "QuickBooks has the company file open in a mode the Web Connector cannot use (single-user "
    "mode, or another application holds the file); switch QuickBooks to multi-user mode "
    "(File > Switch to Multi-user Mode) or close the other application"
)
_RIGHTS = "the Web Connector's QuickBooks user may not use this company file"

TABLE: dict[int, Meaning] = {
    0x80040400: Meaning(Trouble.PARSE, "QuickBooks could not read the request (our fault)"),
    0x80040401: Meaning(Trouble.QUICKBOOKS_CLOSED, "the Web Connector could not reach QuickBooks"),
    0x80040403: Meaning(Trouble.WRONG_FILE, "QuickBooks could not open the company file"),
    0x80040408: Meaning(Trouble.QUICKBOOKS_CLOSED, "QuickBooks is closed and could not start"),
    0x8004040A: Meaning(Trouble.WRONG_FILE, "QuickBooks has another company file open"),
    0x80040410: Meaning(Trouble.ERROR, _FILE_MODE),
    0x80040414: Meaning(Trouble.DIALOG, "a dialog is open in QuickBooks"),
    0x80040416: Meaning(Trouble.QUICKBOOKS_CLOSED, "QuickBooks is not running"),
    0x80040417: Meaning(Trouble.WRONG_FILE, "QuickBooks has no company file open"),
    0x80040418: Meaning(
        Trouble.NO_RIGHTS,
        "this application has not been given access to the company file yet",
    ),
    0x8004041A: Meaning(Trouble.NO_RIGHTS, _RIGHTS),
    0x8004041B: Meaning(Trouble.ERROR, "QuickBooks could not lock the company file; it is busy"),
    0x8004041D: Meaning(
        Trouble.NO_RIGHTS, "this application may not log in to the company file automatically"
    ),
    0x80040420: Meaning(Trouble.NO_RIGHTS, "the QuickBooks user denied this application access"),
    0x80040422: Meaning(Trouble.ERROR, _FILE_MODE),
    0x80040424: Meaning(Trouble.QUICKBOOKS_CLOSED, "QuickBooks has not finished starting"),
    0x80040430: Meaning(Trouble.NO_RIGHTS, _RIGHTS),
}


def parse_hresult(hresult: str) -> int | None:
    """`0x80040408`, `80040408` or the signed decimal `-2147220472`, as an unsigned 32-bit value."""
    text = hresult.strip()
    if not text:
        return None
    try:
        if text.lower().startswith("0x"):
            value = int(text, 16)
        elif text.lstrip("-").isdigit():
            value = int(text)
        else:
            value = int(text, 16)
    except ValueError:
        return None
    return value & 0xFFFFFFFF


def classify(hresult: str) -> Meaning:
    """What the hresult means; an unknown one is connection trouble of kind ERROR."""
    value = parse_hresult(hresult)
    if value is None:
        return Meaning(Trouble.ERROR, _UNKNOWN)
    return TABLE.get(value, Meaning(Trouble.ERROR, _UNKNOWN))


def is_our_fault(hresult: str) -> bool:
    """True only for a message QuickBooks could not parse: then the codes it carried fail."""
    return classify(hresult).trouble is Trouble.PARSE
