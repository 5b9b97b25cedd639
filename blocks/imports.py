"""`/costcodes import` as Block Kit: the modal with its file field, and the private report.

The report is the CLI's (`bot.costcodes.intake.report_lines`), line for line, so the two
never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from blocks.elements import (
    SECTION_TEXT_MAX,
    Block,
    context,
    escape,
    input_block,
    plain,
    plural,
    section,
    truncate,
)
from blocks.ids import CallbackId
from blocks.messages import EPHEMERAL

ACCEPTED_TYPES = ("csv", "json")
REPORT_BLOCKS_MAX = 40
"""Of a message's 50 blocks; a report with more refused rows says how many it left out."""
LINE_MAX = 500
"""A refused row's line is cut here (a JSON entry can name any number of unknown keys)."""
FORMAT = (
    "A CSV file with a header row `code,description[,division]` (UTF-8), or a JSON list of "
    "objects with those keys. Valid rows become Ready to Export; refused rows are listed with "
    "their line and reason, and importing the same file again changes nothing."
)


def import_modal(channel: str | None) -> dict[str, Any]:
    """The file field; the channel the command came from rides along for the report."""
    field = {
        "type": "file_input",
        "action_id": CallbackId.IMPORT_FILE.value,
        "filetypes": list(ACCEPTED_TYPES),
        "max_files": 1,
    }
    return {
        "type": "modal",
        "callback_id": CallbackId.IMPORT.value,
        "private_metadata": json.dumps({"channel": channel}),
        "title": plain("Import cost codes"),
        "submit": plain("Import"),
        "close": plain("Cancel"),
        "blocks": [
            section(FORMAT),
            input_block(CallbackId.IMPORT_FILE, "CSV or JSON file", field),
        ],
    }


def import_report_message(name: str, lines: Sequence[str]) -> dict[str, Any]:
    """The CLI's report for the person who imported: the summary, then one line per row."""
    summary, details = lines[0], list(lines[1:])
    blocks: list[Block] = [section(f":inbox_tray: *{escape(name)}* — {escape(summary)}")]
    chunk: list[str] = []
    size = shown = 0
    for raw in details:
        line = escape(truncate(raw, LINE_MAX))
        if chunk and size + len(line) + 1 > SECTION_TEXT_MAX - 6:
            blocks.append(_code(chunk))
            chunk, size = [], 0
            if len(blocks) >= REPORT_BLOCKS_MAX:
                break
        chunk.append(line)
        size += len(line) + 1
        shown += 1
    if chunk:
        blocks.append(_code(chunk))
    left_out = len(details) - shown
    if left_out:
        blocks.append(
            context(
                f"{plural(left_out, 'more line', 'more lines')} not shown; `costcodes import` "
                "on the server prints the whole report."
            )
        )
    return {**EPHEMERAL, "text": f"Import of {name}: {summary}", "blocks": blocks}


def import_unusable_message(name: str, reason: str) -> dict[str, Any]:
    """The file as a whole could not be used: the CLI's words, and nothing was written."""
    words = f":no_entry: Nothing was imported from {escape(name)}: {escape(reason)}."
    return {**EPHEMERAL, "text": words, "blocks": [section(words)]}


def _code(escaped_lines: Sequence[str]) -> Block:
    return section("```" + "\n".join(escaped_lines) + "```")
