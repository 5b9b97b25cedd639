"""Reading Slack's payloads, on plain dicts: the command words, and what happens to a bad body.

`parse_command` decides what every `/costcodes …` text means, and `_reading` turns any payload
that is not where Slack puts things into one polite `UnreadablePayload`; the scenarios go through
both only on the way to something else.
"""

from __future__ import annotations

from typing import Any

import pytest

from blocks.ids import NONE_VALUE, ListRef, code_block_id, list_block_id
from bot.accounts.chart import Purpose
from bot.costcodes.domain import ListAt, ListFilter
from bot.digests.views import DigestAction
from handlers import inputs
from handlers.inputs import (
    AccountsSyncCommand,
    DigestCommand,
    HelpCommand,
    ImportCommand,
    ReviewCommand,
    StatusCommand,
    UnreadablePayload,
    parse_command,
)

COMMANDS: list[tuple[str | None, inputs.Command]] = [
    (None, ReviewCommand()),
    ("", ReviewCommand()),
    ("   ", ReviewCommand()),
    ("review", ReviewCommand()),
    ("REVIEW Failed", ReviewCommand(ListFilter.FAILED)),
    ("review synced", ReviewCommand(ListFilter.SYNCED)),
    ("review rejected", ReviewCommand(ListFilter.REJECTED)),
    ("review everything", HelpCommand()),
    ("review ready failed", HelpCommand()),
    ("status", StatusCommand()),
    ("status now", HelpCommand()),
    ("help", HelpCommand()),
    ("help me please", HelpCommand()),
    ("accounts sync", AccountsSyncCommand()),
    ("accounts", HelpCommand()),
    ("accounts sync now", HelpCommand()),
    ("digest", DigestCommand(DigestAction.SHOW)),
    ("digest now", DigestCommand(DigestAction.NOW)),
    ("digest off", DigestCommand(DigestAction.OFF)),
    ("digest weekdays  at 9:00", DigestCommand(DigestAction.SET, "weekdays at 9:00")),
    ("digest now please", DigestCommand(DigestAction.SET, "now please")),
    ("import", ImportCommand("T-1")),
    ("import file.csv", HelpCommand()),
    ("export", HelpCommand()),
]


@pytest.mark.parametrize(("text", "command"), COMMANDS)
def test_each_command_text_reads_as_one_command(text: str | None, command: object) -> None:
    assert parse_command(text, trigger_id="T-1") == command


def test_only_import_keeps_the_trigger_id() -> None:
    assert parse_command("import", trigger_id="T-9") == ImportCommand("T-9")
    assert parse_command("status", trigger_id="T-9") == StatusCommand()


def clicked(action: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A block_actions body on a list message showing the failed list's page 2."""
    header = {"block_id": list_block_id(ListRef(ListFilter.FAILED, 2), 4)}
    return {
        "actions": [action],
        "container": {"channel_id": "C1", "message_ts": "111.222"},
        "message": {"ts": "111.222", "blocks": [header]},
        **extra,
    }


def test_a_click_is_read_with_the_list_page_its_message_shows() -> None:
    body = clicked({"action_id": "export-codes"})
    assert inputs.list_at(body) == ListAt("C1", "111.222", ListFilter.FAILED, 2)


def test_a_click_without_a_container_falls_back_to_the_message() -> None:
    body = {"actions": [{}], "channel": {"id": "C2"}, "message": {"ts": "9.9", "blocks": []}}
    assert inputs.list_at(body) == ListAt("C2", "9.9", ListFilter.READY, 0)


def test_a_pick_reads_its_row_account_and_what_the_picker_showed() -> None:
    block_id = code_block_id(41, 3, 4)
    row = {
        "block_id": block_id,
        "elements": [{"action_id": "pick-income", "initial_option": {"value": "12"}}],
    }
    body = clicked(
        {"action_id": "pick-income", "block_id": block_id, "selected_option": {"value": "15"}}
    )
    body["message"]["blocks"].append(row)
    pick = inputs.account_pick(body)
    assert (pick.code_id, pick.code_version, pick.purpose) == (41, 3, Purpose.INCOME)
    assert (pick.account_id, pick.seen_account_id) == (15, 12)


def test_choosing_none_clears_the_account() -> None:
    block_id = code_block_id(41, 3, 4)
    body = clicked(
        {
            "action_id": "pick-expense",
            "block_id": block_id,
            "selected_option": {"value": NONE_VALUE},
        }
    )
    pick = inputs.account_pick(body)
    assert (pick.purpose, pick.account_id, pick.seen_account_id) == (Purpose.EXPENSE, None, None)


BROKEN: list[tuple[str, Any]] = [
    ("list_at", {"actions": [{}]}),  # no message
    ("list_at", {"message": None, "container": {"channel_id": "C1"}}),  # message is not a dict
    ("account_pick", clicked({"action_id": "pick-income", "block_id": "code:x"})),
    ("account_pick", clicked({"action_id": "something-else", "block_id": code_block_id(1, 1, 1)})),
    ("page_turn", clicked({"value": "everything:0"})),
    ("page_turn", clicked({})),
    ("accept_click", clicked({"value": "1:2:3"})),
    ("reject_click", clicked({"value": "7:x"}, trigger_id="T")),
    ("trigger_of", {}),
    ("post_list_choice", {"view": {"state": {"values": {}}}}),
    ("rebind_target", {"actions": []}),
]


@pytest.mark.parametrize(("reader", "body"), BROKEN)
def test_a_body_not_shaped_as_slack_sends_it_is_one_polite_refusal(reader: str, body: Any) -> None:
    with pytest.raises(UnreadablePayload) as refused:
        getattr(inputs, reader)(body)
    assert str(refused.value) == (
        "Slack sent something this app could not read, so nothing was changed. "
        "Post the list again with /costcodes and retry."
    )
    assert refused.value.__cause__ is not None  # the original error stays for the log


def test_an_error_that_is_not_about_the_shape_is_not_hidden() -> None:
    @inputs._reading
    def failing(body: inputs.Payload) -> None:
        raise RuntimeError("a bug, not a bad payload")

    with pytest.raises(RuntimeError):
        failing({})
