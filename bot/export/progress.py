"""Where an export stands, read from the database, so any process can render its replies."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.connection.words import ConnectionView
from bot.costcodes.domain import ExportProgress, FailedCode, State
from bot.errors import NotFound
from bot.store.models import CostCode, ExportBatch
from bot.webconnector.queries import last_web_connector_contact
from bot.webconnector.states import BatchState


async def load_progress(
    session: AsyncSession, batch_id: int, *, connection: ConnectionView | None = None
) -> ExportProgress:
    batch = await session.get(ExportBatch, batch_id)
    if batch is None:
        raise NotFound("That export no longer exists.")
    statement = (
        select(CostCode.code, CostCode.last_error)
        .where(
            col(CostCode.export_batch_id) == batch_id,
            col(CostCode.state) == State.FAILED.value,
        )
        .order_by(col(CostCode.code))
    )
    rows = (await session.exec(statement)).all()
    failed = tuple(FailedCode(code, error or "no reason given") for code, error in rows)
    succeeded = await _count(session, batch_id, State.SUCCESS)
    return ExportProgress(
        batch_id=batch_id,
        started_by=batch.created_by,
        started_at=batch.created_at,
        total=batch.total,
        succeeded=succeeded,
        failed=failed,
        picked_up=batch.picked_up_at is not None,
        finished=batch.state == BatchState.DONE,
        last_contact=await last_web_connector_contact(session),
        connection=connection,
    )


async def _count(session: AsyncSession, batch_id: int, state: State) -> int:
    statement = select(func.count()).where(
        col(CostCode.export_batch_id) == batch_id, col(CostCode.state) == state.value
    )
    return int((await session.exec(statement)).one())
