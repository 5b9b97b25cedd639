from __future__ import annotations

from bot import rules


def test_a_valid_code_breaks_no_rule() -> None:
    assert rules.violations("03-300", "Cast-in-place concrete") == []


def test_blank_code_and_description_are_named() -> None:
    assert rules.violations("", "") == ["the code is blank", "the description is blank"]


def test_item_name_limit_is_31_characters() -> None:
    assert rules.violations("C" * 31, "x") == []
    (problem,) = rules.violations("C" * 32, "x")
    assert "32 characters" in problem and "at most 31" in problem


def test_colon_is_refused() -> None:
    (problem,) = rules.violations("03:300", "Concrete")
    assert '":"' in problem


def test_report_name_limit_is_96_characters() -> None:
    assert rules.violations("03-300", "d" * 89) == []  # 6 + 1 + 89 = 96
    (problem,) = rules.violations("03-300", "d" * 90)
    assert "97 characters" in problem


def test_normalise_trims_only_the_ends() -> None:
    assert rules.normalise("  03 300 \t") == "03 300"
    assert rules.normalise(None) == ""
