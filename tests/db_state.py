"""Every row of every table, to show that a refused request changed nothing in the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from bot.core import Core

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(services: Core, *, ignore: tuple[str, ...] = ()) -> Snapshot:
    """Each table's rows (every column), in a stable order; `ignore` leaves tables out."""
    found: Snapshot = {}
    async with services.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in ignore:
                continue
            rows = (await conn.execute(select(table))).all()
            found[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return found


def counts(state: Snapshot) -> dict[str, int]:
    return {name: len(rows) for name, rows in state.items()}
