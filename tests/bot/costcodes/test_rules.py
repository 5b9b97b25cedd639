from __future__ import annotations

from bot.costcodes import rules


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


def test_normalise_makes_typographic_text_storable() -> None:
    assert rules.normalise("Owner’s “fee” – phase 1 — part 2…") == (
        'Owner\'s "fee" - phase 1 - part 2...'
    )


def test_normalise_composes_and_collapses_whitespace() -> None:
    assert rules.normalise("Be\u0301ton\t\tcoule\u0301\n  sur place") == "Béton coulé sur place"
    assert rules.normalise("03\u00a0300") == "03 300"


def test_latin_1_is_storable() -> None:
    assert rules.violations("09-100", "Bâtiment « façade » ½ ÿ") == []


def test_other_characters_are_refused_and_named() -> None:
    (problem,) = rules.violations("03-300", "混凝土 Beton")
    assert problem == (
        'the description contains characters QuickBooks cannot store: "混" (CJK UNIFIED '
        'IDEOGRAPH-6DF7), "凝" (CJK UNIFIED IDEOGRAPH-51DD), "土" (CJK UNIFIED IDEOGRAPH-571F) '
        "(QuickBooks refuses it or stores ?)"
    )
    (emoji,) = rules.violations("03-300 🚧", "Road")
    assert 'the code contains a character QuickBooks cannot store: "🚧" (CONSTRUCTION SIGN)' in (
        emoji
    )
    (many,) = rules.violations("03-300", "Ωμέγα")
    assert "and 2 more" in many
    (control,) = rules.violations("03-300", "bell\x07")
    assert "BEL" in control or "U+0007" in control


def test_unnormalised_typographic_text_breaks_a_rule_until_normalised() -> None:
    assert rules.violation_text("03-300", "Owner’s fee") is not None
    assert rules.violation_text("03-300", rules.normalise("Owner’s fee")) is None
