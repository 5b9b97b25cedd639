"""Read-only questions about the Web Connector that several surfaces ask (health, status, Home)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.models import QbwcTicket


async def last_web_connector_contact(session: AsyncSession) -> datetime | None:
    """When the Web Connector last called us, from any process (tickets live in the database)."""
    statement = select(func.max(QbwcTicket.last_seen_at))
    value = (await session.exec(statement)).one()
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
