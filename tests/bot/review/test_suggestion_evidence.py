"""The suggestion evidence kept between renders is what a fresh read gives, after any change."""

from __future__ import annotations

from sqlmodel import select

from bot.accounts import chart
from bot.accounts.chart import Purpose
from bot.core import Core
from bot.costcodes import intake, statemachine
from bot.costcodes.domain import Surface
from bot.review import suggestions
from bot.store import db
from bot.store.models import CostCode, GLAccount
from qbd.qbxml.types import AccountInfo


def account(n: int, account_type: str) -> AccountInfo:
    return AccountInfo(
        list_id=f"{n:04d}-EVIDENCE",
        full_name=f"Account {n}",
        name=f"Rental {n}",
        number=str(4000 + n),
        account_type=account_type,
        active=True,
    )


async def picked_income(services: Core) -> list[int]:
    async with db.session_scope(services.sessions) as session:
        evidence, _ = await suggestions.load_evidence(session)
    return [pick.account_id for pick in evidence[Purpose.INCOME].picked]


async def test_a_pick_and_a_chart_sync_show_in_the_next_evidence(services: Core) -> None:
    rows = [intake.Row(n, f"01-{n:03d}", f"Crane rental {n}", None) for n in range(3)]
    async with db.session_scope(services.sessions) as session:
        await chart.apply_chart(session, [account(1, "Income"), account(2, "Expense")])
        await intake.apply_rows(session, rows, actor="t", surface=Surface.CLI, source="t")
    async with db.session_scope(services.sessions) as session:
        first = await suggestions.load_evidence(session)
        assert await suggestions.load_evidence(session) is first  # nothing changed: kept
        assert first[0][Purpose.INCOME].picked == ()
        income = (await session.exec(select(GLAccount).where(GLAccount.name == "Rental 1"))).one()
        code = (await session.exec(select(CostCode).where(CostCode.code == "01-001"))).one()
        await statemachine.edit(
            session,
            code=code,
            changes={"income_account_id": income.id},
            actor="t",
            surface=Surface.SLACK,
            action="pick income",
        )
    assert await picked_income(services) == [income.id]

    async with db.session_scope(services.sessions) as session:
        await chart.apply_chart(session, [account(1, "Income"), account(3, "OtherIncome")])
        _, views = await suggestions.load_evidence(session)
        names = {view.full_name for view in views.values()}
    assert names == {"Account 1", "Account 3"}  # 2 went inactive, 3 is new
    assert await picked_income(services) == [income.id]


async def test_a_sync_under_way_changes_the_evidence_only_when_it_is_finished(
    services: Core,
) -> None:
    """A sync writes its rows in chunks, then bumps the chart's version: the 4,000 accounts are
    read again once, at the bump, not after every chunk (issue 17: each read held the loop)."""
    async with db.session_scope(services.sessions) as session:
        await chart.apply_chart(session, [account(1, "Income")])
    async with db.session_scope(services.sessions) as session:
        first = await suggestions.load_evidence(session)
    async with db.session_scope(services.sessions) as session:
        plan = await chart.plan_chart(
            session, [account(1, "Income"), account(2, "Income")], now=db.now(session)
        )
    await chart.write_rows(services.sessions, plan)  # a chunk is stored, the sync not finished
    async with db.session_scope(services.sessions) as session:
        assert await suggestions.load_evidence(session) is first
        await chart.finish_chart(session, plan)
    async with db.session_scope(services.sessions) as session:
        _, views = await suggestions.load_evidence(session)
    assert {view.full_name for view in views.values()} == {"Account 1", "Account 2"}
