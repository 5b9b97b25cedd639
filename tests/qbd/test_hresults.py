from __future__ import annotations

import pytest

from qbd.hresults import TABLE, Trouble, classify, is_our_fault, parse_hresult


@pytest.mark.parametrize(
    ("hresult", "trouble"),
    [
        ("0x80040400", Trouble.PARSE),
        ("0x80040408", Trouble.QUICKBOOKS_CLOSED),
        ("0x80040401", Trouble.QUICKBOOKS_CLOSED),
        ("0x8004040A", Trouble.WRONG_FILE),
        ("0x80040417", Trouble.WRONG_FILE),
        ("0x80040414", Trouble.DIALOG),
        ("0x80040418", Trouble.NO_RIGHTS),
        ("0x8004041D", Trouble.NO_RIGHTS),
        ("0x80040420", Trouble.NO_RIGHTS),
        ("0x80040430", Trouble.NO_RIGHTS),
        ("0x80040422", Trouble.ERROR),
        ("0x80004005", Trouble.ERROR),
        ("0x80040428", Trouble.ERROR),
        ("nonsense", Trouble.ERROR),
        ("", Trouble.ERROR),
    ],
)
def test_every_hresult_has_a_meaning(hresult: str, trouble: Trouble) -> None:
    assert classify(hresult).trouble is trouble


def test_the_spellings_the_web_connector_uses_agree() -> None:
    assert parse_hresult("0x80040408") == parse_hresult("-2147220472") == 0x80040408
    assert parse_hresult("2147746824") == 0x80040408 and parse_hresult("8004040A") == 0x8004040A
    assert parse_hresult("0X8004040a") == 0x8004040A
    assert parse_hresult("  ") is None and parse_hresult("0xZZ") is None


def test_only_a_parse_error_is_our_fault() -> None:
    assert is_our_fault("0x80040400") and is_our_fault("-2147220480")
    assert [h for h in TABLE if is_our_fault(hex(h))] == [0x80040400]
    assert not is_our_fault("0x80040408") and not is_our_fault("")


def test_the_words_are_plain_and_never_say_failed() -> None:
    for meaning in TABLE.values():
        assert meaning.words and "0x" not in meaning.words
        assert "fail" not in meaning.words.lower()
