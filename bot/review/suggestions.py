"""Suggested accounts for one page of the list, in three queries whatever the page holds.

Runs on every render of every copy, so it reads only columns, only when a code on the page
has no pick, and leaves the scoring to the pure `bot.review.suggest`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts.chart import PREFERRED_TYPES, Purpose
from bot.costcodes.domain import AccountView, State, SuggestedAccount
from bot.review.suggest import Evidence, Picked, division_of, named, suggest, words
from bot.store.models import CostCode, GLAccount

PICKS_READ = 5000
"""The company's picks read per page; a list is 150–500 codes, so this is all of them."""
ACCOUNTS_READ = 4000


@dataclass(frozen=True, slots=True)
class PageSuggestions:
    income: SuggestedAccount | None = None
    expense: SuggestedAccount | None = None


_OPEN = (State.READY.value, State.FAILED.value)


def _wants(code: CostCode) -> bool:
    missing = code.income_account_id is None or code.expense_account_id is None
    return code.state in _OPEN and missing


async def for_page(session: AsyncSession, codes: Sequence[CostCode]) -> dict[int, PageSuggestions]:
    """Suggestions for the editable codes of a page that lack an Income or Expense pick."""
    wanting = [code for code in codes if _wants(code)]
    if not wanting:
        return {}
    evidence, views = await load_evidence(session)
    found: dict[int, PageSuggestions] = {}
    for code in wanting:
        assert code.id is not None
        division = division_of(code.code, code.division)
        result = {}
        for purpose, held in (
            (Purpose.INCOME, code.income_account_id),
            (Purpose.EXPENSE, code.expense_account_id),
        ):
            if held is not None:
                continue
            hit = suggest(code.code, code.description, division, evidence[purpose])
            if hit is not None and hit.account_id in views:
                result[purpose] = SuggestedAccount(views[hit.account_id], hit.why)
        if result:
            income, expense = result.get(Purpose.INCOME), result.get(Purpose.EXPENSE)
            found[code.id] = PageSuggestions(income, expense)
    return found


async def load_evidence(
    session: AsyncSession,
) -> tuple[dict[Purpose, Evidence], dict[int, AccountView]]:
    """The company's picks and its active Income and Expense accounts, as the scorer reads them."""
    statement = (
        select(CostCode)
        .where(
            col(CostCode.income_account_id).is_not(None)
            | col(CostCode.expense_account_id).is_not(None)
        )
        .order_by(col(CostCode.code))
        .limit(PICKS_READ)
    )
    picks: dict[Purpose, list[Picked]] = {Purpose.INCOME: [], Purpose.EXPENSE: []}
    for row in (await session.exec(statement)).all():
        where, said = division_of(row.code, row.division), words(row.description)
        if row.income_account_id is not None:
            picks[Purpose.INCOME].append(Picked(row.code, where, said, row.income_account_id))
        if row.expense_account_id is not None:
            picks[Purpose.EXPENSE].append(Picked(row.code, where, said, row.expense_account_id))
    types = {t: p for p, ts in PREFERRED_TYPES.items() for t in ts}
    accounts = await session.exec(
        select(GLAccount)
        .where(col(GLAccount.active).is_(True), col(GLAccount.account_type).in_(list(types)))
        .order_by(col(GLAccount.id))
        .limit(ACCOUNTS_READ)
    )
    views: dict[int, AccountView] = {}
    names: dict[Purpose, list[tuple[int, str]]] = {Purpose.INCOME: [], Purpose.EXPENSE: []}
    for account in accounts.all():
        assert account.id is not None
        views[account.id] = AccountView(
            account.id, account.full_name, account.number, account.account_type, account.active
        )
        names[types[account.account_type]].append((account.id, account.name))
    evidence = {purpose: Evidence.of(picks[purpose], named(names[purpose])) for purpose in Purpose}
    return evidence, views
