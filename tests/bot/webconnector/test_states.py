"""The writers of the export batch, job and ticket lifecycles: legal, illegal, stale and raced."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import Core
from bot.store import db
from bot.store.models import AuditEvent, ExportBatch, QbwcJob, QbwcTicket
from bot.webconnector import states, work
from bot.webconnector.backend import QbwcBackend
from bot.webconnector.states import BatchState, IllegalMove, JobState, TicketState
from qbd.simulator import HCP_RESPONSE
from tests.bot.webconnector.qbwc_env import qbwc_env
from tests.conftest import FakeClock

Row = TypeVar("Row", bound=SQLModel)


async def _add(services: Core, row: Row) -> Row:
    async with db.session_scope(services.sessions) as session:
        session.add(row)
    return row


async def _read(services: Core, model: type[Row], key: object) -> Row:
    """The row as another process would have read it a moment ago (detached, not refreshed)."""
    async with services.sessions() as session:
        found = await session.get(model, key)
    assert found is not None
    return found


async def _batch(services: Core, state: BatchState = BatchState.QUEUED) -> ExportBatch:
    return await _add(
        services, ExportBatch(created_by="U1", surface="slack", total=3, state=state.value)
    )


async def _job(services: Core, state: JobState = JobState.PENDING) -> QbwcJob:
    return await _add(services, QbwcJob(kind="accounts_sync", requested_by="U1", state=state.value))


async def _ticket(
    services: Core, clock: FakeClock, state: TicketState = TicketState.OPEN
) -> QbwcTicket:
    now = clock()
    return await _add(
        services, QbwcTicket(ticket="t-1", state=state.value, created_at=now, last_seen_at=now)
    )


T = TypeVar("T")
Write = Callable[[AsyncSession], Awaitable[T]]


async def _in_transaction(services: Core, write: Write[T]) -> T:
    async with db.session_scope(services.sessions) as session:
        return await write(session)


async def _race(services: Core, *writes: Write[T]) -> list[T]:
    """Run the writers at once, each in its own transaction, and say which won.

    On PostgreSQL every transaction is open before any writes, so they meet on the row lock;
    SQLite lets one writer in at a time (bot.store.writegate), so there they queue.
    """
    together = None if db.is_sqlite(services.engine) else asyncio.Barrier(len(writes))

    async def one(write: Write[T]) -> T:
        async with db.session_scope(services.sessions) as session:
            await session.connection()
            if together is not None:
                await together.wait()
            return await write(session)

    return list(await asyncio.gather(*(one(write) for write in writes)))


def test_the_tables_allow_exactly_the_moves_of_each_lifecycle() -> None:
    expected = {
        BatchState: {("queued", "running"), ("queued", "done"), ("queued", "empty")}
        | {("running", "done")},
        JobState: {("pending", "sending"), ("sending", "pending")}
        | {("sending", "done"), ("sending", "failed")},
        TicketState: {("open", "closed"), ("open", "expired")},
    }
    tables = {
        BatchState: states.BATCH_MOVES,
        JobState: states.JOB_MOVES,
        TicketState: states.TICKET_MOVES,
    }
    for kind, allowed in expected.items():
        for source, target in itertools.product(list(kind), repeat=2):
            if (source.value, target.value) in allowed:
                states.check(tables[kind], source, target)
            else:
                with pytest.raises(IllegalMove, match=f"is {source.value} cannot become"):
                    states.check(tables[kind], source, target)


def test_model_defaults_are_the_first_state_of_each_lifecycle() -> None:
    assert ExportBatch(created_by="U1", surface="slack").state == BatchState.QUEUED
    assert QbwcJob(kind="accounts_sync", requested_by="U1").state == JobState.PENDING
    assert QbwcTicket(ticket="t").state == TicketState.OPEN


# Export batches


async def test_a_batch_picked_up_is_running_with_the_time(services: Core, clock: FakeClock) -> None:
    batch = await _batch(services)
    clock.advance(minutes=5)
    async with db.session_scope(services.sessions) as session:
        mine = await session.get(ExportBatch, batch.id)
        assert mine is not None
        mine.succeeded = 2  # pending in the ORM: written before the move, not lost after it
        assert await states.move_batch(session, mine, BatchState.RUNNING)
        assert mine.state == BatchState.RUNNING
    stored = await _read(services, ExportBatch, batch.id)
    assert (stored.state, stored.succeeded, stored.total) == ("running", 2, 3)
    assert stored.picked_up_at == stored.updated_at == clock()
    assert stored.finished_at is None


async def test_a_finished_batch_is_done_with_the_time(services: Core, clock: FakeClock) -> None:
    batch = await _batch(services, BatchState.RUNNING)
    clock.advance(minutes=7)
    assert await _in_transaction(
        services, lambda session: states.move_batch(session, batch, BatchState.DONE)
    )
    stored = await _read(services, ExportBatch, batch.id)
    assert (stored.state, stored.finished_at, stored.picked_up_at) == ("done", clock(), None)


async def test_a_done_batch_cannot_start_again(services: Core) -> None:
    batch = await _batch(services, BatchState.DONE)
    with pytest.raises(IllegalMove, match="a batch that is done cannot become running"):
        await _in_transaction(
            services, lambda session: states.move_batch(session, batch, BatchState.RUNNING)
        )
    assert (await _read(services, ExportBatch, batch.id)).state == "done"


async def test_a_batch_read_before_another_session_started_it_loses(
    services: Core, clock: FakeClock
) -> None:
    batch = await _batch(services)
    stale = await _read(services, ExportBatch, batch.id)
    assert await _in_transaction(
        services, lambda session: states.move_batch(session, batch, BatchState.RUNNING)
    )
    started = clock()
    clock.advance(minutes=1)
    assert not await _in_transaction(
        services, lambda session: states.move_batch(session, stale, BatchState.EMPTY)
    )
    stored = await _read(services, ExportBatch, batch.id)
    assert (stored.state, stored.updated_at, stored.picked_up_at) == ("running", started, started)


async def test_a_batch_started_and_finished_at_once_ends_one_way(services: Core) -> None:
    batch = await _batch(services)
    first, second = await _read(services, ExportBatch, batch.id), batch
    won = await _race(
        services,
        lambda s: states.move_batch(s, first, BatchState.RUNNING),
        lambda s: states.move_batch(s, second, BatchState.DONE),
    )
    assert sorted(won) == [False, True]
    stored = await _read(services, ExportBatch, batch.id)
    assert stored.state == ("running" if won[0] else "done")


async def test_start_batches_moves_only_the_queued_ones_and_says_which(
    services: Core, clock: FakeClock
) -> None:
    queued, running, done = (
        await _batch(services),
        await _batch(services, BatchState.RUNNING),
        await _batch(services, BatchState.DONE),
    )
    clock.advance(minutes=2)
    ids = {queued.id or 0, running.id or 0, done.id or 0}
    started = await _in_transaction(services, lambda s: states.start_batches(s, ids))
    assert started == [queued.id]
    stored = {b.id: b for b in [await _read(services, ExportBatch, i) for i in sorted(ids)]}
    assert stored[queued.id].state == "running"
    assert stored[queued.id].picked_up_at == stored[queued.id].updated_at == clock()
    assert (stored[running.id].state, stored[running.id].picked_up_at) == ("running", None)
    assert stored[done.id].state == "done"
    assert await _in_transaction(services, lambda s: states.start_batches(s, ())) == []


async def test_finish_batches_ends_the_unfinished_ones_the_condition_allows(
    services: Core, clock: FakeClock
) -> None:
    running, queued, busy, empty = (
        await _batch(services, BatchState.RUNNING),
        await _batch(services),
        await _batch(services, BatchState.RUNNING),
        await _batch(services, BatchState.EMPTY),
    )
    clock.advance(minutes=4)
    ids = [b.id or 0 for b in (running, queued, busy, empty)]
    ended = await _in_transaction(
        services,
        lambda s: states.finish_batches(s, ids, unless=col(ExportBatch.id) == busy.id),
    )
    assert ended == sorted([running.id or 0, queued.id or 0])
    stored = [await _read(services, ExportBatch, i) for i in ids]
    assert [b.state for b in stored] == ["done", "done", "running", "empty"]
    assert stored[0].finished_at == stored[0].updated_at == clock()
    assert stored[2].finished_at is None


async def test_two_sessions_starting_one_batch_at_once_start_it_once(services: Core) -> None:
    batch = await _batch(services)
    won = await _race(
        services,
        lambda s: states.start_batches(s, {batch.id or 0}),
        lambda s: states.start_batches(s, {batch.id or 0}),
    )
    assert sorted(won, key=len) == [[], [batch.id]]
    assert (await _read(services, ExportBatch, batch.id)).state == "running"


async def test_two_sessions_settling_batches_crosswise_both_finish(services: Core) -> None:
    # Each picked up the other's batch: had a session locked its own batch before the recount
    # locked them all, PostgreSQL would find a deadlock and fail one of them.
    first, second = await _batch(services), await _batch(services)
    ids = [first.id or 0, second.id or 0]
    settled = await _race(
        services,
        lambda s: work.settle_batches(s, picked_up={ids[1]}),
        lambda s: work.settle_batches(s, picked_up={ids[0]}),
    )
    assert [sorted(touched) for touched in settled] in ([ids, []], [ids, ids], [[], ids])
    assert {(await _read(services, ExportBatch, i)).state for i in ids} == {"done"}


# Web Connector jobs


async def test_a_job_picked_is_sending_for_that_ticket(services: Core, clock: FakeClock) -> None:
    job = await _job(services)
    clock.advance(minutes=3)
    assert await _in_transaction(
        services, lambda s: states.move_job(s, job, JobState.SENDING, ticket="t-1")
    )
    stored = await _read(services, QbwcJob, job.id)
    assert (stored.state, stored.ticket, stored.updated_at) == ("sending", "t-1", clock())


async def test_a_done_job_cannot_go_back_to_pending(services: Core) -> None:
    job = await _job(services, JobState.DONE)
    with pytest.raises(IllegalMove, match="a job that is done cannot become pending"):
        await _in_transaction(services, lambda s: states.move_job(s, job, JobState.PENDING))
    with pytest.raises(IllegalMove, match="a job that is pending cannot become done"):
        await _in_transaction(
            services, lambda s: states.move_job(s, job, JobState.DONE, expected=JobState.PENDING)
        )
    assert (await _read(services, QbwcJob, job.id)).state == "done"


async def test_the_answer_of_a_job_already_recovered_changes_nothing(
    services: Core, clock: FakeClock
) -> None:
    job = await _job(services, JobState.SENDING)
    assert await _in_transaction(
        services,
        lambda s: states.move_job(s, job, JobState.PENDING, ticket=None),
    )
    clock.advance(minutes=1)
    late = await _in_transaction(
        services,
        lambda s: states.move_job(s, job, JobState.DONE, expected=JobState.SENDING, result="{}"),
    )
    assert late is False
    stored = await _read(services, QbwcJob, job.id)
    assert (stored.state, stored.result) == ("pending", None)
    assert stored.updated_at == clock() - timedelta(minutes=1)


async def test_two_sessions_picking_one_job_give_it_to_one(services: Core) -> None:
    job = await _job(services)
    first, second = await _read(services, QbwcJob, job.id), job
    won = await _race(
        services,
        lambda s: states.move_job(s, first, JobState.SENDING, ticket="a"),
        lambda s: states.move_job(s, second, JobState.SENDING, ticket="b"),
    )
    assert sorted(won) == [False, True]
    stored = await _read(services, QbwcJob, job.id)
    assert (stored.state, stored.ticket) == ("sending", "a" if won[0] else "b")


# Web Connector tickets


async def test_an_ended_session_shows_what_it_had_in_flight_then(
    services: Core, clock: FakeClock
) -> None:
    ticket = await _ticket(services, clock)
    stale = await _read(services, QbwcTicket, "t-1")
    async with db.session_scope(services.sessions) as session:
        current = await session.get(QbwcTicket, "t-1")
        assert current is not None
        current.in_flight = '{"kind": "accounts", "job": 1}'
    assert stale.in_flight is None
    assert await _in_transaction(
        services, lambda s: states.move_ticket(s, stale, TicketState.CLOSED)
    )
    assert (stale.state, stale.in_flight) == ("closed", '{"kind": "accounts", "job": 1}')
    assert ticket.state == "open"  # the caller's own copy is the one brought up to date


async def test_an_ended_session_cannot_end_again(services: Core, clock: FakeClock) -> None:
    ticket = await _ticket(services, clock)
    with pytest.raises(IllegalMove, match="a ticket that is open cannot become open"):
        await _in_transaction(services, lambda s: states.move_ticket(s, ticket, TicketState.OPEN))
    assert await _in_transaction(
        services, lambda s: states.move_ticket(s, ticket, TicketState.EXPIRED)
    )
    assert not await _in_transaction(
        services, lambda s: states.move_ticket(s, ticket, TicketState.CLOSED)
    )
    assert (await _read(services, QbwcTicket, "t-1")).state == "expired"


async def test_a_session_heard_from_is_not_expired_by_a_stale_sweep(
    services: Core, clock: FakeClock
) -> None:
    ticket = await _ticket(services, clock)
    cutoff = clock() + timedelta(seconds=1)  # the sweep saw it silent
    clock.advance(seconds=2)
    assert await _in_transaction(
        services,
        lambda s: states.keep_open(s, ticket, now=clock()),
    )
    assert not await _in_transaction(
        services,
        lambda s: states.move_ticket(s, ticket, TicketState.EXPIRED, silent_before=cutoff),
    )
    stored = await _read(services, QbwcTicket, "t-1")
    assert (stored.state, stored.last_seen_at) == ("open", clock())


async def test_a_session_ended_is_not_kept_open_by_a_late_answer(
    services: Core, clock: FakeClock
) -> None:
    ticket = await _ticket(services, clock)
    late = await _read(services, QbwcTicket, "t-1")
    assert await _in_transaction(
        services, lambda s: states.move_ticket(s, ticket, TicketState.EXPIRED)
    )
    clock.advance(seconds=5)
    assert not await _in_transaction(services, lambda s: states.keep_open(s, late, now=clock()))
    stored = await _read(services, QbwcTicket, "t-1")
    assert (stored.state, stored.last_seen_at) == ("expired", clock() - timedelta(seconds=5))


async def test_a_sweep_and_an_answer_at_once_leave_one_winner(
    services: Core, clock: FakeClock
) -> None:
    await _ticket(services, clock)
    clock.advance(minutes=3)
    cutoff = clock() - timedelta(minutes=2)
    sweep, answer = (
        await _read(services, QbwcTicket, "t-1"),
        await _read(services, QbwcTicket, "t-1"),
    )
    # The answer's process read the ticket as heard from in time; the sweep, by its clock, not.
    won = await _race(
        services,
        lambda s: states.move_ticket(s, sweep, TicketState.EXPIRED, silent_before=cutoff),
        lambda s: states.keep_open(s, answer, now=clock()),
    )
    assert sorted(won) == [False, True]
    stored = await _read(services, QbwcTicket, "t-1")
    assert stored.state == ("expired" if won[0] else "open")


@pytest.mark.parametrize("answer_first", [True, False])
async def test_an_answer_and_a_sweep_that_thinks_the_session_silent_leave_one_outcome(
    services: Core, clock: FakeClock, answer_first: bool
) -> None:
    """The answer applies the 100 codes sent, or the sweep recovers them: never a mix of both."""
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        await env.add_codes([(f"03-{n:03d}", f"Concrete item {n}") for n in range(250)])
        await env.assign("03-*", "Construction Income", "Job Costs:Job Materials")
        await env.export()
        answering = QbwcBackend(services)
        ticket, _ = await answering.authenticate("costcodes", "test-password")
        path = env.connector.company_file
        answer = env.quickbooks.handle(
            await answering.send_request(ticket, HCP_RESPONSE, path, "US", 13, 0)
        )
        clock.advance(seconds=110)  # alive by this process's clock, silent by the sweeper's
        ahead = FakeClock(clock() + timedelta(seconds=20))
        sweeping = QbwcBackend(
            dataclasses.replace(
                services,
                clock=ahead,
                sessions=db.make_session_factory(services.engine, clock=ahead),
            )
        )
        calls = [answering.receive_response(ticket, answer, "", ""), _sweep(sweeping)]
        done = await asyncio.gather(*(calls if answer_first else reversed(calls)))
        percent = done[0 if answer_first else 1]
        codes = Counter(code.state for code in (await env.codes()).values())
    stored = await _read(services, QbwcTicket, ticket)
    async with services.sessions() as session:
        requeued = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "requeue"))
        ).all()
    if stored.state == "open":
        assert (percent, codes, len(requeued)) == (40, {"success": 100, "queued": 150}, 0)
    else:
        assert (stored.state, percent, stored.in_flight) == ("expired", -1, None)
        assert (codes, len(requeued)) == ({"queued": 250}, 100)


async def _sweep(backend: QbwcBackend) -> int:
    await backend.expire_silent_sessions()
    return 0


async def test_heard_from_keeps_an_open_fresh_session_open_in_one_statement(
    services: Core, clock: FakeClock
) -> None:
    await _ticket(services, clock)
    since = clock()
    clock.advance(seconds=30)
    async with db.session_scope(services.sessions) as session:
        found = await states.heard_from(session, "t-1", now=clock(), since=since)
        assert found is not None and found is await session.get(QbwcTicket, "t-1")
        assert (found.state, found.last_seen_at) == ("open", clock())
        assert found not in session.dirty
    assert (await _read(services, QbwcTicket, "t-1")).last_seen_at == clock()


@pytest.mark.parametrize("why", ["silent", "ended", "unknown"])
async def test_heard_from_leaves_a_silent_ended_or_unknown_session_alone(
    services: Core, clock: FakeClock, why: str
) -> None:
    await _ticket(services, clock, TicketState.CLOSED if why == "ended" else TicketState.OPEN)
    seen = clock()
    clock.advance(minutes=5)
    since = clock() - timedelta(minutes=2) if why == "silent" else seen
    async with db.session_scope(services.sessions) as session:
        name = "t-unknown" if why == "unknown" else "t-1"
        assert await states.heard_from(session, name, now=clock(), since=since) is None
    assert (await _read(services, QbwcTicket, "t-1")).last_seen_at == seen
