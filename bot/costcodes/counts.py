"""Read-only questions about the cost codes that several surfaces ask (CLI, Slack, health)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.costcodes.domain import State, StatusSummary
from bot.procore import state as procore_state
from bot.store.models import CostCode
from bot.webconnector.queries import last_web_connector_contact


async def count_by_state(session: AsyncSession) -> dict[State, int]:
    """Every state with its count, zeros included, in the order of the state machine."""
    statement = select(CostCode.state, func.count()).group_by(col(CostCode.state))
    found = {State(state): count for state, count in (await session.exec(statement)).all()}
    return {state: found.get(state, 0) for state in State}


async def status_summary(session: AsyncSession, settings: Settings | None = None) -> StatusSummary:
    return StatusSummary(
        counts=await count_by_state(session),
        last_contact=await last_web_connector_contact(session),
        procore=await procore_state.health_if_on(session, settings),
    )
