"""Write-back: each Success sends its ListID to Procore once, batched, retried, never lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert
from sqlmodel import select

from bot.core import Core
from bot.costcodes.domain import State
from bot.procore import outbox
from bot.procore.link import PROCORE, ProcoreLink
from bot.store import db
from bot.store.models import CostCode, ProcoreWriteBack, utcnow
from tests.bot.procore.conftest import Sleeps
from tests.bot.webconnector.qbwc_env import qbwc_env
from tests.conftest import FakeClock
from tests.fakes.procore_api import FakeProcore


@pytest.fixture
async def link(linked: Core, sleeps: Sleeps) -> AsyncIterator[ProcoreLink]:
    built = ProcoreLink(linked, sleep=sleeps)
    yield built
    await built.close()


async def exported(services: Core, procore: FakeProcore, count: int) -> dict[int, str]:
    """`count` Procore codes already at Success, each with its outbox row: procore id -> ListID."""
    ids = [procore.add_code(f"20-{n:04d}", f"Item {n}") for n in range(count)]
    now = utcnow()
    rows = [
        {
            "code": f"20-{n:04d}",
            "description": f"Item {n}",
            "source": "procore",
            "procore_id": code_id,
            "state": State.SUCCESS.value,
            "qb_list_id": f"8000{n:04X}-1700000000",
            "needs_lookup": False,
            "attempts": 0,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for n, code_id in enumerate(ids)
    ]
    async with db.session_scope(services.sessions) as session:
        conn = await session.connection()
        await conn.execute(insert(CostCode.__table__), rows)  # type: ignore[attr-defined]
        codes = (await session.exec(select(CostCode))).all()
        await outbox.enqueue(session, [(c.id or 0, c.procore_id, c.qb_list_id) for c in codes])
    return {row["procore_id"]: str(row["qb_list_id"]) for row in rows}  # type: ignore[misc]


async def outbox_rows(services: Core) -> list[ProcoreWriteBack]:
    async with services.sessions() as session:
        return list((await session.exec(select(ProcoreWriteBack))).all())


async def test_each_listid_goes_back_once(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    expected = await exported(linked, procore, 3)
    assert await link.outbox.flush() == 3
    assert sorted(procore.written()) == sorted(expected.items())
    assert all(procore.codes[i]["origin_id"] == list_id for i, list_id in expected.items())
    assert await link.outbox.flush() == 0
    assert len(procore.sync_calls) == 1
    assert {row.state for row in await outbox_rows(linked)} == {"done"}


async def test_a_second_success_hook_adds_no_second_row(procore: FakeProcore, linked: Core) -> None:
    await exported(linked, procore, 1)
    async with db.session_scope(linked.sessions) as session:
        code = (await session.exec(select(CostCode))).one()
        await outbox.enqueue(session, [(code.id or 0, code.procore_id, code.qb_list_id)])
    assert len(await outbox_rows(linked)) == 1


async def test_an_imported_code_has_nothing_to_write_back(linked: Core) -> None:
    async with db.session_scope(linked.sessions) as session:
        code = CostCode(code="01-100", description="x", state="success", qb_list_id="80-1")
        session.add(code)
        await session.flush()
        await outbox.enqueue(session, [(code.id or 0, code.procore_id, code.qb_list_id)])
    assert await outbox_rows(linked) == []


async def test_batches_hold_at_most_1000(
    link: ProcoreLink, procore: FakeProcore, linked: Core
) -> None:
    expected = await exported(linked, procore, 1005)
    assert await link.outbox.flush() == 1005
    assert [len(call) for call in procore.sync_calls] == [1000, 5]
    assert Counter(code_id for code_id, _ in procore.written()) == Counter(list(expected))


async def test_per_item_errors_are_retried_with_backoff(
    link: ProcoreLink, procore: FakeProcore, linked: Core, clock: FakeClock
) -> None:
    expected = await exported(linked, procore, 3)
    stubborn = next(iter(expected))
    procore.sync_errors[stubborn] = 2
    assert await link.outbox.flush() == 2
    waiting = [row for row in await outbox_rows(linked) if row.state != "done"]
    assert [(row.procore_id, row.attempts) for row in waiting] == [(stubborn, 1)]
    assert "could not be saved" in str(waiting[0].last_error)
    assert "write-back" in str((await link.health()).last_error)
    assert await link.outbox.flush() == 0  # not due yet
    assert len(procore.sync_calls) == 1
    clock.advance(seconds=31)
    assert await link.outbox.flush() == 0  # refused a second time
    clock.advance(seconds=61)
    assert await link.outbox.flush() == 1
    assert Counter(code_id for code_id, _ in procore.written()) == Counter(list(expected))
    assert (await link.health()).writebacks_waiting == 0


async def test_429_503_and_5xx_are_retried(
    link: ProcoreLink, procore: FakeProcore, linked: Core, sleeps: Sleeps, clock: FakeClock
) -> None:
    expected = await exported(linked, procore, 2)
    procore.fail_next(429, headers={"Retry-After": "2"}, path="sync")
    procore.fail_next(503, headers={"Retry-After": "1"}, path="sync")
    assert await link.outbox.flush() == 2  # the client waited and tried again
    assert len(sleeps.waits) == 2
    assert sorted(procore.written()) == sorted(expected.items())


async def test_procore_down_puts_the_batch_back_for_later(
    link: ProcoreLink, procore: FakeProcore, linked: Core, clock: FakeClock
) -> None:
    expected = await exported(linked, procore, 2)
    procore.fail_next(500, times=5, path="sync", body={"message": "Internal Server Error"})
    assert await link.outbox.flush() == 0
    rows = await outbox_rows(linked)
    assert {(row.state, row.attempts) for row in rows} == {("pending", 1)}
    assert "Procore is unavailable" in str(rows[0].last_error)
    clock.advance(minutes=1)
    assert await link.outbox.flush() == 2
    assert sorted(procore.written()) == sorted(expected.items())


async def test_a_claim_left_by_a_dead_process_expires(
    link: ProcoreLink, procore: FakeProcore, linked: Core, clock: FakeClock
) -> None:
    await exported(linked, procore, 1)
    async with db.session_scope(linked.sessions) as session:
        assert len(await outbox.claim(session, clock())) == 1  # then the process died
    assert await link.outbox.flush() == 0
    clock.advance(minutes=11)
    assert await link.outbox.flush() == 1


async def test_two_workers_at_once_write_each_code_once(
    linked: Core, procore: FakeProcore, sleeps: Sleeps, database_url: str
) -> None:
    expected = await exported(linked, procore, 40)
    engine = db.make_engine(database_url)
    other = Core(
        linked.settings,
        engine,
        db.make_session_factory(engine, clock=linked.clock),
        clock=linked.clock,
    )
    first, second = ProcoreLink(linked, sleep=sleeps), ProcoreLink(other, sleep=sleeps)
    try:
        for worker in (first.outbox, second.outbox):
            worker.batch = 7  # small batches, so the two really interleave
        done = await asyncio.gather(first.outbox.flush(), second.outbox.flush())
    finally:
        await first.close()
        await second.close()
        await engine.dispose()
    assert sum(done) == 40
    assert Counter(code_id for code_id, _ in procore.written()) == Counter(list(expected))
    assert set(Counter(code_id for code_id, _ in procore.written()).values()) == {1}


async def test_a_code_adopted_after_a_lost_answer_is_written_back(
    linked: Core, procore: FakeProcore, sleeps: Sleeps
) -> None:
    division = procore.add_code("04", "Masonry")
    ids = {procore.add_code(f"04-{n:03d}", f"Masonry item {n}", division): n for n in range(3)}
    async with qbwc_env(linked) as env:
        link = env.server.app[PROCORE]
        link.client.sleep = sleeps
        await link.idle()  # the start-up reconcile brought the codes in
        await env.sync_accounts()
        await env.assign("04-*", "Construction Income")
        assert len((await env.export()).queued) == 3
        env.connector.lose_next_response = True
        await env.connector.run_update()
        assert (await env.connector.run_update()).percents[-1] == 100
        codes = await env.codes()
        assert {codes[f"04-{n:03d}"].state for n in range(3)} == {"success"}
        await link.tick()
    written = dict(procore.written())
    assert sorted(written) == sorted(ids)
    assert all(written[i] == codes[f"04-{n:03d}"].qb_list_id for i, n in ids.items())
    assert len(procore.written()) == 3
