"""Stored webhook deliveries processed in the background: fetch the code, apply it, mark it done.

A delivery is claimed (compare-and-set on `claimed_until`) so two processes never work on the
same one; a failure puts it back with backoff and a log line, and the sweep picks it up again,
also after a restart. Our own echoes (`metadata.source_application_id`) change nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.procore import reconcile
from bot.procore.client import ProcoreError
from bot.procore.reconcile import Item, ReconcileReport
from bot.procore.source import CostCodeSource, SourceCode
from bot.store import db
from bot.store.models import ProcoreCode, ProcoreDelivery

log = logging.getLogger(__name__)

RESOURCE = "Standard Cost Codes"
CLAIM_FOR = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 50


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=15 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


class DeliveryProcessor:
    def __init__(
        self,
        sessions: db.SessionFactory,
        source: CostCodeSource,
        clock: Callable[[], datetime],
        *,
        own_app_ids: frozenset[str],
        list_id: Callable[[], int | None],
        company_id: int | None = None,
        on_error: Callable[[str], Awaitable[object]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.source = source
        self.clock = clock
        self.own_app_ids = own_app_ids
        self.list_id = list_id
        self.company_id = company_id
        self.on_error = on_error

    async def sweep(self) -> int:
        """Process every due delivery; returns how many were settled."""
        settled = 0
        while True:
            ids = await self._claim()
            if not ids:
                return settled
            for delivery_id in ids:
                settled += await self._process(delivery_id)

    async def _claim(self) -> list[int]:
        now = self.clock()
        free = or_(
            col(ProcoreDelivery.claimed_until).is_(None), col(ProcoreDelivery.claimed_until) < now
        )
        async with db.session_scope(self.sessions) as session:
            query = (
                select(ProcoreDelivery.id)
                .where(
                    col(ProcoreDelivery.processed_at).is_(None),
                    col(ProcoreDelivery.next_attempt_at) <= now,
                    free,
                )
                .order_by(col(ProcoreDelivery.id))
                .limit(BATCH)
            )
            if not db.is_sqlite_session(session):
                query = query.with_for_update(skip_locked=True)
            ids = [i for i in (await session.exec(query)).all() if i is not None]
            if not ids:
                return []
            statement = (
                update(ProcoreDelivery)
                .where(col(ProcoreDelivery.id).in_(ids), free)
                .values(claimed_until=now + CLAIM_FOR)
                .returning(col(ProcoreDelivery.id))
                .execution_options(synchronize_session=False)
            )
            return [row[0] for row in (await session.exec(statement)).all()]

    async def _process(self, delivery_id: int) -> int:
        async with self.sessions() as session:
            delivery = await session.get(ProcoreDelivery, delivery_id)
        assert delivery is not None
        data: dict[str, Any] = json.loads(delivery.body)
        try:
            outcome = await self._handle(delivery, data)
        except ProcoreError as exc:
            await self._failed(delivery, exc.message)
            return 0
        except Exception as exc:  # a bug must not lose the delivery: retried, and logged
            log.exception("Procore delivery %s could not be processed", delivery.ulid)
            await self._failed(delivery, f"{type(exc).__name__}: {exc}")
            return 0
        await self._settle(delivery, processed_at=self.clock(), outcome=outcome, last_error=None)
        log.info("Procore delivery %s (%s %s): %s", delivery.ulid, delivery.event_type,
                 delivery.resource_id, outcome)  # fmt: skip
        return 1

    async def _failed(self, delivery: ProcoreDelivery, reason: str) -> None:
        attempts = delivery.attempts + 1
        retry_at = self.clock() + backoff(attempts)
        log.warning(
            "Procore delivery %s failed (attempt %d), retried at %s: %s",
            delivery.ulid, attempts, retry_at.isoformat(), reason,
        )  # fmt: skip
        await self._settle(
            delivery, attempts=attempts, next_attempt_at=retry_at, last_error=reason[:2000]
        )
        if self.on_error is not None:
            await self.on_error(f"webhook delivery: {reason}")

    async def _settle(self, delivery: ProcoreDelivery, **values: object) -> None:
        async with db.session_scope(self.sessions) as session:
            statement = (
                update(ProcoreDelivery)
                .where(col(ProcoreDelivery.id) == delivery.id)
                .values(claimed_until=None, **values)
                .execution_options(synchronize_session=False)
            )
            await session.exec(statement)

    async def _handle(self, delivery: ProcoreDelivery, data: dict[str, Any]) -> str:
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        assert isinstance(metadata, dict)
        app_id = metadata.get("source_application_id")
        if app_id is not None and str(app_id) in self.own_app_ids:
            return "ignored: our own change (echo of a write-back)"
        company = data.get("company_id")
        if None not in (company, self.company_id) and str(company) != str(self.company_id):
            return f"ignored: for another Procore company ({company})"
        if delivery.resource_name != RESOURCE:
            return f"ignored: not a standard cost code ({delivery.resource_name})"
        if delivery.event_type == "delete":
            return await self._deleted(delivery.resource_id)
        found = await self.source.read_one(delivery.resource_id)
        if found is None:
            return await self._deleted(delivery.resource_id)
        wanted = self.list_id()
        if wanted is not None and found.list_id is not None and found.list_id != wanted:
            return f"ignored: on another cost code list ({found.list_id})"
        return await self._changed(found)

    async def _deleted(self, procore_id: int) -> str:
        report = ReconcileReport()
        async with db.session_scope(self.sessions) as session:
            row = await session.get(ProcoreCode, procore_id)
            if row is None:
                return "nothing to do: the code was never seen"
            await reconcile.mark_deleted(session, row, report, self.clock())
        return f"deleted: {report.words()}"

    async def _changed(self, code: SourceCode) -> str:
        parent = await self._parent(code)
        report = ReconcileReport(read=1)
        async with db.session_scope(self.sessions) as session:
            children = (
                await session.exec(
                    select(ProcoreCode).where(
                        ProcoreCode.parent_id == code.id, col(ProcoreCode.deleted).is_(False)
                    )
                )
            ).all()
            items = [
                Item(code, reconcile.division_name(parent) if parent else None, bool(children))
            ]
            if parent is not None:
                items.append(Item(parent, await _division_of(session, parent), True))
            new_division = reconcile.division_name(code)
            items.extend(
                Item(_from_mirror(child), new_division, child.is_division) for child in children
            )
            await reconcile.apply_items(session, items, report, self.clock())
        return report.words()

    async def _parent(self, code: SourceCode) -> SourceCode | None:
        if code.parent_id is None:
            return None
        async with self.sessions() as session:
            known = await session.get(ProcoreCode, code.parent_id)
        if known is not None and not known.deleted:
            return _from_mirror(known)
        return await self.source.read_one(code.parent_id)


async def _division_of(session: AsyncSession, code: SourceCode) -> str | None:
    if code.parent_id is None:
        return None
    parent = await session.get(ProcoreCode, code.parent_id)
    return reconcile.division_name(_from_mirror(parent)) if parent is not None else None


def _from_mirror(row: ProcoreCode) -> SourceCode:
    return SourceCode(id=row.id, parent_id=row.parent_id, full_code=row.full_code, name=row.name)
