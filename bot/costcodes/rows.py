"""A cost code's row as the Web Connector reads it: plain values, never an ORM object.

The Web Connector claims and settles 100 codes a round trip. Loading them as the session's
objects (and writing every changed value back onto each object) cost more than the statements
themselves; a row of the columns its moves need is read and written with plain Core statements.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.models import CostCode

TABLE: Any = CostCode.__table__  # type: ignore[attr-defined]


class CodeRow(NamedTuple):
    """One code as read (or as written) by a statement of the Web Connector's."""

    id: int
    code: str
    description: str
    state: str
    version: int
    attempts: int
    income_account_id: int | None
    expense_account_id: int | None
    export_batch_id: int | None
    procore_id: int | None


COLUMNS = tuple(TABLE.c[name] for name in CodeRow._fields)
"""The columns of a CodeRow, in its order (a SELECT or a RETURNING of them)."""

# Built once: a claim of 100 ids is one expanding parameter, not 100 literals checked each time.
_LOCKED = (
    select(*COLUMNS)
    .where(TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(TABLE.c.id)
    .with_for_update()
)


async def lock(session: AsyncSession, ids: Collection[int]) -> list[CodeRow]:
    """The codes among `ids` that exist, in id order, their rows locked to the end of the
    transaction (two transactions locking overlapping codes take them in the same order, so they
    cannot deadlock); on SQLite the write transaction holds the whole database already."""
    if not ids:
        return []
    conn = await session.connection()
    return [CodeRow(*row) for row in await conn.execute(_LOCKED, {"ids": sorted(ids)})]
