"""Give many codes their GL accounts at once: one service for `costcodes assign` and Slack's apply.

`plan` says, without writing, which codes would change, which already hold a different pick (kept
unless the person says overwrite) and which hold these accounts already; `apply` writes that plan
through the state machine, one compare-and-set and one audit event per code. When the person saw
the codes at given versions (a modal), a code changed since makes the whole apply stale: nothing
is written and they are told.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.costcodes import statemachine
from bot.costcodes.domain import State, Surface
from bot.errors import CostCodeError
from bot.review.suggest import division_of
from bot.store.models import CostCode

INCOME = "income_account_id"
EXPENSE = "expense_account_id"
EVERY_DIVISION = "*"
"""The "Every division" choice of Apply to division…: every Ready code."""


class StaleSelection(CostCodeError):
    """The codes changed after the person saw them; nothing was written."""


@dataclass(slots=True)
class ApplyPlan:
    change: list[tuple[CostCode, dict[str, int | None]]] = field(default_factory=list)
    kept: list[CostCode] = field(default_factory=list)
    """Codes holding a different pick that stays (no overwrite)."""
    unchanged: list[CostCode] = field(default_factory=list)
    skipped: list[tuple[CostCode, str]] = field(default_factory=list)


def plan(
    codes: Sequence[CostCode], wanted: Mapping[str, int | None], *, overwrite: bool
) -> ApplyPlan:
    """What applying `wanted` (field → account id, None clears) would do to each code."""
    result = ApplyPlan()
    for code in codes:
        if State(code.state) not in statemachine.EDITABLE:
            result.skipped.append((code, f"it is {State(code.state).value}"))
            continue
        changes: dict[str, int | None] = {}
        kept = False
        for key, value in wanted.items():
            current = getattr(code, key)
            if current == value:
                continue
            if current is None or overwrite:
                changes[key] = value
            else:
                kept = True
        if changes:
            result.change.append((code, changes))
        if kept:
            result.kept.append(code)
        elif not changes:
            result.unchanged.append(code)
    return result


async def apply(
    session: AsyncSession,
    codes: Sequence[CostCode],
    wanted: Mapping[str, int | None],
    *,
    overwrite: bool,
    actor: str,
    surface: Surface,
    action: str = "assign",
    shown: str | None = None,
) -> ApplyPlan:
    """Write the plan; with the `fingerprint` of the codes as shown, refuse if any moved since."""
    if shown is not None:
        if fingerprint(codes) != shown:
            raise StaleSelection(
                "These cost codes changed after the window opened, so nothing was saved. "
                "Close it and open it again to see how many will change now."
            )
    result = plan(codes, wanted, overwrite=overwrite)
    for code, changes in result.change:
        # A code written by someone else meanwhile fails its compare-and-set: the whole apply
        # rolls back with the session, never half done.
        await statemachine.edit(
            session, code=code, changes=changes, actor=actor, surface=surface, action=action
        )
    return result


def fingerprint(codes: Sequence[CostCode]) -> str:
    """Which codes, at which versions, a person was shown (fits a modal's private_metadata)."""
    seen = ",".join(f"{code.id}:{code.version}" for code in sorted(codes, key=lambda c: c.id or 0))
    return hashlib.sha256(seen.encode()).hexdigest()[:32]


async def ready_in_division(session: AsyncSession, division: str) -> list[CostCode]:
    """The Ready codes of a division (DESIGN §9), or of every division for `EVERY_DIVISION`."""
    statement = (
        select(CostCode)
        .where(col(CostCode.state) == State.READY.value)
        .order_by(col(CostCode.code))
    )
    codes = (await session.exec(statement)).all()
    if division == EVERY_DIVISION:
        return list(codes)
    return [code for code in codes if division_of(code.code, code.division) == division]


async def codes_by_id(session: AsyncSession, ids: Sequence[int]) -> list[CostCode]:
    if not ids:
        return []
    statement = select(CostCode).where(col(CostCode.id).in_(list(ids))).order_by(col(CostCode.code))
    return list((await session.exec(statement)).all())


async def divisions(session: AsyncSession) -> list[tuple[str, int]]:
    """Divisions with Ready codes and how many each, in order (for the list's select).

    Every render of every copy asks, so the database counts: grouped by the division as stored
    and the code's part before its first `-`, which `division_of` then names exactly as for one
    code (a few rows back instead of every Ready code, issue 17).
    """
    conn = await session.connection()
    prefix = _before_first_dash(col(CostCode.code), conn.dialect.name)
    statement = (
        sa_select(col(CostCode.division), prefix, func.count())
        .where(col(CostCode.state) == State.READY.value)
        .group_by(col(CostCode.division), prefix)
    )
    counts: dict[str, int] = {}
    for division, start, count in await conn.execute(statement):
        name = division_of(start, division)
        counts[name] = counts.get(name, 0) + int(count)
    return sorted(counts.items())


def _before_first_dash(code: Any, dialect: str) -> ColumnElement[str]:
    """`code.split("-", 1)[0]` in SQL."""
    if dialect == "postgresql":
        return func.split_part(code, "-", 1)
    dash = func.instr(code, "-")
    return case((dash > 0, func.substr(code, 1, dash - 1)), else_=code)
