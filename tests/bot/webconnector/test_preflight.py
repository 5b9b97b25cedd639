"""Codes held back right before an item add (accounts gone or inactive, text QuickBooks cannot
store), and re-binding from the CLI only with --yes."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select

from bot.core import Core
from bot.sandbox.example_data import example_quickbooks
from bot.store import db
from bot.store.models import CostCode, GLAccount, QbwcJob
from qbd.companyfile import CompanyFile
from tests.bot.webconnector.qbwc_env import Env, qbwc_env
from tests.builders import cli

INCOME = "Construction Income"
EXPENSE = "Job Costs:Job Materials"


async def _queued(env: Env, *codes: str, expense: str | None = EXPENSE) -> None:
    await env.sync_accounts()
    await env.add_codes([(code, f"Description of {code}") for code in codes])
    await env.assign("*", INCOME, expense)
    assert (await env.export()).queued == list(codes)


def _adds(env: Env) -> list[str]:
    return [m for m in env.quickbooks.messages if "ItemServiceAddRq" in m]


async def test_an_expense_account_made_inactive_holds_the_code_without_a_round_trip(
    services: Core,
) -> None:
    async with qbwc_env(services) as env:
        await _queued(env, "03-300", "03-400")
        async with db.session_scope(services.sessions) as session:
            # The last chart read says so (a sync that found it inactive or gone).
            await session.exec(
                update(GLAccount).where(col(GLAccount.full_name) == EXPENSE).values(active=False)
            )
        report = await env.connector.run_update()
        codes = await env.codes()
    assert report.requests == [] and report.stopped == "no_request"
    assert {c.state for c in codes.values()} == {"failed"}
    assert codes["03-300"].last_error == (
        "held back: the GL Account – Expense Job Costs:Job Materials is inactive or gone in "
        "QuickBooks' chart of accounts — pick another"
    )
    assert _adds(env) == [] and env.quickbooks.items == []


async def test_an_income_account_gone_from_the_chart_holds_only_its_codes(
    services: Core,
) -> None:
    async with qbwc_env(services) as env:
        await _queued(env, "03-300", expense=None)
        await env.add_codes([("03-400", "Other")])
        await env.assign("03-400", "Construction Income:Contract Revenue")
        async with db.session_scope(services.sessions) as session:
            await session.exec(
                update(CostCode).where(col(CostCode.code) == "03-400").values(state="queued")
            )
            await session.exec(
                update(GLAccount).where(col(GLAccount.full_name) == INCOME).values(active=False)
            )
        await env.connector.run_update()
        codes = await env.codes()
    assert codes["03-300"].state == "failed"
    assert "GL Account – Income Construction Income is inactive or gone" in (
        codes["03-300"].last_error or ""
    )
    assert codes["03-400"].state == "success"
    assert [item.name for item in env.quickbooks.items] == ["03-400"]


async def test_text_quickbooks_cannot_store_is_held_back_before_export(services: Core) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        await env.add_codes([("03-300", "Concrete")])
        await env.assign("*", INCOME)
        async with db.session_scope(services.sessions) as session:
            # Reached the list another way (not through the rules of an intake).
            await session.exec(
                update(CostCode)
                .where(col(CostCode.code) == "03-300")
                .values(description="Béton — 混凝土")
            )
        start = await env.export()
        assert start.queued == []
        (held,) = start.held
        assert held.code == "03-300"
        assert 'the description contains characters QuickBooks cannot store: "—"' in held.reason
        assert "(CJK UNIFIED IDEOGRAPH-6DF7)" in held.reason
        # And if it is queued anyway, the last look before the add holds it back too.
        async with db.session_scope(services.sessions) as session:
            await session.exec(
                update(CostCode).where(col(CostCode.code) == "03-300").values(state="queued")
            )
        await env.connector.run_update()
        code = (await env.codes())["03-300"]
    assert code.state == "failed" and (code.last_error or "").startswith("held back: the desc")
    assert _adds(env) == []


async def test_the_cli_rebinds_only_with_yes(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _queued(env, "03-300")
        other = example_quickbooks()
        other.company_file, other.company_name = r"C:\Sample.qbw", "Sample Construction Co"
        env.connector.quickbooks = other
        await env.connector.run_update()  # held: another file is open

        code, out, _ = await cli(services, "accounts", "sync")
        assert code == 1
        assert out.startswith(
            "The GL accounts came from Northwind Builders (C:\\Users\\Public\\Documents\\Intuit\\"
            "QuickBooks\\Northwind.qbw), but the Web Connector last had Sample Construction Co "
            "(C:\\Sample.qbw) open.\n"
        )
        assert "Nothing was queued. Run `costcodes accounts sync --yes` to re-bind" in out
        async with services.sessions() as session:
            assert [j.state for j in (await session.exec(select(QbwcJob))).all()] == ["done"]

        code, out, _ = await cli(services, "accounts", "sync", "--yes")
        assert code == 0 and "Re-binding: the next update takes the chart" in out
        async with services.sessions() as session:
            job = (await session.exec(select(QbwcJob).where(QbwcJob.state == "pending"))).one()
        assert job.rebind_file is not None
        assert CompanyFile.decode(job.rebind_file).name == "Sample Construction Co"

        env.connector.quickbooks = env.quickbooks  # the old file again: the re-bind waits
        await env.connector.run_update()
        async with services.sessions() as session:
            job = (await session.exec(select(QbwcJob).where(QbwcJob.id == job.id))).one()
        assert job.state == "pending"
        assert (await env.codes())["03-300"].state == "success"

        env.connector.quickbooks = other
        await env.connector.run_update()
        async with services.sessions() as session:
            job = (await session.exec(select(QbwcJob).where(QbwcJob.id == job.id))).one()
        assert job.state == "done"
        code, out, _ = await cli(services, "status")
    # The CLI runs on the real clock, so the fake clock's last contact reads as a long silence.
    assert "QuickBooks: waiting for the Web Connector" in out and "wrong company" not in out


async def test_a_plain_sync_from_the_charts_own_file_drops_a_waiting_rebind(
    services: Core,
) -> None:
    async with qbwc_env(services) as env:
        await _queued(env, "03-300")
        other = example_quickbooks()
        other.company_file, other.company_name = r"C:\Sample.qbw", "Sample Construction Co"
        env.connector.quickbooks = other
        await env.connector.run_update()
        assert (await cli(services, "accounts", "sync", "--yes"))[0] == 0
        env.connector.quickbooks = env.quickbooks  # changed their mind: the old file is open
        await env.connector.run_update()
        code, out, _ = await cli(services, "accounts", "sync")
        assert code == 0 and "already waiting" in out
        async with services.sessions() as session:
            job = (await session.exec(select(QbwcJob).where(QbwcJob.state == "pending"))).one()
        assert job.rebind_file is None
        await env.connector.run_update()
        async with services.sessions() as session:
            job = (await session.exec(select(QbwcJob).where(QbwcJob.id == job.id))).one()
    assert job.state == "done"
