"""The link's own record of how it is doing: last reconcile, last delivery, last error."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.procore.view import ProcoreHealth
from bot.store.models import ProcoreCode, ProcoreLinkState, ProcoreWriteBack


async def _ensure(session: AsyncSession, company_id: int) -> None:
    if await session.get(ProcoreLinkState, company_id) is not None:
        return
    try:
        async with session.begin_nested():
            session.add(ProcoreLinkState(company_id=company_id))
    except IntegrityError:
        pass  # another process made it first


async def record(session: AsyncSession, company_id: int, **values: object) -> None:
    """Set columns of the company's row (one UPDATE: nothing read and written back)."""
    await _ensure(session, company_id)
    statement = (
        update(ProcoreLinkState)
        .where(col(ProcoreLinkState.company_id) == company_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.exec(statement)


async def record_ok(
    session: AsyncSession, company_id: int, now: datetime, **values: object
) -> None:
    await record(session, company_id, last_ok_at=now, last_error=None, last_error_at=None, **values)


async def record_error(session: AsyncSession, company_id: int, now: datetime, error: str) -> None:
    await record(session, company_id, last_error=error[:2000], last_error_at=now)


async def health(session: AsyncSession, company_id: int) -> ProcoreHealth:
    row = await session.get(ProcoreLinkState, company_id, populate_existing=True)
    waiting = (
        await session.exec(
            select(func.count())
            .select_from(ProcoreWriteBack)
            .where(col(ProcoreWriteBack.state) != "done")
        )
    ).one()
    held = (
        await session.exec(
            select(func.count())
            .select_from(ProcoreCode)
            .where(col(ProcoreCode.problem).is_not(None), col(ProcoreCode.deleted).is_(False))
        )
    ).one()
    return ProcoreHealth(
        list_id=row.list_id if row else None,
        last_reconcile_at=row.last_reconcile_at if row else None,
        last_reconcile=row.last_reconcile if row else None,
        last_delivery_at=row.last_delivery_at if row else None,
        writebacks_waiting=int(waiting),
        last_error=row.last_error if row else None,
        last_error_at=row.last_error_at if row else None,
        held_back=int(held),
    )


async def held_back(session: AsyncSession) -> list[tuple[str, str]]:
    """(code, reason) of every Procore code held back by an intake rule."""
    rows = (
        await session.exec(
            select(ProcoreCode)
            .where(col(ProcoreCode.problem).is_not(None), col(ProcoreCode.deleted).is_(False))
            .order_by(col(ProcoreCode.full_code))
        )
    ).all()
    return [(row.full_code, row.problem or "") for row in rows]


async def health_if_on(session: AsyncSession, settings: Settings | None) -> ProcoreHealth | None:
    """The link's health for status replies and digests; None while the link is off."""
    if settings is None or settings.procore_company_id is None or not settings.procore_enabled:
        return None
    return await health(session, settings.procore_company_id)
