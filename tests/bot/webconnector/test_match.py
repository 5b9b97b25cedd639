"""The pure answer ↔ request matching: exactly one answer of the right kind per request sent."""

from __future__ import annotations

import pytest

from bot.webconnector.match import AnswerMismatch, check, expected, new_tag, request_id
from qbd.qbxml.types import AnswerRef

ADD = {"kind": "add", "codes": [{"code_id": 1}, {"code_id": 2}], "tag": "abcd1234"}
ACCOUNTS = {"kind": "accounts", "job": 7, "tag": "abcd1234"}


def test_each_request_id_names_its_send_and_fits_qbxml() -> None:
    assert expected(ADD) == {
        "add-1.abcd1234": "ItemServiceAddRs",
        "add-2.abcd1234": "ItemServiceAddRs",
    }
    assert expected(ACCOUNTS) == {"accounts-7.abcd1234": "AccountQueryRs"}
    assert expected({"kind": "lookup", "codes": [{"code_id": 3}]}) == {
        "q-3": "ItemQueryRs"
    }  # old record
    assert len(request_id("add", 10**18, new_tag())) <= 50
    assert new_tag() != new_tag()


def test_the_exact_answers_pass_in_any_order() -> None:
    check(
        ADD,
        [
            AnswerRef("ItemServiceAddRs", "add-2.abcd1234"),
            AnswerRef("ItemServiceAddRs", "add-1.abcd1234"),
        ],
    )
    check(None, [])


@pytest.mark.parametrize(
    ("in_flight", "answers", "detail"),
    [
        (
            ADD,
            [AnswerRef("ItemServiceAddRs", "add-1.abcd1234")],
            "1 of the 2 requests sent have no answer",
        ),
        (
            ADD,
            [AnswerRef("ItemServiceAddRs", "add-1.abcd1234")] * 2
            + [AnswerRef("ItemServiceAddRs", "add-2.abcd1234")],
            "answered twice",
        ),
        (
            ADD,
            [
                AnswerRef("ItemQueryRs", "add-1.abcd1234"),
                AnswerRef("ItemServiceAddRs", "add-2.abcd1234"),
            ],
            "which asked for ItemServiceAddRs",
        ),
        (ADD, [AnswerRef("ItemServiceAddRs", "add-1.ffff0000")], "which this session did not send"),
        (
            ACCOUNTS,
            [
                AnswerRef("AccountQueryRs", "accounts-7"),
            ],
            "did not send",
        ),
        (ACCOUNTS, [], "no answer"),
        (None, [AnswerRef("AccountQueryRs", "accounts-7.abcd1234")], "no request of this session"),
        (ADD, [AnswerRef("ItemServiceAddRs", "x" * 500)], "…"),
    ],
)
def test_anything_else_is_a_mismatch(
    in_flight: dict[str, object] | None, answers: list[AnswerRef], detail: str
) -> None:
    with pytest.raises(AnswerMismatch) as raised:
        check(in_flight, answers)
    assert detail in raised.value.detail
    assert len(raised.value.message) < 400
    assert "nothing was changed" in raised.value.message
