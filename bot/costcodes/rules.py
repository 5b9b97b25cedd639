"""The cost-code rules that QuickBooks Desktop and the source workflow impose (DESIGN §1).

Text is made storable first (`normalise`: NFC, typographic quotes, dashes and the ellipsis as
ASCII, whitespace runs as one space); what still is not printable Latin-1 breaks a rule, named,
because QuickBooks Desktop refuses it or stores `?`. Every intake (import, Procore) and the export
use these same functions.
"""

from __future__ import annotations

import re
import unicodedata

REPORT_NAME_MAX = 96
"""Code plus description, as it appears in reports."""
ITEM_NAME_MAX = 31
"""QuickBooks item Name: the code itself."""
NAMED_MAX = 3
"""Unstorable characters named per field; the rest are counted."""

_ASCII_FOR = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark
        "\u201a": "'",  # single low-9 quotation mark
        "\u201b": "'",  # single high-reversed-9 quotation mark
        "\u2032": "'",  # prime
        "\u201c": '"',  # left double quotation mark
        "\u201d": '"',  # right double quotation mark
        "\u201e": '"',  # double low-9 quotation mark
        "\u201f": '"',  # double high-reversed-9 quotation mark
        "\u2033": '"',  # double prime
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
        "\u2026": "...",  # horizontal ellipsis
    }
)
_WHITESPACE = re.compile(r"\s+")


def normalise(value: str | None) -> str:
    """NFC, typographic punctuation as ASCII, whitespace runs as one space, ends trimmed.

    Nothing else is changed: a character QuickBooks cannot store is left for `violations` to name.
    """
    text = unicodedata.normalize("NFC", value or "").translate(_ASCII_FOR)
    return _WHITESPACE.sub(" ", text).strip()


def storable(char: str) -> bool:
    """Printable ISO-8859-1: what QuickBooks Desktop keeps as typed."""
    point = ord(char)
    return 0x20 <= point <= 0x7E or 0xA0 <= point <= 0xFF


def _char_name(char: str) -> str:
    return unicodedata.name(char, f"U+{ord(char):04X}")


def unstorable(field: str, value: str) -> str | None:
    """The characters of `value` QuickBooks cannot store, named, or None."""
    found: list[str] = []
    for char in value:
        if not storable(char) and char not in found:
            found.append(char)
    if not found:
        return None
    named = ", ".join(
        f'"{c}" ({_char_name(c)})' if c.isprintable() else _char_name(c) for c in found[:NAMED_MAX]
    )
    more = f" and {len(found) - NAMED_MAX} more" if len(found) > NAMED_MAX else ""
    which = "a character" if len(found) == 1 else "characters"
    return (
        f"the {field} contains {which} QuickBooks cannot store: {named}{more} (QuickBooks "
        "refuses it or stores ?)"
    )


def violations(code: str, description: str) -> list[str]:
    """Every rule the code breaks, in plain words; empty when it may be exported."""
    problems: list[str] = []
    if not code:
        problems.append("the code is blank")
    if not description:
        problems.append("the description is blank")
    if len(code) > ITEM_NAME_MAX:
        problems.append(
            f"the code is {len(code)} characters long; QuickBooks item names allow at most "
            f"{ITEM_NAME_MAX}"
        )
    if ":" in code:
        problems.append(
            'the code contains ":", which QuickBooks reserves to separate parent and sub-items'
        )
    report_name = f"{code} {description}"
    if code and description and len(report_name) > REPORT_NAME_MAX:
        problems.append(
            f'"code description" is {len(report_name)} characters long; at most '
            f"{REPORT_NAME_MAX} are allowed"
        )
    for field, value in (("code", code), ("description", description)):
        problem = unstorable(field, value)
        if problem:
            problems.append(problem)
    return problems


def violation_text(code: str, description: str) -> str | None:
    """The rules broken, joined into one sentence fragment, or None."""
    problems = violations(code, description)
    return "; ".join(problems) if problems else None
