"""The read-only questions a digest asks: what waits, the last export, the Web Connector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import queries
from bot.config import Settings
from bot.digest_view import DigestView, LastExport
from bot.domain import State
from bot.models import CostCode, ExportBatch
from bot.procore import state as procore_state

STALE_CONTACT = timedelta(hours=24)
"""A Web Connector silent this long (or never heard from) gets a warning in the digest."""


async def load_view(
    session: AsyncSession, *, now: datetime, settings: Settings | None = None
) -> DigestView:
    counts = await queries.count_by_state(session)
    oldest = await _oldest_ready(session)
    contact = await queries.last_web_connector_contact(session)
    return DigestView(
        ready=counts[State.READY],
        missing_income=await _ready_without_income(session),
        failed=counts[State.FAILED],
        oldest_wait=None if oldest is None else max(now - oldest, timedelta(0)),
        last_export=await last_export(session),
        last_contact=contact,
        contact_stale=contact is None or now - contact > STALE_CONTACT,
        procore=await procore_state.health_if_on(session, settings),
    )


async def last_export(session: AsyncSession) -> LastExport | None:
    """The most recent finished export that put at least one code into QuickBooks."""
    statement = (
        select(ExportBatch)
        .where(
            col(ExportBatch.state) == "done",
            col(ExportBatch.succeeded) > 0,
            col(ExportBatch.finished_at).is_not(None),
        )
        .order_by(col(ExportBatch.finished_at).desc())
        .limit(1)
    )
    batch = (await session.exec(statement)).first()
    if batch is None or batch.finished_at is None:
        return None
    return LastExport(at=batch.finished_at, by=batch.created_by, count=batch.succeeded)


async def _ready_without_income(session: AsyncSession) -> int:
    statement = select(func.count()).where(
        col(CostCode.state) == State.READY.value, col(CostCode.income_account_id).is_(None)
    )
    return int((await session.exec(statement)).one())


async def _oldest_ready(session: AsyncSession) -> datetime | None:
    statement = select(func.min(CostCode.created_at)).where(
        col(CostCode.state) == State.READY.value
    )
    value = (await session.exec(statement)).one()
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
