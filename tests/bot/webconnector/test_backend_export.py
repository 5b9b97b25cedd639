from __future__ import annotations

from collections import Counter

from sqlalchemy import update
from sqlmodel import col, select

from bot.core import Core
from bot.store import db
from bot.store.models import CostCode, ExportBatch, GLAccount, ProcoreWriteBack
from tests.bot.webconnector.qbwc_env import call, open_session, qbwc_env, send
from tests.conftest import FakeClock
from tests.statements import statements_sent


async def test_account_sync_stores_the_chart(services: Core) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        async with services.sessions() as session:
            stored = (await session.exec(select(GLAccount))).all()
    assert len(stored) == len(env.quickbooks.accounts) == 50
    by_list_id = {a.list_id: a for a in stored}
    for account in env.quickbooks.accounts:
        assert by_list_id[account.list_id].full_name == account.full_name


async def test_one_update_exports_1000_codes_in_at_most_20_round_trips(services: Core) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        await env.add_codes([(f"{n // 100:02d}-{n % 100:03d}", f"Item {n} é") for n in range(1000)])
        await env.assign("0[0-4]-*", "Construction Income:Contract Revenue")
        await env.assign("0[5-9]-*", "Construction Income", "Job Costs:Subcontractors")
        start = await env.export()
        assert start.batch is not None and len(start.queued) == 1000
        report = await env.connector.run_update()
        assert report.round_trips <= 20, report.round_trips
        assert report.percents[-1] == 100 and all(0 <= p <= 100 for p in report.percents)
        codes = await env.codes()
    assert Counter(code.state for code in codes.values()) == {"success": 1000}
    names = Counter(item.name for item in env.quickbooks.items)
    assert len(names) == 1000 and set(names.values()) == {1}
    accounts = {a.full_name: a.list_id for a in env.quickbooks.accounts}
    only_income = env.quickbooks.service_items_named("03-007")[0]
    both = env.quickbooks.service_items_named("07-007")[0]
    assert only_income.income_account_list_id == accounts["Construction Income:Contract Revenue"]
    assert only_income.expense_account_list_id is None
    assert both.income_account_list_id == accounts["Construction Income"]
    assert both.expense_account_list_id == accounts["Job Costs:Subcontractors"]
    assert codes["07-007"].qb_list_id == both.list_id
    assert only_income.description == "Item 307 é"


async def _batch(services: Core) -> ExportBatch:
    async with services.sessions() as session:
        return (await session.exec(select(ExportBatch))).one()


async def test_a_send_starts_the_batch_and_counts_only_codes_held_back(
    services: Core, clock: FakeClock
) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        await env.add_codes([("03-300", "Concrete"), ("03-400", "Steel")])
        await env.assign("*", "Construction Income")
        await env.export()
        queued = await _batch(services)
        assert (queued.state, queued.picked_up_at) == ("queued", None)
        async with db.session_scope(services.sessions) as session:
            # 03-300 is held back at the send: its description is one QuickBooks cannot store.
            await session.exec(
                update(CostCode).where(col(CostCode.code) == "03-300").values(description="—")
            )
        clock.advance(minutes=1)
        ticket = await open_session(env)
        request = await send(env, ticket)
        sent = await _batch(services)
        codes = await env.codes()
    assert "03-400" in request and "03-300" not in request
    assert (sent.state, sent.picked_up_at) == ("running", clock())
    assert (sent.succeeded, sent.failed) == (0, 1)  # the held-back code, counted at the send
    assert (codes["03-300"].state, codes["03-400"].state) == ("failed", "exporting")


async def test_a_plain_send_starts_the_batch_once(services: Core, clock: FakeClock) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        await env.add_codes([(f"03-{n:03d}", "Concrete") for n in range(150)])
        await env.assign("*", "Construction Income")
        await env.export()
        ticket = await open_session(env)
        request = await send(env, ticket)
        started = clock()
        clock.advance(minutes=1)
        percent = await call(
            env, "receiveResponseXML", ticket, env.quickbooks.handle(request), "", ""
        )
        await send(env, ticket)  # the second hundred: the batch is running already
        batch = await _batch(services)
    assert percent == 66
    assert (batch.state, batch.picked_up_at) == ("running", started)
    assert (batch.succeeded, batch.failed) == (100, 0)


async def test_an_answers_procore_codes_queue_their_write_backs_in_one_statement(
    services: Core,
) -> None:
    """Codes born in Procore send their ListIDs back; the rows that queue it are written once
    per answer, not once per code (150 codes: two answers, two inserts)."""
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        await env.add_codes([(f"07-{n:03d}", f"Item {n}") for n in range(150)])
        await env.add_codes([("08-000", "Imported from a file")])
        async with db.session_scope(services.sessions) as session:
            await session.exec(
                update(CostCode)
                .where(col(CostCode.code).startswith("07-"))
                .values(procore_id=col(CostCode.id) + 5000, source="procore")
            )
        await env.assign("*", "Construction Income")
        await env.export()
        with statements_sent(services.engine.sync_engine) as sent:
            report = await env.connector.run_update()
        codes = await env.codes()
        async with services.sessions() as session:
            queued = (await session.exec(select(ProcoreWriteBack))).all()
    assert report.percents[-1] == 100
    inserts = [s for s in sent if s.lstrip().startswith("INSERT INTO procore_write_back")]
    assert len(inserts) == 2, inserts
    assert sorted((w.procore_id, w.origin_id) for w in queued) == sorted(
        (c.procore_id, c.qb_list_id) for c in codes.values() if c.code.startswith("07-")
    )
    assert len(queued) == 150 and all(w.origin_id for w in queued)
