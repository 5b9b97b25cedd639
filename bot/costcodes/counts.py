"""Read-only questions about the cost codes that several surfaces ask (CLI, Slack, health)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.costcodes.domain import State, StatusSummary
from bot.procore import state as procore_state
from bot.store.models import CostCode, QbwcTicket


async def count_by_state(session: AsyncSession) -> dict[State, int]:
    """Every state with its count, zeros included, in the order of the state machine."""
    statement = select(CostCode.state, func.count()).group_by(col(CostCode.state))
    found = {State(state): count for state, count in (await session.exec(statement)).all()}
    return {state: found.get(state, 0) for state in State}


async def last_web_connector_contact(session: AsyncSession) -> datetime | None:
    """When the Web Connector last called us, from any process (tickets live in the database)."""
    statement = select(func.max(QbwcTicket.last_seen_at))
    value = (await session.exec(statement)).one()
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def status_summary(session: AsyncSession, settings: Settings | None = None) -> StatusSummary:
    return StatusSummary(
        counts=await count_by_state(session),
        last_contact=await last_web_connector_contact(session),
        procore=await procore_state.health_if_on(session, settings),
    )
