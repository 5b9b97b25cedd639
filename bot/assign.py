"""Bulk account picks for the operator (`costcodes assign 03-* --income ACCOUNT`), audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import accounts, statemachine
from bot.domain import State, Surface
from bot.errors import NotFound
from bot.models import CostCode


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
    income_account = await accounts.find_account(session, income)
    expense_account = await accounts.find_account(session, expense) if expense else None
    codes = (await session.exec(select(CostCode).order_by(col(CostCode.code)))).all()
    matched = [code for code in codes if fnmatchcase(code.code, pattern)]
    if not matched:
        raise NotFound(f'No cost code matches "{pattern}".')
    report = AssignReport()
    changes = {
        "income_account_id": income_account.id,
        "expense_account_id": expense_account.id if expense_account else None,
    }
    for code in matched:
        if State(code.state) not in statemachine.EDITABLE:
            report.skipped.append((code.code, f"it is {State(code.state).value}"))
        elif all(getattr(code, key) == value for key, value in changes.items()):
            report.unchanged.append(code.code)
        else:
            await statemachine.edit(
                session, code=code, changes=changes, actor=actor, surface=surface, action="assign"
            )
            report.assigned.append(code.code)
    return report
