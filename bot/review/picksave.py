"""Picks made at the same moment are saved together, in one transaction.

SQLite has one writer, so the saves of 20 people picking in the same instant went one after the
other, and every statement of each waited a turn of the busy event loop: the last ack waited for
19 saves of five round trips each (issue 17). On PostgreSQL the 20 transactions ran at once but
queued on the row locks of the copies they all mark. Here the first pick to reach the database
saves every pick waiting by then: one read of their codes (locked), one compare-and-set
executemany, one audit insert and one mark of the copies showing them, whatever their number.
Each pick is still judged on its own, in arrival order, against the code as the picks before it
leave it (`picks.unchanged_or_conflicting`), and each person hears only about their own pick: a
refused pick changes nothing and stops no other. Every pick's ack waits for the commit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.costcodes import statemachine
from bot.costcodes.domain import State, Surface
from bot.errors import ConflictError, InvalidTransition, NotFound
from bot.review import listing
from bot.review.picks import AccountPick, unchanged_or_conflicting
from bot.store import db
from bot.store.models import CostCode


@dataclass
class _Waiting:
    actor: str
    pick: AccountPick
    changes: dict[str, int | None]
    copy: int
    now: datetime
    saved: asyncio.Future[bool] = field(repr=False)


class PickSaver:
    """`save()` a pick; picks waiting for the writer at the same moment share one transaction."""

    def __init__(self, sessions: db.SessionFactory) -> None:
        self._sessions = sessions
        self._waiting: list[_Waiting] = []
        self._saving: asyncio.Task[None] | None = None

    async def save(
        self,
        actor: str,
        pick: AccountPick,
        changes: dict[str, int | None],
        copy: int,
        now: datetime,
    ) -> bool:
        """True once the pick is committed, False if the code already held it; raises the
        pick's own refusal (a conflict, a code gone or no longer editable)."""
        saved: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(actor, pick, changes, copy, now, saved))
        if self._saving is None:
            # Started from a pick's task, so it queues in the writer's line for acks.
            self._saving = asyncio.create_task(self._save_waiting())
        return await asyncio.shield(saved)  # a person who gives up does not undo the others

    async def _save_waiting(self) -> None:
        try:
            while self._waiting:
                await self._save_one_transaction()
        finally:
            self._saving = None

    async def _save_one_transaction(self) -> None:
        batch: list[_Waiting] = []
        try:
            async with db.session_scope(self._sessions) as session:
                await session.connection()  # the write lock: every pick that came meanwhile joins
                batch, self._waiting = self._waiting, []
                outcomes = await _save_all(session, batch)
        except Exception as exc:  # nothing was committed: every pick of it hears so
            if not batch:  # the database could not even be reached: the waiting picks fail
                batch, self._waiting = self._waiting, []
            for waiting in batch:
                if not waiting.saved.done():
                    waiting.saved.set_exception(exc)
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if waiting.saved.done():
                continue
            if isinstance(outcome, Exception):
                waiting.saved.set_exception(outcome)
            else:
                waiting.saved.set_result(outcome)


class _AsPicked:
    """A code as the picks judged before this one leave it (their writes are not made yet)."""

    def __init__(self, code: CostCode) -> None:
        self._code = code
        self._values: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__["_values"]
        return values[name] if name in values else getattr(self.__dict__["_code"], name)

    def apply(self, changes: dict[str, int | None]) -> None:
        self._values.update(changes)
        self._values["version"] = self.version + 1


async def _save_all(session: AsyncSession, batch: list[_Waiting]) -> list[bool | Exception]:
    ids = sorted({waiting.pick.code_id for waiting in batch})
    # Locked in id order (PostgreSQL; SQLite's write lock already holds everything): nothing
    # changes them between this read and the write, and two servers cannot deadlock on them.
    read = select(CostCode).where(col(CostCode.id).in_(ids)).order_by(col(CostCode.id))
    found = (await session.exec(read.with_for_update())).all()
    views = {code.id: _AsPicked(code) for code in found}
    codes = {code.id: code for code in found}
    edits: list[statemachine.Edit] = []
    outcomes: list[bool | Exception] = []
    for waiting in batch:
        pick, changes = waiting.pick, waiting.changes
        view = views.get(pick.code_id)
        if view is None:
            outcomes.append(NotFound("That cost code no longer exists."))
            continue
        field_name = f"{pick.purpose.value}_account_id"
        if all(getattr(view, key) == value for key, value in changes.items()):
            outcomes.append(False)
            continue
        if unchanged_or_conflicting(view, pick, changes, field_name):
            outcomes.append(ConflictError.changed(view.code))
            continue
        if State(view.state) not in statemachine.EDITABLE:
            state = State(view.state).value
            outcomes.append(
                InvalidTransition(f"{view.code} is {state} and can no longer be changed")
            )
            continue
        view.apply(changes)
        action = f"pick {pick.purpose.value}"
        edits.append(statemachine.Edit(codes[pick.code_id], changes, waiting.actor, action))
        outcomes.append(True)
    await statemachine.edit_each(session, edits, surface=Surface.SLACK)
    saved = [waiting for waiting, outcome in zip(batch, outcomes, strict=True) if outcome is True]
    if saved:
        await listing.mark_copies_showing(
            session,
            sorted({waiting.pick.code_id for waiting in saved}),
            now=saved[-1].now,
            changed_by=saved[-1].actor,
            also=sorted({waiting.copy for waiting in saved}),
        )
    return outcomes
