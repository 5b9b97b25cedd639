"""The pure suggestion scoring: division picks, shared words, account names."""

from __future__ import annotations

from bot.review.suggest import Evidence, Picked, division_of, named, suggest, words


def picked(code: str, division: str, description: str, account: int) -> Picked:
    return Picked(code, division, words(description), account)


def test_division_of_falls_back_to_the_code_prefix() -> None:
    assert division_of("03-300", None) == "03"
    assert division_of("03-300", " Concrete ") == "Concrete"


def test_the_division_majority_wins_and_says_why() -> None:
    evidence = Evidence.of(
        [picked(f"03-{n}", "Concrete", f"Pour {n}", 1) for n in range(8)]
        + [picked("03-9", "Concrete", "Pour nine", 2)],
        [],
    )
    hit = suggest("03-99", "Slab on grade", "Concrete", evidence)
    assert hit is not None and hit.account_id == 1 and hit.why == "8 of 9 codes in Concrete"


def test_shared_words_and_account_names_without_division_picks() -> None:
    evidence = Evidence.of(
        [picked("01-1", "A", "Crane rental", 5), picked("02-1", "B", "Lift rental", 5)],
        named([(7, "Design Fees Income")]),
    )
    hit = suggest("09-1", "Scaffold rentals", "C", evidence)
    assert hit is not None and hit.account_id == 5 and "rental" in hit.why
    hit = suggest("09-2", "Design review", "C", evidence)
    assert hit is not None and hit.account_id == 7 and hit.why == "its description says “design”"
    assert suggest("09-3", "Nothing alike", "C", evidence) is None
