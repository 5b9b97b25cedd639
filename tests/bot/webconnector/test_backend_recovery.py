from __future__ import annotations

from collections import Counter

from bot.core import Core
from bot.webconnector.backend import QbwcBackend
from qbd.simulator import HCP_RESPONSE
from tests.bot.webconnector.qbwc_env import Env, qbwc_env
from tests.conftest import FakeClock
from tests.statements import statements_sent

CODES = [(f"03-{n:03d}", f"Concrete item {n}") for n in range(250)]


async def _ready_export(env: Env) -> None:
    await env.sync_accounts()
    await env.add_codes(CODES)
    await env.assign("03-*", "Construction Income", "Job Costs:Job Materials")
    start = await env.export()
    assert len(start.queued) == len(CODES)


def _assert_each_code_once(env: Env) -> None:
    names = Counter(item.name for item in env.quickbooks.items)
    assert sorted(names) == sorted(code for code, _ in CODES)
    assert set(names.values()) == {1}, "a duplicate item was created"


async def test_lost_response_ends_in_success_without_duplicates(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _ready_export(env)
        env.connector.lose_next_response = True
        first = await env.connector.run_update()
        assert first.round_trips == 1 and first.connection_error_answer == "done"
        states = Counter(code.state for code in (await env.codes()).values())
        assert states == {"queued": 250}  # 100 unknown (to look up) + 150 never sent
        second = await env.connector.run_update()
        assert second.percents[-1] == 100
        codes = await env.codes()
    assert Counter(code.state for code in codes.values()) == {"success": 250}
    _assert_each_code_once(env)
    adopted = env.quickbooks.service_items_named("03-000")[0]
    assert codes["03-000"].qb_list_id == adopted.list_id


async def test_session_that_goes_silent_is_over_after_two_minutes(
    services: Core, clock: FakeClock
) -> None:
    async with qbwc_env(services) as env:
        await _ready_export(env)
        env.connector.stop_after_send = True
        await env.connector.run_update()
        clock.advance(seconds=90)
        busy = await env.connector.run_update()
        assert busy.authenticate[1] == "busy"
        clock.advance(seconds=31)
        done = await env.connector.run_update()
        assert done.authenticate[1] == "" and done.percents[-1] == 100
        codes = await env.codes()
    assert Counter(code.state for code in codes.values()) == {"success": 250}
    _assert_each_code_once(env)


async def test_another_process_answers_after_the_first_one_died(services: Core) -> None:
    async with qbwc_env(services) as env:
        await _ready_export(env)
        first, second = QbwcBackend(services), QbwcBackend(services)
        ticket, company = await first.authenticate("costcodes", "test-password")
        assert company == ""
        path = env.connector.company_file
        request = await first.send_request(ticket, HCP_RESPONSE, path, "US", 13, 0)
        answer = env.quickbooks.handle(request)
        # the first process is gone; the Web Connector's next call reaches the second one
        percent = await second.receive_response(ticket, answer, "", "")
        assert 0 < percent < 100
        while percent < 100:
            request = await second.send_request(ticket, "", path, "US", 13, 0)
            percent = await second.receive_response(ticket, env.quickbooks.handle(request), "", "")
        assert "3 item(s)" not in await second.close_connection(ticket)
        codes = await env.codes()
    assert Counter(code.state for code in codes.values()) == {"success": 250}
    _assert_each_code_once(env)


async def test_the_sweep_recovers_a_silent_session_without_a_new_login(
    services: Core, clock: FakeClock
) -> None:
    async with qbwc_env(services) as env:
        await _ready_export(env)
        env.connector.stop_after_send = True
        await env.connector.run_update()
        backend = QbwcBackend(services)
        await backend.expire_silent_sessions()
        assert Counter(c.state for c in (await env.codes()).values())["exporting"] == 100
        clock.advance(minutes=3)
        with statements_sent(services.engine.sync_engine) as sent:
            await backend.expire_silent_sessions()
        codes = await env.codes()
    assert Counter(code.state for code in codes.values()) == {"queued": 250}
    assert sum(code.needs_lookup for code in codes.values()) == 100
    assert sum(code.attempts for code in codes.values()) == 100
    # The 100 codes it had in flight are read, moved and audited together, not one by one.
    assert len(sent) <= 8, sent
