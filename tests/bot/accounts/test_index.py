from __future__ import annotations

import asyncio
from typing import Any

from bot.accounts import chart as accounts
from bot.accounts.chart import Purpose
from bot.accounts.index import AccountIndex
from bot.core import Core
from bot.sandbox.example_data import example_accounts
from bot.store import db
from qbd.qbxml.types import AccountInfo
from tests.waiting import eventually_awaited

ZEBRA = AccountInfo("Z1", "Zebra Income", "Zebra Income", "4999", "Income", True)


async def _seed(services: Core, extra: list[AccountInfo] | None = None) -> None:
    chart = example_accounts() + (extra or [])
    async with db.session_scope(services.sessions) as session:
        await accounts.apply_chart(session, chart)


class CountingSessions:
    """The session factory, counting how many sessions the index opens."""

    def __init__(self, sessions: db.SessionFactory) -> None:
        self.sessions = sessions
        self.opened = 0
        self.broken = False

    def __call__(self) -> Any:
        self.opened += 1
        if self.broken:
            raise OSError("database went away")
        return self.sessions()


async def _names(index: AccountIndex, query: str) -> list[str]:
    return [a.full_name for a in await index.search(query=query, purpose=Purpose.INCOME)]


async def test_index_matches_the_sql_search(services: Core) -> None:
    await _seed(services)
    index = AccountIndex(services.sessions)
    for purpose in Purpose:
        for query in ("", "in", "JOB", "50", "costs:sub", "nothing-like-this"):
            found = await index.search(query=query, purpose=purpose)
            async with services.sessions() as session:
                expected = await accounts.search_accounts(session, query=query, purpose=purpose)
            assert found == expected, (purpose, query)
    # The index folds runs of spaces, which SQL LIKE does not.
    spaced = await index.search(query="  job   costs ", purpose=Purpose.EXPENSE)
    assert spaced == await index.search(query="job costs", purpose=Purpose.EXPENSE)
    await index.close()


async def test_preferred_types_come_first_and_the_cap_holds(services: Core) -> None:
    many = [
        AccountInfo(f"X{n}", f"Bulk {n:03d}", f"Bulk {n:03d}", str(9000 + n), "Expense", True)
        for n in range(150)
    ]
    await _seed(services, many)
    index = AccountIndex(services.sessions)
    income = await index.search(query="", purpose=Purpose.INCOME)
    expense = await index.search(query="bulk", purpose=Purpose.EXPENSE)
    assert len(income) == 100
    assert {a.account_type for a in income[:12]} == {"Income", "OtherIncome"}
    assert income[12].account_type not in ("Income", "OtherIncome")
    assert income[0].full_name == "Construction Income"
    assert len(expense) == 100 and expense[0].full_name == "Bulk 000"
    await index.close()


async def test_a_loaded_index_answers_without_the_database(services: Core) -> None:
    await _seed(services)
    counting = CountingSessions(services.sessions)
    index = AccountIndex(counting, check_every=3600)  # type: ignore[arg-type]
    assert (await _names(index, "construction income"))[0] == "Construction Income"
    assert counting.opened == 1  # the first search loads the chart
    for query in ("", "in", "job", "zebra"):
        await index.search(query=query, purpose=Purpose.EXPENSE)
    assert counting.opened == 1
    await index.close()


async def test_refresh_picks_up_a_changed_chart(services: Core) -> None:
    await _seed(services)
    index = AccountIndex(services.sessions, check_every=3600)
    assert await _names(index, "zebra") == []
    await _seed(services, [ZEBRA])
    assert await _names(index, "zebra") == []  # not checked yet: answers from what it has
    await index.refresh()
    assert await _names(index, "zebra") == ["Zebra Income"]
    await index.close()


async def test_a_search_after_the_interval_checks_in_the_background(services: Core) -> None:
    await _seed(services)
    index = AccountIndex(services.sessions, check_every=0)
    assert await _names(index, "zebra") == []
    await _seed(services, [ZEBRA])
    first = await _names(index, "zebra")  # answered at once; the check it starts runs behind
    await eventually_awaited(lambda: _names(index, "zebra"))
    assert first == []
    assert await _names(index, "zebra") == ["Zebra Income"]
    await index.close()


async def test_a_failed_check_keeps_the_loaded_chart(services: Core) -> None:
    await _seed(services)
    calls = CountingSessions(services.sessions)
    index = AccountIndex(calls, check_every=0)  # type: ignore[arg-type]
    assert (await _names(index, "construction income"))[0] == "Construction Income"
    calls.broken = True
    for _ in range(3):
        assert (await _names(index, "construction income"))[0] == "Construction Income"
        await asyncio.sleep(0.01)
    assert calls.opened >= 3  # it did try again, and kept answering meanwhile
    await index.close()
