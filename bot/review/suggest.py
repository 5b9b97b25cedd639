"""Suggested GL accounts for a code without a pick, from what this company already picked.

Pure scoring, no I/O: the list loads the company's picks and account names once per page
(`bot.review.suggestions`) and asks here for each code. Three kinds of evidence, strongest first:

* the picks of other codes in the same division ("8 of 9 codes in Concrete");
* the picks of codes whose descriptions share a word with this one ("3 codes with “rental”");
* an account whose name shares a word with the description ("its description says “design”").

A suggestion is only ever shown as text; nothing is saved until a person accepts it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "and the for with from into onto over under per all any new old misc other "
    "supply supplies install installation work item items general".split()
)
_DIVISION_WEIGHT = 2.0
_WORDS_WEIGHT = 2.5
_NAME_WEIGHT = 1.0
_COMMON = 0.25
"""A word found in more than this share of the picked codes says nothing about an account."""


def division_of(code: str, division: str | None) -> str:
    """DESIGN §9: the code's division, or the part of the code before its first `-`."""
    if division and division.strip():
        return division.strip()
    return code.split("-", 1)[0]


def words(text: str) -> frozenset[str]:
    """Lower-case words of three letters or more, plural "s" dropped, filler words left out."""
    found = set()
    for word in _WORD.findall(text.lower()):
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if len(word) >= 3 and word not in _STOP and not word.isdigit():
            found.add(word)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Picked:
    """Another code of this company and the account it was given."""

    code: str
    division: str
    words: frozenset[str]
    account_id: int


@dataclass(frozen=True, slots=True)
class Named:
    """An account that may be suggested, with the words of its name."""

    account_id: int
    words: frozenset[str]


@dataclass(frozen=True, slots=True)
class Suggestion:
    account_id: int
    why: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one purpose (Income or Expense) has to go on: the picks and the accounts by name."""

    picked: tuple[Picked, ...]
    accounts: tuple[Named, ...]
    by_division: dict[str, tuple[Picked, ...]]
    common: frozenset[str]
    by_word: dict[str, tuple[Named, ...]]
    """The accounts whose name has each word: a render scores 20 codes against them."""

    @classmethod
    def of(cls, picked: Iterable[Picked], accounts: Iterable[Named]) -> Evidence:
        picks = tuple(picked)
        grouped: dict[str, list[Picked]] = defaultdict(list)
        frequency: Counter[str] = Counter()
        for pick in picks:
            grouped[pick.division].append(pick)
            frequency.update(pick.words)
        limit = max(2.0, _COMMON * len(picks))
        common = frozenset(word for word, n in frequency.items() if n > limit)
        names = tuple(accounts)
        by_word: dict[str, list[Named]] = defaultdict(list)
        for account in names:
            for word in account.words:
                by_word[word].append(account)
        return cls(
            picks,
            names,
            {division: tuple(group) for division, group in grouped.items()},
            common,
            {word: tuple(group) for word, group in by_word.items()},
        )


Scores = dict[int, list[tuple[float, str]]]
"""Account id → the (weight, why) of each piece of evidence for it."""


def suggest(code: str, description: str, division: str, evidence: Evidence) -> Suggestion | None:
    """The best-supported account for this code, or None when nothing points anywhere."""
    mine = words(description) - evidence.common
    found: Scores = defaultdict(list)
    _by_division(code, division, evidence, found)
    if mine:
        _by_words(code, mine, evidence, found)
        _by_name(mine, evidence, found)
    if not found:
        return None
    totals = {account_id: sum(w for w, _ in reasons) for account_id, reasons in found.items()}
    # Highest score wins; ties go to the lower account id so every render says the same.
    best = min(totals, key=lambda account_id: (-totals[account_id], account_id))
    why = max(found[best], key=lambda reason: reason[0])[1]
    return Suggestion(best, why)


def _by_division(code: str, division: str, evidence: Evidence, found: Scores) -> None:
    peers = [pick for pick in evidence.by_division.get(division, ()) if pick.code != code]
    votes = Counter(pick.account_id for pick in peers)
    for account_id, n in votes.items():
        weight = _DIVISION_WEIGHT * n / len(peers)
        found[account_id].append((weight, f"{n} of {len(peers)} codes in {division}"))


def _by_words(code: str, mine: frozenset[str], evidence: Evidence, found: Scores) -> None:
    shared: Counter[int] = Counter()
    word_of: dict[int, Counter[str]] = defaultdict(Counter)
    for pick in evidence.picked:
        common = mine & pick.words
        if common and pick.code != code:
            shared[pick.account_id] += 1
            word_of[pick.account_id].update(common)
    total = sum(shared.values())
    for account_id, n in shared.items():
        # The word most of these codes share, alphabetical among equals.
        word = min(word_of[account_id].items(), key=lambda item: (-item[1], item[0]))[0]
        codes = "1 code" if n == 1 else f"{n} codes"
        found[account_id].append((_WORDS_WEIGHT * n / total, f"{codes} with “{word}”"))


def _by_name(mine: frozenset[str], evidence: Evidence, found: Scores) -> None:
    # Only the accounts sharing a word, each once; the order does not change the verdict.
    hits = {
        account.account_id: account for word in mine for account in evidence.by_word.get(word, ())
    }
    for account in hits.values():
        said = sorted(mine & account.words)[0]
        found[account.account_id].append((_NAME_WEIGHT, f"its description says “{said}”"))


def named(accounts: Sequence[tuple[int, str]]) -> tuple[Named, ...]:
    """Accounts by (id, name) as the scorer reads them."""
    return tuple(Named(account_id, words(name)) for account_id, name in accounts)
