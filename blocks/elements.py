"""Tiny Block Kit constructors that enforce Slack's limits in one place instead of per builder."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

Block = dict[str, Any]
Element = dict[str, Any]
Style = Literal["primary", "danger"]

ELLIPSIS = "…"
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
CONFIRM_TEXT_MAX = 300
ID_MAX = 255


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup, for text people typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Shorten display-only text to ``limit`` characters, showing that something was cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def plural(count: int, singular: str, many: str) -> str:
    return f"{count} {singular if count == 1 else many}"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def who(actor: str) -> str:
    """A Slack user as a mention; another actor (the CLI's `cli:ann`) as plain words."""
    return mention(actor) if _SLACK_USER.match(actor) else escape(actor)


def slack_date(at: datetime) -> str:
    """A time every reader sees in their own time zone; the fallback is UTC (naive = UTC)."""
    utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    fallback = utc.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _checked(value: str, limit: int, what: str) -> str:
    # IDs and values are read back by handlers: cutting them would corrupt data, so refuse.
    if len(value) > limit:
        raise ValueError(f"{what} longer than {limit} characters: {value[:40]!r}…")
    return str(value)  # a plain str, not a StrEnum member, so payloads compare and dump simply


def option(text: str, value: str) -> Element:
    return {
        "text": plain(truncate(text, OPTION_TEXT_MAX)),
        "value": _checked(value, OPTION_VALUE_MAX, "option value"),
    }


def confirm_dialog(title: str, text: str, confirm: str, deny: str = "Cancel") -> Element:
    return {
        "title": plain(truncate(title, 100)),
        "text": plain(truncate(text, CONFIRM_TEXT_MAX)),
        "confirm": plain(truncate(confirm, 30)),
        "deny": plain(truncate(deny, 30)),
        "style": "danger",
    }


def button(
    text: str,
    action_id: str,
    value: str,
    style: Style | None = None,
    confirm: Element | None = None,
) -> Element:
    element: Element = {
        "type": "button",
        "text": plain(_checked(text, BUTTON_TEXT_MAX, "button text")),
        "action_id": _checked(action_id, ID_MAX, "action_id"),
        "value": _checked(value, BUTTON_VALUE_MAX, "button value"),
    }
    if style is not None:
        element["style"] = style
    if confirm is not None:
        element["confirm"] = confirm
    return element


def external_select(
    action_id: str,
    placeholder: str,
    initial_option: Element | None = None,
    min_query_length: int = 0,
) -> Element:
    """A select whose options the app serves (GL accounts outgrow the 100-option static limit)."""
    element: Element = {
        "type": "external_select",
        "action_id": _checked(action_id, ID_MAX, "action_id"),
        "placeholder": plain(placeholder),
        "min_query_length": min_query_length,
    }
    if initial_option is not None:
        element["initial_option"] = initial_option
    return element


def static_select(
    action_id: str, placeholder: str, options: Sequence[Element], initial_option: Element
) -> Element:
    if not 0 < len(options) <= 100:
        raise ValueError("a static select holds 1 to 100 options")
    return {
        "type": "static_select",
        "action_id": _checked(action_id, ID_MAX, "action_id"),
        "placeholder": plain(placeholder),
        "options": list(options),
        "initial_option": initial_option,
    }


def header(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "header", "text": plain(truncate(text, HEADER_TEXT_MAX))}
    return _with_id(block, block_id)


def section(text: str, accessory: Element | None = None, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(truncate(text, SECTION_TEXT_MAX))}
    if accessory is not None:
        block["accessory"] = accessory
    return _with_id(block, block_id)


def context(*texts: str, block_id: str | None = None) -> Block:
    if not 0 < len(texts) <= 10:
        raise ValueError("a context block holds 1 to 10 elements")
    block: Block = {"type": "context", "elements": [mrkdwn(text) for text in texts]}
    return _with_id(block, block_id)


def actions(elements: Sequence[Element], block_id: str | None = None) -> Block:
    if not 0 < len(elements) <= 25:
        raise ValueError("an actions block holds 1 to 25 elements")
    return _with_id({"type": "actions", "elements": list(elements)}, block_id)


def input_block(block_id: str, label: str, element: Element, *, optional: bool = False) -> Block:
    """A modal's input; its value comes back under ``block_id`` in the view_submission."""
    block: Block = {
        "type": "input",
        "block_id": _checked(block_id, ID_MAX, "block_id"),
        "label": plain(truncate(label, 2000)),
        "element": element,
    }
    if optional:
        block["optional"] = True
    return block


def _with_id(block: Block, block_id: str | None) -> Block:
    if block_id is not None:
        block["block_id"] = _checked(block_id, ID_MAX, "block_id")
    return block
