"""The read-only questions a digest asks: what waits, the last export, the Web Connector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.connection import views
from bot.costcodes import counts as queries
from bot.costcodes.domain import State
from bot.digests.views import DigestView, LastExport
from bot.home.views import WaitingCode
from bot.procore import state
from bot.store.models import CostCode, ExportBatch
from bot.webconnector.queries import last_web_connector_contact
from bot.webconnector.states import BatchState

STALE_CONTACT = timedelta(hours=24)
"""A Web Connector silent this long (or never heard from) gets a warning in the digest.

The default of `QBWC_SILENCE_HOURS`, which the digest uses when given the settings.
"""


async def load_view(
    session: AsyncSession, *, now: datetime, settings: Settings | None = None
) -> DigestView:
    counts = await queries.count_by_state(session)
    oldest = await _oldest_ready(session)
    contact = await last_web_connector_contact(session)
    return DigestView(
        ready=counts[State.READY],
        missing_income=await _ready_without_income(session),
        failed=counts[State.FAILED],
        oldest_wait=None if oldest is None else max(now - oldest, timedelta(0)),
        last_export=await last_export(session),
        last_contact=contact,
        contact_stale=contact is None or now - contact > _silence(settings),
        connection=(
            None if settings is None else await views.current(session, now=now, settings=settings)
        ),
        procore=await state.health_if_on(session, settings),
    )


def _silence(settings: Settings | None) -> timedelta:
    return timedelta(hours=settings.qbwc_silence_hours) if settings else STALE_CONTACT


async def last_export(session: AsyncSession) -> LastExport | None:
    """The most recent finished export that put at least one code into QuickBooks."""
    statement = (
        select(ExportBatch)
        .where(
            col(ExportBatch.state) == BatchState.DONE.value,
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
    oldest = await oldest_ready_code(session)
    return None if oldest is None else oldest.since


async def oldest_ready_code(session: AsyncSession) -> WaitingCode | None:
    """The code that has waited longest in Ready to Export (the digest shows its age)."""
    statement = (
        select(CostCode.code, CostCode.description, CostCode.created_at)
        .where(col(CostCode.state) == State.READY.value)
        .order_by(col(CostCode.created_at), col(CostCode.id))
        .limit(1)
    )
    found = (await session.exec(statement)).first()
    if found is None:
        return None
    code, description, since = found
    return WaitingCode(code, description, since if since.tzinfo else since.replace(tzinfo=UTC))
