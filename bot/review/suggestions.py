"""Suggested accounts for one page of the list, in three queries whatever the page holds.

Runs on every render of every copy, so it reads only columns, only when a code on the page
has no pick, and leaves the scoring to the pure `bot.review.suggest`. The evidence (every pick
and up to 4,000 accounts) is the same for every copy until a code or the chart changes, and a
pick re-renders up to 20 copies at once: it is kept per engine with a fingerprint of what it was
read from (one aggregate query), so the copies after the first reuse it instead of each holding
the event loop for tens of milliseconds while Slack acks wait (issue 17).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts.chart import PREFERRED_TYPES, Purpose
from bot.accounts.index import VERSION_KEY
from bot.costcodes.domain import AccountView, State, SuggestedAccount
from bot.review.suggest import Evidence, Named, Picked, division_of, named, suggest, words
from bot.store.models import AppSetting, CostCode, GLAccount

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


Loaded = tuple[dict[Purpose, Evidence], dict[int, AccountView]]
Picks = dict[Purpose, list[Picked]]
Accounts = tuple[dict[Purpose, tuple[Named, ...]], dict[int, AccountView]]


@dataclass
class _Kept:
    """One engine's last reads, each with the part of the fingerprint it was read under."""

    codes: tuple[Any, ...] = ()
    picks: Picks | None = None
    chart: tuple[Any, ...] = ()
    accounts: Accounts | None = None
    loaded: Loaded | None = None


_KEPT: WeakKeyDictionary[Engine, _Kept] = WeakKeyDictionary()


async def load_evidence(session: AsyncSession) -> Loaded:
    """The company's picks and its active Income and Expense accounts, as the scorer reads them.

    Every change to a code goes through `bot.costcodes.statemachine` (its version goes up) or
    adds a code (a new id), and every chart change ends by bumping the accounts version: the
    fingerprint changes with any of them, so what is kept is what a fresh read would give, the
    chart as its last finished sync left it. A pick changes only the codes' part: the accounts
    (most of the work) are read again only when the chart changes.
    """
    fingerprint = await _fingerprint(session)
    engine = session.get_bind()
    kept = _KEPT.setdefault(engine, _Kept()) if isinstance(engine, Engine) else _Kept()
    if kept.picks is None or kept.codes != fingerprint[:3]:
        kept.codes, kept.picks, kept.loaded = fingerprint[:3], await _read_picks(session), None
    if kept.accounts is None or kept.chart != fingerprint[3:]:
        kept.chart, kept.accounts, kept.loaded = (
            fingerprint[3:],
            await _read_accounts(session),
            None,
        )
    if kept.loaded is None:
        picks, (names, views) = kept.picks, kept.accounts
        evidence = {purpose: Evidence.of(picks[purpose], names[purpose]) for purpose in Purpose}
        kept.loaded = evidence, views
    return kept.loaded


async def _fingerprint(session: AsyncSession) -> tuple[Any, ...]:
    """What the evidence was read from, in one aggregate query: codes, then the chart version.

    The chart is known by its version alone, as the picker index knows it: a sync writes its rows
    in chunks before it bumps the version, and counting the rows would read the 4,000 accounts
    again after every chunk, tens of milliseconds of the event loop each (issue 17, goal 2).
    """
    code_version = func.coalesce(func.sum(col(CostCode.version)), 0)
    statement = sa_select(
        sa_select(func.count()).select_from(CostCode).scalar_subquery(),
        sa_select(code_version).scalar_subquery(),
        sa_select(func.max(col(CostCode.id))).scalar_subquery(),
        sa_select(col(AppSetting.value))
        .where(col(AppSetting.key) == VERSION_KEY)
        .scalar_subquery(),
    )
    await session.flush()  # a version bumped in this transaction is not flushed yet
    conn = await session.connection()
    return tuple((await conn.execute(statement)).one())


async def _read_picks(session: AsyncSession) -> Picks:
    statement = (
        sa_select(
            col(CostCode.code),
            col(CostCode.division),
            col(CostCode.description),
            col(CostCode.income_account_id),
            col(CostCode.expense_account_id),
        )
        .where(
            col(CostCode.income_account_id).is_not(None)
            | col(CostCode.expense_account_id).is_not(None)
        )
        .order_by(col(CostCode.code))
        .limit(PICKS_READ)
    )
    conn = await session.connection()  # plain rows: no ORM object per pick or account
    picks: Picks = {Purpose.INCOME: [], Purpose.EXPENSE: []}
    for code, division, description, income, expense in await conn.execute(statement):
        where, said = division_of(code, division), words(description)
        if income is not None:
            picks[Purpose.INCOME].append(Picked(code, where, said, income))
        if expense is not None:
            picks[Purpose.EXPENSE].append(Picked(code, where, said, expense))
    return picks


async def _read_accounts(session: AsyncSession) -> Accounts:
    types = {t: p for p, ts in PREFERRED_TYPES.items() for t in ts}
    conn = await session.connection()
    accounts = await conn.execute(
        sa_select(
            col(GLAccount.id),
            col(GLAccount.name),
            col(GLAccount.full_name),
            col(GLAccount.number),
            col(GLAccount.account_type),
            col(GLAccount.active),
        )
        .where(col(GLAccount.active).is_(True), col(GLAccount.account_type).in_(list(types)))
        .order_by(col(GLAccount.id))
        .limit(ACCOUNTS_READ)
    )
    views: dict[int, AccountView] = {}
    names: dict[Purpose, list[tuple[int, str]]] = {Purpose.INCOME: [], Purpose.EXPENSE: []}
    for account_id, name, full_name, number, account_type, active in accounts:
        assert account_id is not None
        views[account_id] = AccountView(account_id, full_name, number, account_type, active)
        names[types[account_type]].append((account_id, name))
    return {purpose: named(names[purpose]) for purpose in Purpose}, views
