"""Read-only questions about the cost codes that several surfaces ask (CLI, Slack, health)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import State
from bot.models import CostCode


async def count_by_state(session: AsyncSession) -> dict[State, int]:
    """Every state with its count, zeros included, in the order of the state machine."""
    statement = select(CostCode.state, func.count()).group_by(col(CostCode.state))
    found = {State(state): count for state, count in (await session.exec(statement)).all()}
    return {state: found.get(state, 0) for state in State}
