"""Writes that reach the database at the same moment share one transaction.

SQLite has one writer, so the saves of 20 people clicking in the same instant went one after the
other, and every statement of each waited a turn of the busy event loop: the last ack waited for
19 transactions of several round trips each (issue 17). On PostgreSQL they ran at once but queued
on the same row locks. Here the first write to reach the database takes every write waiting by
then into one transaction (`write_all`, which judges each on its own, in arrival order, and
returns each its own outcome or refusal); writes that come while it runs go together into the
next. A transaction that fails fails every write in it, and nothing of it is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store import db

T = TypeVar("T")
R = TypeVar("R")
WriteAll = Callable[[AsyncSession, list[T]], Awaitable[list[R | Exception]]]


class SavedTogether(Generic[T, R]):
    """`write(item)`: its outcome once committed, or its own refusal raised."""

    def __init__(self, sessions: db.SessionFactory, write_all: WriteAll[T, R]) -> None:
        self._sessions = sessions
        self._write_all = write_all
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._saving: asyncio.Task[None] | None = None

    async def write(self, item: T) -> R:
        saved: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, saved))
        if self._saving is None:
            # Started from a request's task, so it queues in the writer's line for acks.
            self._saving = asyncio.create_task(self._save_waiting())
        return await asyncio.shield(saved)  # a person who gives up does not undo the others

    async def _save_waiting(self) -> None:
        try:
            while self._waiting:
                await self._save_one_transaction()
        finally:
            self._saving = None

    async def _save_one_transaction(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            async with db.session_scope(self._sessions) as session:
                await session.connection()  # the write lock: every write that came meanwhile joins
                batch, self._waiting = self._waiting, []
                outcomes = await self._write_all(session, [item for item, _ in batch])
        except Exception as exc:  # nothing was committed: every write of it hears so
            if not batch:  # the database could not even be reached: the waiting writes fail
                batch, self._waiting = self._waiting, []
            for _, saved in batch:
                if not saved.done():
                    saved.set_exception(exc)
            return
        for (_, saved), outcome in zip(batch, outcomes, strict=True):
            if saved.done():
                continue
            if isinstance(outcome, Exception):
                saved.set_exception(outcome)
            else:
                saved.set_result(outcome)
