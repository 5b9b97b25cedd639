"""Picks made at the same moment are saved together, in one transaction (bot.store.together).

On PostgreSQL 20 picks saved one by one queued on the row locks of the copies they all mark; on
SQLite they went one at a time through its one writer. The first pick to reach the database
saves every pick waiting by then: one read of their codes (locked), one of their accounts and
clicked copies, one compare-and-set executemany, one audit insert and one mark of the copies
showing them, whatever their number. A pick reads nothing on its own: a read of its own cost
each pick ~2 ms of the event loop's time before its ack, 40 ms for the last of 20 (issue 17).
Each pick is still judged on its own, in arrival order, against the code as the picks before it
leave it (`picks.unchanged_or_conflicting`), and each person hears only about their own pick: a
refused pick changes nothing and stops no other. Every pick's ack waits for the commit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, bindparam, literal, null, union_all
from sqlalchemy import select as rows_of
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts import chart as accounts
from bot.costcodes import statemachine
from bot.costcodes.domain import State, Surface
from bot.errors import ConflictError, CostCodeError, InvalidTransition, NotFound
from bot.review import listing
from bot.review.picks import AccountPick, unchanged_or_conflicting
from bot.store import db
from bot.store.models import CostCode, GLAccount, PostedMessage
from bot.store.together import SavedTogether


class Untracked(enum.Enum):
    """The clicked copy is not one the bot keeps: the pick was not saved here (it adopts the
    copy on the way that saves one pick alone)."""

    COPY = "copy"


Saved = int | None | Untracked
"""The clicked copy's row id once the pick is committed; None when the code already held it."""

# Built once: an expanding IN keeps one cached compiled form whatever the number of picks.
_CODES = (
    select(CostCode)
    .where(col(CostCode.id).in_(bindparam("ids", expanding=True)))
    .order_by(col(CostCode.id))
    .with_for_update()
)
# The accounts' active flags and the clicked copies' row ids, in one round trip: a pick saved
# alone (people picking one by one) waits for each statement's turn of a busy event loop.
_ACCOUNTS_AND_COPIES: CompoundSelect[Any] = union_all(
    rows_of(literal("account"), col(GLAccount.id), col(GLAccount.active), null(), null()).where(
        col(GLAccount.id).in_(bindparam("accounts", expanding=True))
    ),
    rows_of(
        literal("copy"),
        col(PostedMessage.id),
        null(),
        col(PostedMessage.channel),
        col(PostedMessage.ts),
    ).where(listing.clicked_copies()),
)


@dataclass(frozen=True)
class _Waiting:
    actor: str
    pick: AccountPick
    now: datetime

    @property
    def changes(self) -> dict[str, int | None]:
        return {f"{self.pick.purpose.value}_account_id": self.pick.account_id}


class PickSaver(SavedTogether[_Waiting, Saved]):
    """`save()` a pick; picks waiting for the writer at the same moment share one transaction."""

    def __init__(self, sessions: db.SessionFactory) -> None:
        super().__init__(sessions, _save_all)

    async def save(self, actor: str, pick: AccountPick, now: datetime) -> Saved:
        """The clicked copy's id once the pick is committed, None if the code already held it,
        `Untracked.COPY` (nothing saved) for a copy the bot does not keep; raises the pick's
        own refusal (an account gone or inactive, a conflict, a code gone or not editable)."""
        return await self.write(_Waiting(actor, pick, now))


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


async def _save_all(session: AsyncSession, batch: list[_Waiting]) -> list[Saved | Exception]:
    ids = sorted({waiting.pick.code_id for waiting in batch})
    # Locked in id order (PostgreSQL; SQLite's write lock already holds everything): nothing
    # changes them between this read and the write, and two servers cannot deadlock on them.
    found = (await session.exec(_CODES, params={"ids": ids})).all()
    views = {code.id: _AsPicked(code) for code in found}
    codes = {code.id: code for code in found}
    active, copies = await _accounts_and_copies(session, batch)
    edits: list[statemachine.Edit] = []
    outcomes: list[Saved | Exception] = []
    for waiting in batch:
        pick, changes = waiting.pick, waiting.changes
        if pick.account_id is not None:  # the account's own check answers first
            try:
                accounts.require_active(active.get(pick.account_id))
            except CostCodeError as refused:
                outcomes.append(refused)
                continue
        copy = copies.get((pick.at.channel, pick.at.ts))
        if copy is None:
            outcomes.append(Untracked.COPY)
            continue
        view = views.get(pick.code_id)
        if view is None:
            outcomes.append(NotFound("That cost code no longer exists."))
            continue
        field_name = f"{pick.purpose.value}_account_id"
        if all(getattr(view, key) == value for key, value in changes.items()):
            outcomes.append(None)
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
        outcomes.append(copy)
    await statemachine.edit_each(session, edits, surface=Surface.SLACK)
    saved = [
        (waiting, outcome)
        for waiting, outcome in zip(batch, outcomes, strict=True)
        if isinstance(outcome, int)
    ]
    if saved:
        last = saved[-1][0]
        await listing.mark_copies_showing(
            session,
            sorted({waiting.pick.code_id for waiting, _ in saved}),
            now=last.now,
            changed_by=last.actor,
            also=sorted({copy for _, copy in saved}),
        )
    return outcomes


async def _accounts_and_copies(
    session: AsyncSession, batch: list[_Waiting]
) -> tuple[dict[int, bool], dict[tuple[str, str], int]]:
    """Whether each picked account may be picked (absent: not in the chart), and the clicked
    copies' row ids by (channel, ts)."""
    params = {
        "accounts": sorted({w.pick.account_id for w in batch if w.pick.account_id is not None}),
        **listing.clicked_params(w.pick.at for w in batch),
    }
    active: dict[int, bool] = {}
    copies: dict[tuple[str, str], int] = {}
    rows = await (await session.connection()).execute(_ACCOUNTS_AND_COPIES, params)
    for kind, row_id, is_active, channel, ts in rows:
        if kind == "account":
            active[row_id] = bool(is_active)
        else:
            copies[(channel, ts)] = row_id
    return active, copies
