"""One clock: with a fake clock far from now, every time the bot stamps is the fake clock's.

A time taken from the real clock instead would be years off here, so each check below fails.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.core import Core
from bot.costcodes import intake
from bot.costcodes.domain import Surface
from bot.slack import refresher
from bot.store import db
from bot.store.models import (
    AuditEvent,
    CostCode,
    ExportBatch,
    GLAccount,
    PostedMessage,
    QbwcJob,
    QbwcTicket,
)
from tests.bot.webconnector.qbwc_env import qbwc_env
from tests.conftest import FakeClock

FAR = datetime(2031, 7, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(FAR)


async def _audit_times(services: Core, action: str) -> set[datetime]:
    async with services.sessions() as session:
        events = await session.exec(select(AuditEvent.at).where(AuditEvent.action == action))
        return set(events.all())


async def _codes(services: Core) -> list[CostCode]:
    async with services.sessions() as session:
        return list((await session.exec(select(CostCode).order_by(col(CostCode.code)))).all())


async def test_an_import_and_an_update_stamp_codes_and_audit_by_the_clock(
    services: Core, clock: FakeClock
) -> None:
    rows = [intake.Row(2, "03-300", "Concrete", None), intake.Row(3, "03-310", "Forms", None)]
    await intake.import_in_transaction(
        services.sessions, rows, [], actor="cli:test", surface=Surface.CLI, name="a.csv"
    )
    assert {(c.created_at, c.updated_at) for c in await _codes(services)} == {(FAR, FAR)}
    assert await _audit_times(services, "import") == {FAR}

    clock.advance(days=1)
    changed = [intake.Row(2, "03-300", "Cast-in-place concrete", None)]
    await intake.import_in_transaction(
        services.sessions, changed, [], actor="cli:test", surface=Surface.CLI, name="b.csv"
    )
    first, second = await _codes(services)
    assert (first.created_at, first.updated_at, second.updated_at) == (FAR, clock(), FAR)
    assert await _audit_times(services, "update") == {clock()}


async def test_an_export_through_the_web_connector_is_stamped_by_the_clock(
    services: Core, clock: FakeClock
) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        synced = clock()
        await env.add_codes([(f"03-{n:03d}", f"Concrete item {n}") for n in range(3)])
        await env.assign("03-*", "Construction Income", "Job Costs:Job Materials")
        clock.advance(hours=1)
        queued = clock()
        start = await env.export()
        assert start.batch is not None
        clock.advance(hours=1)
        report = await env.connector.run_update()
        assert report.percents[-1] == 100
    sent = clock()
    async with services.sessions() as session:
        batch = await session.get(ExportBatch, start.batch.id)
        job = (await session.exec(select(QbwcJob))).one()
        tickets = (await session.exec(select(QbwcTicket))).all()
        accounts = (await session.exec(select(GLAccount))).all()
    assert batch is not None and batch.state == "done"
    assert (batch.created_at, batch.picked_up_at, batch.finished_at, batch.updated_at) == (
        queued,
        sent,
        sent,
        sent,
    )
    assert (job.state, job.created_at, job.updated_at) == ("done", synced, synced)
    assert {(t.created_at, t.last_seen_at) for t in tickets} == {(synced, synced), (sent, sent)}
    assert {(a.created_at, a.updated_at, a.last_synced) for a in accounts} == {(synced,) * 3}
    codes = await _codes(services)
    assert {(c.state, c.updated_at) for c in codes} == {("success", sent)}
    assert await _audit_times(services, "export") == {queued}
    assert await _audit_times(services, "succeed") == {sent}


async def test_a_refresher_mark_is_stamped_by_the_clock(services: Core) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    async with db.session_scope(services.sessions) as session:
        row = PostedMessage(channel="C1", ts="1.1", kind="list", updated_at=long_ago)
        session.add(row)
    async with db.session_scope(services.sessions) as session:
        await refresher.mark_dirty(session, col(PostedMessage.id) == row.id)
    async with services.sessions() as session:
        stored = await session.get(PostedMessage, row.id)
    assert stored is not None and (stored.dirty, stored.updated_at) == (True, FAR)


async def test_sessions_of_a_factory_without_a_clock_read_the_real_one(
    services: Core,
) -> None:
    before = datetime.now(UTC)
    async with db.make_session_factory(services.engine)() as session:
        now = db.now(session)
    async with services.sessions() as session:
        fake = db.now(session)
    assert before <= now <= datetime.now(UTC) and fake == FAR
