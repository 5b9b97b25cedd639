"""Starting exports: which Ready codes may go to QuickBooks, and queueing them as one batch.

The Web Connector side (sending, answers, recovery) lives in `bot.webconnector.backend`; this
module decides what is sent and tells the person who pressed Export what stays behind and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.costcodes import rules, statemachine
from bot.costcodes.domain import FailedCode, State, Surface
from bot.store import db
from bot.store.models import CostCode, ExportBatch, GLAccount
from bot.webconnector import states
from bot.webconnector.states import ACTIVE_BATCH, BatchState


@dataclass(slots=True)
class ExportStart:
    """What pressing Export did."""

    batch: ExportBatch | None = None
    queued: list[str] = field(default_factory=list)
    held: list[FailedCode] = field(default_factory=list)
    already_running: ExportBatch | None = None


def blocker(code: CostCode, income: GLAccount | None) -> str | None:
    """Why this code cannot be exported now, or None."""
    broken = rules.violation_text(code.code, code.description)
    if broken:
        return broken
    if code.income_account_id is None:
        return "no GL Account – Income picked"
    if income is None or not income.active:
        return "its GL Account – Income is no longer active in QuickBooks; pick another"
    return None


async def active_batch(session: AsyncSession) -> ExportBatch | None:
    statement = (
        select(ExportBatch)
        .where(col(ExportBatch.state).in_(ACTIVE_BATCH))
        .order_by(col(ExportBatch.id))
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def _candidates(
    session: AsyncSession, state: State
) -> list[tuple[CostCode, GLAccount | None]]:
    statement = (
        select(CostCode, GLAccount)
        .join(GLAccount, col(GLAccount.id) == col(CostCode.income_account_id), isouter=True)
        .where(col(CostCode.state) == state.value)
        .order_by(col(CostCode.code))
    )
    return [(code, income) for code, income in (await session.exec(statement)).all()]


async def start_export(
    session: AsyncSession,
    *,
    actor: str,
    surface: Surface,
    channel: str | None = None,
    list_ts: str | None = None,
    source: State = State.READY,
    now: datetime | None = None,
) -> ExportStart:
    """Queue every `source` code (Ready, or Failed for Retry) that may go, on every page.

    One export runs at a time: while a batch is unfinished, the answer names it instead.
    """
    running = await active_batch(session)
    if running is not None:
        return ExportStart(already_running=running)
    outcome = ExportStart()
    eligible: list[int] = []
    for code, income in await _candidates(session, source):
        reason = blocker(code, income)
        if reason:
            outcome.held.append(FailedCode(code.code, reason))
        elif code.id is not None:
            eligible.append(code.id)
    if not eligible:
        return outcome
    when = now or db.now(session)
    batch = ExportBatch(
        created_by=actor,
        surface=surface.value,
        channel=channel,
        list_ts=list_ts,
        created_at=when,
        updated_at=when,
    )
    session.add(batch)
    await session.flush()
    moved = await statemachine.transition_many(
        session,
        ids=eligible,
        source=source,
        target=State.QUEUED,
        actor=actor,
        surface=surface,
        changes={
            "export_batch_id": batch.id,
            "last_error": None,
            "attempts": 0,
        },
        detail=f"export batch {batch.id}",
    )
    batch.total = len(moved)
    if not moved:  # another export took them between our read and our write
        await states.move_batch(session, batch, BatchState.EMPTY)
        return ExportStart(already_running=await active_batch(session), held=outcome.held)
    outcome.batch = batch
    outcome.queued = sorted(code for _, code in moved)
    return outcome
