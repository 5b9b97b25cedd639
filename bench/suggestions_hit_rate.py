"""Benchmark: how often the suggestion matches the pick, leaving one pick out per code.

Data set: the 143 example codes, each given an Income account by division (a few divisions share
one), with word exceptions (rental → Equipment Rental Income, design/survey → Design Fees,
warranty → Warranty Work). Run: `.venv/bin/python bench/suggestions_hit_rate.py`.
"""

from __future__ import annotations

import csv

from bot.review.suggest import Evidence, Picked, division_of, named, suggest, words
from bot.sandbox.example_data import COST_CODES, GL_ACCOUNTS

BY_DIVISION = {"Site Overhead": 4030, "Landscaping and Paving": 4050, "Interior Finishes": 4020}
EXCEPTIONS = {"rental": 4060, "design": 4070, "survey": 4070, "warranty": 4090}


def truth(description: str, division: str) -> int:
    for word, account in EXCEPTIONS.items():
        if word in words(description):
            return account
    return BY_DIVISION.get(division, 4010)


def main() -> None:
    with COST_CODES.open(encoding="utf-8") as handle:
        codes = list(csv.DictReader(handle))
    with GL_ACCOUNTS.open(encoding="utf-8") as handle:
        chart = list(csv.DictReader(handle))
    income = [(int(r["number"]), r["name"]) for r in chart if "Income" in r["account_type"]]
    picks = [
        Picked(
            c["code"],
            division_of(c["code"], c["division"]),
            words(c["description"]),
            truth(c["description"], c["division"]),
        )
        for c in codes
    ]
    hits = shown = 0
    for left_out in picks:
        others = [p for p in picks if p.code != left_out.code]
        evidence = Evidence.of(others, named(income))
        row = next(c for c in codes if c["code"] == left_out.code)
        hit = suggest(left_out.code, row["description"], left_out.division, evidence)
        if hit is not None:
            shown += 1
            hits += hit.account_id == left_out.account_id
    print(f"codes {len(picks)}, suggested {shown}, matched {hits} ({hits / len(picks):.1%})")


if __name__ == "__main__":
    main()
