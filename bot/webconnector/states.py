"""The lifecycles of an export batch, a Web Connector job and a Web Connector session (ticket).

Each has a StrEnum, whose values are the strings stored in its `state` column, a table of the
moves it may make, and one writer here. Every writer is a compare-and-set UPDATE naming the state
it expects, because several processes answer the Web Connector: two sessions may pick one job, a
batch may be finished while another session starts it, the sweep may expire a ticket while an
answer arrives. Exactly one of them wins; the other changes nothing and is told so (False).
An illegal move is a bug in the caller, not a race, and raises IllegalMove.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningUpdate
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store import db
from bot.store.models import ExportBatch, QbwcJob, QbwcTicket


class BatchState(StrEnum):
    """An export batch: waiting for the Web Connector, being sent, finished, or never started."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    EMPTY = "empty"
    """Another export took every code between the read and the write: nothing was queued."""


class JobState(StrEnum):
    """A Web Connector job (a GL account refresh)."""

    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"


class TicketState(StrEnum):
    """A Web Connector session."""

    OPEN = "open"
    CLOSED = "closed"
    EXPIRED = "expired"
    """Silent for longer than the session timeout; what it had in flight was recovered."""


ACTIVE_BATCH = (BatchState.QUEUED, BatchState.RUNNING)
"""An export is unfinished while its batch is in one of these."""
WAITING_JOB = (JobState.PENDING, JobState.SENDING)
FINISHED_JOB = (JobState.DONE, JobState.FAILED)

BATCH_MOVES = frozenset(
    {
        (BatchState.QUEUED, BatchState.RUNNING),
        (BatchState.QUEUED, BatchState.DONE),  # its codes all left the queue before a pickup
        (BatchState.QUEUED, BatchState.EMPTY),
        (BatchState.RUNNING, BatchState.DONE),
    }
)
JOB_MOVES = frozenset(
    {
        (JobState.PENDING, JobState.SENDING),
        (JobState.SENDING, JobState.PENDING),  # the answer was lost or held: send it again
        (JobState.SENDING, JobState.DONE),
        (JobState.SENDING, JobState.FAILED),
    }
)
TICKET_MOVES = frozenset(
    {
        (TicketState.OPEN, TicketState.CLOSED),
        (TicketState.OPEN, TicketState.EXPIRED),
    }
)


class IllegalMove(ValueError):
    """A lifecycle move its table does not allow (a bug in the caller, never a race)."""


S = TypeVar("S", bound=StrEnum)


def check(moves: frozenset[tuple[S, S]], source: S, target: S) -> None:
    if (source, target) not in moves:
        kind = type(source).__name__.removesuffix("State").lower()
        raise IllegalMove(f"a {kind} that is {source.value} cannot become {target.value}")


async def move_batch(
    session: AsyncSession,
    batch: ExportBatch,
    target: BatchState,
    *,
    expected: BatchState | None = None,
) -> bool:
    """Move `batch` from `expected` (default: its state as read) to `target`; True if it won.

    A pickup stamps `picked_up_at`, the end `finished_at`.
    """
    source = BatchState(batch.state) if expected is None else expected
    check(BATCH_MOVES, source, target)
    where = (col(ExportBatch.id) == batch.id) & (col(ExportBatch.state) == source.value)
    return await _write(session, batch, where, _batch_stamps(session, target))


def _batch_stamps(session: AsyncSession | None, target: BatchState) -> dict[str, Any]:
    """What a batch's move writes: its state, and when (a pickup, an end); without a session,
    only which columns."""
    now = db.now(session) if session is not None else None
    values: dict[str, Any] = {"state": target.value, "updated_at": now}
    if target is BatchState.RUNNING:
        values["picked_up_at"] = now
    if target is BatchState.DONE:
        values["finished_at"] = now
    return values


async def start_batches(session: AsyncSession, batch_ids: Collection[int]) -> list[int]:
    """Move the queued batches among `batch_ids` to running (a pickup); the ids it moved.

    One compare-and-set for all of them: a batch already running, or started by another session
    a moment ago, is left as it is.
    """
    return await _move_batches(session, batch_ids, (BatchState.QUEUED,), BatchState.RUNNING)


async def finish_batches(
    session: AsyncSession, batch_ids: Collection[int], *, unless: ColumnElement[bool]
) -> list[int]:
    """Move the unfinished batches among `batch_ids` for which `unless` (a condition on the
    export_batch row) is false to done; the ids it moved. A batch another session finished a
    moment ago is left as it is."""
    return await _move_batches(session, batch_ids, ACTIVE_BATCH, BatchState.DONE, unless)


async def _move_batches(
    session: AsyncSession,
    batch_ids: Collection[int],
    sources: tuple[BatchState, ...],
    target: BatchState,
    unless: ColumnElement[bool] | None = None,
) -> list[int]:
    if not batch_ids:
        return []
    statement = _batches_moved(sources, target, unless)
    stamps = _batch_stamps(session, target)
    params = {"b_ids": sorted(batch_ids), **{f"s_{key}": value for key, value in stamps.items()}}
    moved = (await session.exec(statement, params=params)).scalars()
    return sorted(int(batch_id) for batch_id in moved)


