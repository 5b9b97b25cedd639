from __future__ import annotations

import dataclasses

from bot.core import Core
from bot.webconnector.backend import QbwcBackend
from qbd.simulator import HCP_RESPONSE
from tests.bot.webconnector.qbwc_env import Env, qbwc_env

INCOME = "Construction Income"
EXPENSE = "Job Costs:Job Materials"


async def _prepared(env: Env, *codes: str) -> None:
    await env.sync_accounts()
    await env.add_codes([(code, f"Description of {code}") for code in codes])
    await env.assign("*", INCOME, EXPENSE)
    await env.export()


def _list_id(env: Env, full_name: str) -> str:
    return next(a.list_id for a in env.quickbooks.accounts if a.full_name == full_name)


async def test_3100_adopts_a_matching_service_item(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env, "03-300")
        existing = env.quickbooks.add_item(
            "03-300",
            income_account_list_id=_list_id(env, INCOME),
            expense_account_list_id=_list_id(env, EXPENSE),
        )
        report = await env.connector.run_update()
        code = (await env.codes())["03-300"]
    assert report.percents[-1] == 100
    assert (code.state, code.qb_list_id) == ("success", existing.list_id)
    assert len(env.quickbooks.items) == 1


async def test_3100_against_another_item_type_is_a_conflict(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env, "03-300", "03-400")
        env.quickbooks.add_item("03-300", "ItemInventory")
        await env.connector.run_update()
        codes = await env.codes()
    assert codes["03-400"].state == "success"
    assert codes["03-300"].state == "failed"
    assert codes["03-300"].last_error == (
        'QuickBooks already has an item named "03-300" of type Inventory Part; rename that item '
        "in QuickBooks (item names are shared by every item type), then Retry"
    )
    assert [i.item_type for i in env.quickbooks.items if i.name == "03-300"] == ["ItemInventory"]


async def test_3100_against_a_service_with_other_accounts_is_a_conflict(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env, "03-300")
        env.quickbooks.add_item(
            "03-300", income_account_list_id=_list_id(env, "Construction Income:Contract Revenue")
        )
        await env.connector.run_update()
        code = (await env.codes())["03-300"]
    assert code.state == "failed"
    assert "already has a Service item" in (code.last_error or "")


async def test_3140_names_the_vanished_account(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env, "03-300")
        env.quickbooks.accounts = [a for a in env.quickbooks.accounts if a.full_name != EXPENSE]
        await env.connector.run_update()
        code = (await env.codes())["03-300"]
    assert code.state == "failed"
    assert (
        code.last_error is not None
        and "no longer exists in QuickBooks — pick another" in code.last_error
    )
    assert env.quickbooks.items == []


async def test_busy_record_is_retried_then_succeeds(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env, "03-300")
        env.quickbooks.fail_next("03-300", 3175, "The record is in use by another user.")
        report = await env.connector.run_update()
        code = (await env.codes())["03-300"]
    assert report.round_trips == 2 and report.percents[-1] == 100
    assert code.state == "success" and len(env.quickbooks.items) == 1


async def test_parse_error_hresult_fails_the_batch_retryably(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _prepared(env, "03-300", "03-400")
        backend = QbwcBackend(services)
        ticket, _ = await backend.authenticate("costcodes", "test-password")
        await backend.send_request(ticket, HCP_RESPONSE, env.connector.company_file, "US", 13, 0)
        message = "QuickBooks found an error when parsing the provided XML text stream."
        assert await backend.receive_response(ticket, "", "0x80040400", message) == -1
        last_error = await backend.get_last_error(ticket)
        codes = await env.codes()
    assert "0x80040400" in last_error and "parsing" in last_error
    assert {c.state for c in codes.values()} == {"failed"}
    assert "nothing was changed in QuickBooks. Press Retry" in (codes["03-300"].last_error or "")
    assert not codes["03-300"].needs_lookup


async def test_credentials_and_unknown_tickets(services: Core) -> None:
    backend = QbwcBackend(services)
    assert (await backend.authenticate("costcodes", "wrong"))[1] == "nvu"
    assert (await backend.authenticate("someone", "test-password"))[1] == "nvu"
    assert (await backend.authenticate("costcodes", "test-password"))[1] == "none"
    assert await backend.send_request("no-such-ticket", "", "", "US", 13, 0) == ""
    assert await backend.receive_response("no-such-ticket", "<x/>", "", "") == -1
    assert "unknown or has expired" in await backend.get_last_error("no-such-ticket")
    assert await backend.close_connection("no-such-ticket") == "Session unknown or already closed."


async def test_no_password_configured_refuses_everyone(services: Core) -> None:
    services = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"qbwc_password": None})
    )
    assert (await QbwcBackend(services).authenticate("costcodes", ""))[1] == "nvu"
