from __future__ import annotations

from collections import Counter

from sqlmodel import select

from bot.core import Core
from bot.store.models import GLAccount
from tests.bot.webconnector.qbwc_env import qbwc_env


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