@functools.lru_cache(maxsize=16)
def _batches_moved(
    sources: tuple[BatchState, ...], target: BatchState, unless: ColumnElement[bool] | None
) -> ReturningUpdate[int]:
    """The compare-and-set of several batches, built once for each move (the Web Connector makes
    two or three a round trip, and building one cost more than running it). `unless` is kept by
    identity: a caller's constant is built into one statement."""
    for source in sources:
        check(BATCH_MOVES, source, target)
    table = ExportBatch.__table__  # type: ignore[attr-defined]
    stamps = _batch_stamps(None, target)
    return (
        update(table)
        .where(
            table.c.id.in_(bindparam("b_ids", expanding=True)),
            table.c.state.in_([source.value for source in sources]),
            *(() if unless is None else (~unless,)),
        )
        .values({key: bindparam(f"s_{key}") for key in stamps})
        .returning(table.c.id)
    )


async def move_job(
    session: AsyncSession,
    job: QbwcJob,
    target: JobState,
    *,
    expected: JobState | None = None,
    **changes: Any,
) -> bool:
    """Move `job` from `expected` (default: its state as read) to `target`, with `changes`."""
    source = JobState(job.state) if expected is None else expected
    check(JOB_MOVES, source, target)
    values = {**changes, "state": target.value, "updated_at": db.now(session)}
    where = (col(QbwcJob.id) == job.id) & (col(QbwcJob.state) == source.value)
    return await _write(session, job, where, values)


async def move_ticket(
    session: AsyncSession,
    ticket: QbwcTicket,
    target: TicketState,
    *,
    silent_before: datetime | None = None,
) -> bool:
    """End an open session; with `silent_before`, only if it has not been heard from since.

    The winner's `ticket` then shows the row as it is now, `in_flight` included, so it recovers
    exactly what the session had with QuickBooks at that moment.
    """
    check(TICKET_MOVES, TicketState.OPEN, target)
    where = (col(QbwcTicket.ticket) == ticket.ticket) & (
        col(QbwcTicket.state) == TicketState.OPEN.value
    )
    if silent_before is not None:
        where = where & (col(QbwcTicket.last_seen_at) < silent_before)
    return await _write(session, ticket, where, {"state": target.value})


async def keep_open(session: AsyncSession, ticket: QbwcTicket, *, now: datetime) -> bool:
    """Note that an open session was heard from; False if it was ended first.

    Not a move, but the same compare-and-set: with `move_ticket`'s `silent_before`, a sweep that
    expires the ticket and an answer that keeps it open cannot both win.
    """
    where = (col(QbwcTicket.ticket) == ticket.ticket) & (
        col(QbwcTicket.state) == TicketState.OPEN.value
    )
    return await _write(session, ticket, where, {"last_seen_at": now})


async def heard_from(
    session: AsyncSession, ticket_id: str, *, now: datetime, since: datetime
) -> QbwcTicket | None:
    """`keep_open` for a ticket not read yet: one statement when the session is open and was heard
    from after `since` (every call of a running update), the ticket as it now is; None otherwise,
    and then the caller reads it to find out why."""
    params = {"b_ticket": ticket_id, "b_since": since, "b_now": now}
    # sqlmodel's exec() has no overload for a FromStatement; it answers rows of one object.
    written = (await session.exec(cast(Any, _HEARD_FROM), params=params)).first()
    return cast(QbwcTicket, written[0]) if written is not None else None


_TICKETS = QbwcTicket.__table__  # type: ignore[attr-defined]
# Built once (it runs twice a round trip): the UPDATE's rows come back as the session's objects.
_HEARD_FROM = (
    select(QbwcTicket)
    .from_statement(
        update(_TICKETS)
        .where(
            _TICKETS.c.ticket == bindparam("b_ticket"),
            _TICKETS.c.state == TicketState.OPEN.value,
            _TICKETS.c.last_seen_at >= bindparam("b_since"),
        )
        .values(last_seen_at=bindparam("b_now"))
        .returning(*_TICKETS.c)
    )
    .execution_options(populate_existing=True)
)


async def _write(
    session: AsyncSession, row: SQLModel, where: ColumnElement[bool], values: Mapping[str, Any]
) -> bool:
    """One conditional UPDATE; the winner's object is set to the row as written."""
    table = type(row).__table__  # type: ignore[attr-defined]
    statement = (
        update(type(row))
        .where(where)
        .values(**values)
        .returning(*table.c)
        .execution_options(synchronize_session=False)
    )
    written = (await session.exec(statement)).first()
    if written is None:
        return False
    # The ORM must not write these a second time, and the caller sees what the row holds now.
    for key, value in written._mapping.items():
        set_committed_value(row, key, value)
    return True
