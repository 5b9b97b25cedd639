"""Write-back: each code that reaches Success sends its QuickBooks ListID to Procore, once.

`enqueue` runs inside the transaction that moves the code to Success, so the row exists exactly
when the Success does (a crash loses neither). Workers in any process claim due rows with a
compare-and-set (and `FOR UPDATE SKIP LOCKED` on PostgreSQL), send at most 1,000 per call, and
put refused ones back with backoff. A claim that outlives its process expires and is retried;
Procore's sync sets the same origin_id again, so a retry after a lost answer changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import Insert, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.procore.client import ProcoreError
from bot.procore.source import SYNC_BATCH, CostCodeSource
from bot.store import db
from bot.store.models import ProcoreWriteBack

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)


async def enqueue(
    session: AsyncSession, links: Iterable[tuple[int, int | None, str | None]]
) -> None:
    """The hook at Success: queue the write-back of each (cost code id, Procore id, QuickBooks
    ListID); a code without a Procore id (imported from a file) has none. One INSERT for an
    answer's codes; a second Success of the same code adds nothing."""
    values = [
        {
            "cost_code_id": code_id,
            "procore_id": procore_id,
            "origin_id": list_id,
            "state": "pending",
            "attempts": 0,
        }
        for code_id, procore_id, list_id in links
        if procore_id is not None and list_id is not None
    ]
    if not values:
        return
    table = ProcoreWriteBack.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).on_conflict_do_nothing()
    conn = await session.connection()
    await conn.execute(statement, values)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


async def claim(session: AsyncSession, now: datetime, limit: int = SYNC_BATCH) -> list[int]:
    """Ids of due rows this caller now holds; another process never gets the same ones."""
    due = or_(
        col(ProcoreWriteBack.state) == "pending",
        (col(ProcoreWriteBack.state) == "sending") & (col(ProcoreWriteBack.claimed_until) < now),
    )
    # A new row is due at once, whatever clock wrote it; a refused one when its backoff ends.
    ready = or_(col(ProcoreWriteBack.attempts) == 0, col(ProcoreWriteBack.next_attempt_at) <= now)
    query = (
        select(ProcoreWriteBack.id)
        .where(due, ready)
        .order_by(col(ProcoreWriteBack.id))
        .limit(limit)
    )
    if not db.is_sqlite_session(session):
        query = query.with_for_update(skip_locked=True)
    ids = [i for i in (await session.exec(query)).all() if i is not None]
    if not ids:
        return []
    statement = (
        update(ProcoreWriteBack)
        .where(col(ProcoreWriteBack.id).in_(ids), due)
        .values(state="sending", claimed_until=now + CLAIM_FOR)
        .returning(col(ProcoreWriteBack.id))
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in (await session.exec(statement)).all()]


class WriteBackWorker:
    """Sends due write-backs; `flush` is the scheduled job and what tests call."""

    def __init__(
        self,
        sessions: db.SessionFactory,
        source: CostCodeSource,
        clock: Callable[[], datetime],
        on_error: Callable[[str], Awaitable[object]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.source = source
        self.clock = clock
        self.on_error = on_error
        self.batch = SYNC_BATCH

    async def flush(self) -> int:
        """Send every due write-back, a batch at a time; returns how many Procore took."""
        written = 0
        while True:
            async with db.session_scope(self.sessions) as session:
                ids = await claim(session, self.clock(), self.batch)
            if not ids:
                return written
            done = await self._send(ids)
            written += done
            if done == 0:
                return written  # Procore refuses for now: the rows wait for their backoff

    async def _send(self, ids: list[int]) -> int:
        async with self.sessions() as session:
            rows = (
                await session.exec(
                    select(ProcoreWriteBack).where(col(ProcoreWriteBack.id).in_(ids))
                )
            ).all()
        by_procore = {row.procore_id: row for row in rows}
        try:
            result = await self.source.write_back([(r.procore_id, r.origin_id) for r in rows])
        except ProcoreError as exc:
            log.warning("Procore write-back of %d codes failed: %s", len(rows), exc.message)
            await self._settle([], {row.procore_id: exc.message for row in rows}, by_procore)
            if self.on_error is not None:
                await self.on_error(f"write-back: {exc.message}")
            return 0
        failed = dict(result.failed)
        for procore_id in by_procore:
            if procore_id not in result.done and procore_id not in failed:
                failed[procore_id] = "Procore's answer did not mention it"
        for procore_id, reason in failed.items():
            log.warning("Procore did not take origin_id for code %s: %s", procore_id, reason)
        await self._settle(list(result.done), failed, by_procore)
        if failed and self.on_error is not None:
            first = next(iter(failed.items()))
            await self.on_error(
                f"write-back: {len(failed)} codes not written yet, e.g. {first[0]}: {first[1]}"
            )
        return len(result.done)

    async def _settle(
        self,
        done: list[int],
        failed: dict[int, str],
        rows: dict[int, ProcoreWriteBack],
    ) -> None:
        now = self.clock()
        async with db.session_scope(self.sessions) as session:
            for procore_id in done:
                row = rows.get(procore_id)
                if row is not None:
                    await _set(session, row, state="done", done_at=now, last_error=None)
            for procore_id, reason in failed.items():
                row = rows.get(procore_id)
                if row is None:
                    continue
                await _set(
                    session,
                    row,
                    state="pending",
                    attempts=row.attempts + 1,
                    next_attempt_at=now + backoff(row.attempts + 1),
                    last_error=reason[:2000],
                )


async def _set(session: AsyncSession, row: ProcoreWriteBack, **values: object) -> None:
    # Only the claim holder moves a row out of "sending"; a row already done stays done.
    statement = (
        update(ProcoreWriteBack)
        .where(col(ProcoreWriteBack.id) == row.id, col(ProcoreWriteBack.state) == "sending")
        .values(claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    await session.exec(statement)
