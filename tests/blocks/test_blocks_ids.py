"""Slack IDs stay stable and the context encodings round-trip and refuse junk."""

from __future__ import annotations

import pytest

from blocks.ids import (
    COMMAND,
    NONE_VALUE,
    ActionId,
    CodeBlockRef,
    ListRef,
    code_block_id,
    list_block_id,
    list_ref_from_blocks,
    parse_code_block_id,
    parse_list_block_id,
)
from bot.costcodes.domain import ListFilter


def test_action_ids_are_stable() -> None:
    assert {a.name: a.value for a in ActionId} == {
        "PICK_INCOME": "pick-income",
        "PICK_EXPENSE": "pick-expense",
        "LIST_FILTER": "list-filter",
        "PAGE_PREV": "page-prev",
        "PAGE_NEXT": "page-next",
        "EXPORT": "export-codes",
        "REJECT_ALL": "reject-all",
        "UNDO_REJECT": "undo-reject",
        "RETRY_FAILED": "retry-failed",
        "REVIEW": "review-list",
        "REBIND_ACCOUNTS": "accounts-rebind",
        "APPLY_DIVISION": "apply-division",
        "TICK_CODES": "tick-codes",
        "APPLY_TICKED": "apply-ticked",
        "ACCEPT_SUGGESTIONS": "accept-suggestions",
        "REJECT_CODE": "reject-code",
    }
    assert COMMAND == "/costcodes"
    assert NONE_VALUE == "none"


def test_code_block_id_round_trip() -> None:
    assert code_block_id(12, 3, 99) == "code:12:3:99"
    assert parse_code_block_id("code:12:3:99") == CodeBlockRef(code_id=12, code_version=3)


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "code:1:2",
        "code:a:2:3",
        "code:1:2:3:4",
        "cod:1:2:3",
        "code:-1:2:3",
        "code:01:2:3",
        " code:1:2:3",
        "code:1:2:3\n",
        "code:１:2:3",
        "list:ready:0:1",
        "code:1:2:" + "9" * 40,
    ],
)
def test_code_block_id_refuses_junk(junk: str) -> None:
    with pytest.raises(ValueError):
        parse_code_block_id(junk)


@pytest.mark.parametrize("list_filter", list(ListFilter))
def test_list_ref_round_trip(list_filter: ListFilter) -> None:
    ref = ListRef(list_filter, 3)
    assert ref.encode() == f"{list_filter.value}:3"
    assert ListRef.decode(ref.encode()) == ref
    assert parse_list_block_id(list_block_id(ref, 5)) == ref


@pytest.mark.parametrize(
    "junk", ["", "ready", "ready:", "ready:x", "pending:0", "ready:-1", "ready:0:1", "READY:0"]
)
def test_list_ref_refuses_junk(junk: str) -> None:
    with pytest.raises(ValueError):
        ListRef.decode(junk)


def test_list_ref_from_blocks() -> None:
    blocks = [{"type": "section"}, {"type": "header", "block_id": "list:failed:2:8"}]
    assert list_ref_from_blocks(blocks) == ListRef(ListFilter.FAILED, 2)
    assert list_ref_from_blocks([{"type": "actions", "block_id": "code:1:2:3"}]) is None


@pytest.mark.parametrize("junk", ["", "list:ready:0", "list:ready:0:x", "code:1:2:3", "list:x:0:1"])
def test_list_block_id_refuses_junk(junk: str) -> None:
    with pytest.raises(ValueError):
        parse_list_block_id(junk)
