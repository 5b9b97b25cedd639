"""Slack's Block Kit limits, checked over a whole message (plain dict payloads go unvalidated)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from slack_sdk.models.blocks import Block

EMOJI = re.compile(r"^:[a-z0-9_+-]+: ")
LIMITS = {
    "blocks": 50,
    "actions_elements": 25,
    "context_elements": 10,
    "section_text": 3000,
    "header_text": 150,
    "option_text": 75,
    "option_value": 150,
    "options": 100,
    "button_text": 75,
    "button_value": 2000,
    "confirm_title": 100,
    "confirm_text": 300,
    "confirm_button": 30,
    "placeholder": 150,
    "id": 255,
    "view_blocks": 100,
}


def all_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = list(message.get("blocks", []))
    for attachment in message.get("attachments", []):
        blocks.extend(attachment.get("blocks", []))
    return blocks


def elements(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from block.get("elements", [])
    if "accessory" in block:
        yield block["accessory"]
    if "element" in block:  # an input block's one element
        yield block["element"]


def check_option(option: dict[str, Any]) -> None:
    assert option["text"]["type"] == "plain_text"
    assert len(option["text"]["text"]) <= LIMITS["option_text"], option
    assert len(option["value"]) <= LIMITS["option_value"], option


def check_element(element: dict[str, Any]) -> None:
    if "action_id" in element:
        assert 0 < len(element["action_id"]) <= LIMITS["id"]
    if element.get("type") == "button":
        assert len(element["text"]["text"]) <= LIMITS["button_text"]
        assert len(element["value"]) <= LIMITS["button_value"]
    if "placeholder" in element:
        assert len(element["placeholder"]["text"]) <= LIMITS["placeholder"]
    assert len(element.get("options", [])) <= LIMITS["options"]
    for option in element.get("options", []):
        check_option(option)
    if "initial_option" in element:
        check_option(element["initial_option"])
    if "confirm" in element:
        confirm = element["confirm"]
        assert len(confirm["title"]["text"]) <= LIMITS["confirm_title"]
        assert len(confirm["text"]["text"]) <= LIMITS["confirm_text"]
        assert len(confirm["confirm"]["text"]) <= LIMITS["confirm_button"]
        assert len(confirm["deny"]["text"]) <= LIMITS["confirm_button"]


def check_block(block: dict[str, Any]) -> None:
    assert len(block.get("block_id", "")) <= LIMITS["id"]
    kind = block["type"]
    if kind == "section":
        assert len(block["text"]["text"]) <= LIMITS["section_text"]
    if kind == "header":
        assert len(block["text"]["text"]) <= LIMITS["header_text"]
    if kind == "actions":
        assert 0 < len(block["elements"]) <= LIMITS["actions_elements"]
        ids = [e["action_id"] for e in block["elements"]]
        assert len(ids) == len(set(ids)), "action_ids repeat within a block"
    if kind == "context":
        assert 0 < len(block["elements"]) <= LIMITS["context_elements"]
    for element in elements(block):
        check_element(element)
    # The SDK's own models catch what the checks above miss (unknown fields, wrong types).
    Block.parse(block).to_dict()  # type: ignore[union-attr]


def assert_within_limits(message: dict[str, Any]) -> None:
    """Every limit the builders must respect, plus top-level text for notifications."""
    assert isinstance(message.get("text"), str) and message["text"].strip()
    blocks = all_blocks(message)
    assert len(message.get("blocks", [])) <= LIMITS["blocks"]
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "block_ids repeat in one message"
    for block in blocks:
        check_block(block)
    for attachment in message.get("attachments", []):
        # Colour never speaks alone: the attachment's words are in the message text too.
        if "color" in attachment:
            words = [b["text"]["text"] for b in attachment["blocks"] if "text" in b]
            assert words, "a coloured attachment without words"
            for text in words:
                assert EMOJI.sub("", text) in message["text"]


def assert_view_within_limits(view: dict[str, Any]) -> None:
    """A Home tab or modal: at most 100 blocks, each within the limits a message's blocks are."""
    assert view["type"] in ("home", "modal")
    blocks = view["blocks"]
    assert 0 < len(blocks) <= LIMITS["view_blocks"]
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "block_ids repeat in one view"
    for block in blocks:
        check_block(block)
    for key in ("title", "submit", "close"):
        if key in view:
            assert view[key]["type"] == "plain_text" and len(view[key]["text"]) <= 24
    assert len(view.get("private_metadata", "")) <= 3000
    assert len(view.get("callback_id", "")) <= LIMITS["id"]
