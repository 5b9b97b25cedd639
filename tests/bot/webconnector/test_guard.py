"""QuickBooks as it behaves in the field, through the real /qbwc: connection trouble never fails a
code, the work waits and finishes once the fault clears, and nothing is written to another file."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import select

from bot.accounts import chart
from bot.connection import service
from bot.connection.words import ConnectionState
from bot.core import Core
from bot.sandbox.example_data import example_quickbooks
from bot.store import db
from bot.store.models import QbConnection, QbwcJob
from qbd.simulator import FAULTS, QuickBooksSimulator
from qbd.simulator.quickbooks import Fault
from tests.bot.webconnector.qbwc_env import Env, qbwc_env

INCOME = "Construction Income"
EXPENSE = "Job Costs:Job Materials"
CODES = ["03-300", "03-400", "03-500"]

EXPECTED_STATE: dict[Fault, ConnectionState] = {
    "closed": ConnectionState.QUICKBOOKS_CLOSED,
    "dialog": ConnectionState.DIALOG,
    "rights": ConnectionState.NO_RIGHTS,
    "unattended": ConnectionState.NO_RIGHTS,
    "denied": ConnectionState.NO_RIGHTS,
    "permission": ConnectionState.NO_RIGHTS,
    "mode": ConnectionState.ERROR,
}


async def _prepared(env: Env) -> None:
    await env.sync_accounts()
    await env.add_codes([(code, f"Description of {code}") for code in CODES])
    await env.assign("*", INCOME, EXPENSE)
    start = await env.export()
    assert start.queued == CODES


async def _state(env: Env) -> QbConnection:
    async with env.services.sessions() as session:
        row = await session.get(QbConnection, service.ROW_ID)
    assert row is not None
    return row


async def _states(env: Env) -> Counter[str]:
    return Counter(code.state for code in (await env.codes()).values())


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("via", ["connection_error", "hresult"])
async def test_a_fault_holds_the_export_then_it_finishes(
    services: Core, fault: Fault, via: str
) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env)
        env.connector.fault_via = via  # type: ignore[assignment]
        env.quickbooks.fault = fault
        held = await env.connector.run_update()
        assert await _states(env) == {"queued": 3}, "connection trouble never fails a code"
        row = await _state(env)
        if via == "connection_error":
            assert held.stopped == "connection_error" and held.connection_error_answer == "done"
            assert held.requests == []
        else:
            assert held.stopped == "error" and held.percents == [-1]
            assert len(held.requests) == 1 and env.quickbooks.items == []
            assert held.last_error is not None
            assert "the export goes on at the next update" in held.last_error
            assert "failed" not in held.last_error.lower()
        assert row.state == EXPECTED_STATE[fault].value
        assert row.hresult == FAULTS[fault][0]
        assert held.close_message is not None  # the session was closed, not left hanging

        again = await env.connector.run_update()  # still broken: still nothing fails
        assert await _states(env) == {"queued": 3} and again.stopped == held.stopped

        env.quickbooks.fault = None
        done = await env.connector.run_update()
        assert done.percents[-1] == 100
        assert await _states(env) == {"success": 3}
        assert (await _state(env)).state == ConnectionState.OK.value
    assert sorted(item.name for item in env.quickbooks.items) == CODES


async def test_get_last_error_says_what_is_wrong_and_how_to_fix_it(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env)
        env.connector.fault_via = "hresult"
        env.quickbooks.fault = "closed"
        report = await env.connector.run_update()
    assert report.last_error == (
        "QuickBooks is closed and could not start. Log in to Windows as the Web Connector's user "
        "and open Northwind Builders (C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\"
        "Northwind.qbw) in QuickBooks, or let the Web Connector start QuickBooks by itself "
        "(QuickBooks Admin: Edit > Preferences > Integrated Applications > Company Preferences, "
        "allow Cost Code Export to log in automatically). Nothing is lost: the cost codes stay "
        "queued and the export goes on at the next update."
    )


async def test_a_fault_during_an_account_sync_keeps_the_sync_waiting(services: Core) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        async with db.session_scope(services.sessions) as session:
            await chart.queue_sync(session, requested_by="U_ADMIN")
        env.connector.fault_via = "hresult"
        env.quickbooks.fault = "dialog"
        await env.connector.run_update()
        async with services.sessions() as session:
            jobs = (await session.exec(select(QbwcJob).order_by(QbwcJob.id))).all()
        assert [job.state for job in jobs] == ["done", "pending"]
        env.quickbooks.fault = None
        assert (await env.connector.run_update()).percents[-1] == 100
        async with services.sessions() as session:
            jobs = (await session.exec(select(QbwcJob).order_by(QbwcJob.id))).all()
    assert [job.state for job in jobs] == ["done", "done"]


async def test_a_lost_answer_reported_by_connection_error_fails_nothing(
    services: Core,
) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env)
        env.connector.lose_next_response = True
        lost = await env.connector.run_update()
        assert lost.connection_error_answer == "done"
        assert await _states(env) == {"queued": 3}
        assert (await _state(env)).state == ConnectionState.ERROR.value
        assert (await env.connector.run_update()).percents[-1] == 100
        assert await _states(env) == {"success": 3}
        assert (await _state(env)).state == ConnectionState.OK.value
    assert Counter(item.name for item in env.quickbooks.items) == dict.fromkeys(CODES, 1)


def _other_file() -> QuickBooksSimulator:
    other = example_quickbooks()
    other.company_file = r"C:\Users\Public\Documents\Intuit\QuickBooks\Sample Co.qbw"
    other.company_name = "Sample Construction Co"
    return other


async def test_another_company_file_gets_no_write(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env)
        right = env.quickbooks
        wrong = _other_file()
        env.connector.quickbooks = wrong
        report = await env.connector.run_update()
        assert report.stopped == "no_request" and report.requests == []
        assert wrong.messages == [] and wrong.items == []
        assert await _states(env) == {"queued": 3}
        row = await _state(env)
        assert row.state == ConnectionState.WRONG_FILE.value
        assert report.last_error is not None
        assert "QuickBooks has Sample Construction Co (C:\\" in report.last_error
        assert "but the cost codes belong to Northwind Builders (C:\\" in report.last_error
        assert "failed" not in report.last_error.lower()

        env.connector.quickbooks = right  # someone opens the right file
        done = await env.connector.run_update()
        assert done.percents[-1] == 100 and await _states(env) == {"success": 3}
        assert (await _state(env)).state == ConnectionState.OK.value
    assert wrong.items == []


async def test_the_same_file_under_another_path_spelling_is_the_same_file(
    services: Core,
) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env)
        env.quickbooks.company_file = env.quickbooks.company_file.upper().replace("\\", "/")
        assert (await env.connector.run_update()).percents[-1] == 100
    assert sorted(item.name for item in env.quickbooks.items) == CODES


async def test_a_plain_account_sync_from_another_file_does_not_rebind(services: Core) -> None:
    async with qbwc_env(services) as env:
        await env.sync_accounts()
        wrong = _other_file()
        env.connector.quickbooks = wrong
        async with db.session_scope(services.sessions) as session:
            await chart.queue_sync(session, requested_by="U_ADMIN")
        report = await env.connector.run_update()
        row = await _state(env)
    assert report.requests == [] and wrong.messages == []
    assert row.bound_company == "Northwind Builders" and row.state == "wrong_company_file"
