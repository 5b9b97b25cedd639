"""`costcodes assign 03-* --income ACCOUNT`: the operator's side of `bot.costcodes.bulk`.

Slack's side is Apply (`bot.review.bulk`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts import chart
from bot.costcodes import bulk
from bot.costcodes.domain import Surface
from bot.errors import NotFound
from bot.store.models import CostCode


@dataclass(slots=True)
class AssignReport:
    assigned: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


async def assign_pattern(
    session: AsyncSession,
    *,
    pattern: str,
    income: str,
    expense: str | None,
    actor: str,
    surface: Surface,
) -> AssignReport:
    """Pick accounts for every code matching `pattern` (a code or a glob), as a Slack pick would."""
    income_account = await chart.find_account(session, income)
    expense_account = await chart.find_account(session, expense) if expense else None
    codes = (await session.exec(select(CostCode).order_by(col(CostCode.code)))).all()
    matched = [code for code in codes if fnmatchcase(code.code, pattern)]
    if not matched:
        raise NotFound(f'No cost code matches "{pattern}".')
    changes = {
        bulk.INCOME: income_account.id,
        bulk.EXPENSE: expense_account.id if expense_account else None,
    }
    # The CLI spells out both accounts, so it overwrites like a pick in Slack would.
    done = await bulk.apply(session, matched, changes, overwrite=True, actor=actor, surface=surface)
    return AssignReport(
        assigned=[code.code for code, _ in done.change],
        unchanged=[code.code for code in done.unchanged],
        skipped=[(code.code, reason) for code, reason in done.skipped],
    )
