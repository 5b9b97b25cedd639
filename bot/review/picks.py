"""A pick of a GL account in a list row, and when it may be saved over what is stored now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.accounts.chart import Purpose
from bot.costcodes.domain import ListAt


@dataclass(frozen=True, slots=True)
class AccountPick:
    """One GL account picked in a list row; `account_id` None clears the Expense account."""

    at: ListAt
    code_id: int
    code_version: int
    purpose: Purpose
    account_id: int | None
    seen_account_id: int | None = None
    """What this picker showed when the person picked (they saw it at `code_version`)."""


def unchanged_or_conflicting(
    code: Any, pick: AccountPick, changes: dict[str, int | None], field: str
) -> bool:
    """True when the code already holds the pick, or when the person's copy is stale for it."""
    if all(getattr(code, key) == value for key, value in changes.items()):
        return True
    # A newer version only conflicts if this very field changed since the person saw it:
    # picking Expense right after Income on the same row is no conflict.
    changed_since_seen: bool = getattr(code, field) != pick.seen_account_id
    return code.version != pick.code_version and changed_since_seen
