"""POST /procore/webhook through the real server: token, storage by ulid, background processing."""

from __future__ import annotations

import dataclasses

from sqlmodel import select

from bot.core import Core
from bot.procore import webhook
from bot.server import build_web_app
from bot.store.models import ProcoreDelivery
from tests.bot.procore.conftest import Running, Sleeps, running
from tests.builders import codes, serving
from tests.conftest import FakeClock, make_settings
from tests.fakes.procore_api import CLIENT_ID, FakeProcore, settings_for


async def deliveries(services: Core) -> list[ProcoreDelivery]:
    async with services.sessions() as session:
        return list((await session.exec(select(ProcoreDelivery))).all())


async def test_a_delivery_is_stored_answered_204_and_processed(
    server: Running, procore: FakeProcore
) -> None:
    parent = procore.add_code("05", "Metals")
    await server.link.reconcile()
    new = procore.add_code("05-100", "Structural steel", parent)
    assert await server.deliver(procore.delivery("create", new)) == 204
    await server.link.idle()
    code = (await codes(server.services))["05-100"]
    assert (code.division, code.procore_id, code.state) == ("Metals", new, "ready")
    [stored] = await deliveries(server.services)
    assert stored.processed_at is not None and stored.last_error is None


async def test_a_repeated_delivery_is_a_no_op(server: Running, procore: FakeProcore) -> None:
    new = procore.add_code("06-100", "Rough carpentry")
    body = procore.delivery("create", new)
    assert await server.deliver(body) == 204
    await server.link.idle()
    fetched = len(procore.calls("GET", f"standard_cost_codes/{new}"))
    assert await server.deliver(body) == 204
    await server.link.idle()
    assert len(await deliveries(server.services)) == 1
    assert len(procore.calls("GET", f"standard_cost_codes/{new}")) == fetched


async def test_forged_deliveries_are_refused_and_nothing_is_stored(
    server: Running, procore: FakeProcore
) -> None:
    body = procore.delivery("create", procore.add_code("07-100", "Roofing"))
    assert await server.deliver(body, token="guessed") == 401
    assert await server.deliver(body, token=None) == 401
    assert await deliveries(server.services) == []


async def test_without_a_webhook_token_every_delivery_is_refused(
    linked: Core, procore: FakeProcore, sleeps: Sleeps, database_url: str
) -> None:
    settings = make_settings(database_url, **settings_for(procore, procore_webhook_token=None))
    async with running(dataclasses.replace(linked, settings=settings), sleeps) as started:
        assert await started.deliver(procore.delivery("create", 1), token="") == 401
        assert await started.deliver(procore.delivery("create", 1), token="None") == 401
    assert await deliveries(linked) == []


async def test_bad_bodies_are_refused_with_400(server: Running, procore: FakeProcore) -> None:
    good = procore.delivery("update", 1)
    assert await server.deliver(b"{not json") == 400
    assert await server.deliver([good]) == 400
    assert await server.deliver({k: v for k, v in good.items() if k != "ulid"}) == 400
    assert await server.deliver({**good, "event_type": "explode"}) == 400
    assert await server.deliver({**good, "resource_id": "abc"}) == 400
    assert await deliveries(server.services) == []


async def test_our_own_echo_is_ignored_without_asking_procore(
    server: Running, procore: FakeProcore
) -> None:
    code_id = procore.add_code("08-100", "Doors")
    assert await server.deliver(procore.delivery("update", code_id, app_id=CLIENT_ID)) == 204
    await server.link.idle()
    [stored] = await deliveries(server.services)
    assert stored.outcome is not None and "our own change" in stored.outcome
    assert procore.calls("GET", f"standard_cost_codes/{code_id}") == []


async def test_a_delete_takes_the_code_out_of_ready(server: Running, procore: FakeProcore) -> None:
    code_id = procore.add_code("10-100", "Signage")
    await server.link.reconcile()
    del procore.codes[code_id]
    assert await server.deliver(procore.delivery("delete", code_id)) == 204
    await server.link.idle()
    assert (await codes(server.services))["10-100"].state == "rejected"


async def test_a_failed_delivery_is_retried_later_not_lost(
    server: Running, procore: FakeProcore, clock: FakeClock
) -> None:
    code_id = procore.add_code("11-100", "Equipment")
    procore.fail_next(503, times=5, path=f"standard_cost_codes/{code_id}")
    assert await server.deliver(procore.delivery("create", code_id)) == 204
    await server.link.idle()
    [stored] = await deliveries(server.services)
    assert stored.processed_at is None and stored.attempts == 1
    assert "Procore is unavailable" in str(stored.last_error)
    assert "webhook delivery" in str((await server.link.health()).last_error)
    await server.link.tick()  # not due yet: backoff
    assert "11-100" not in await codes(server.services)
    clock.advance(minutes=1)
    await server.link.tick()
    assert "11-100" in await codes(server.services)
    [stored] = await deliveries(server.services)
    assert stored.processed_at is not None


async def test_a_delivery_stored_before_a_crash_is_processed_after_restart(
    linked: Core, procore: FakeProcore, sleeps: Sleeps
) -> None:
    code_id = procore.add_code("12-100", "Furnishings")
    body = procore.delivery("create", code_id)
    # Stored, then the process died before processing it.
    assert await webhook.store(linked.sessions, webhook.parse_json(body), 1, linked.clock)
    async with running(linked, sleeps):
        pass
    [stored] = await deliveries(linked)
    assert stored.processed_at is not None
    assert "12-100" in await codes(linked)


async def test_the_link_off_means_no_route_and_no_procore_key(services: Core) -> None:
    app = build_web_app(services)
    assert all(
        getattr(route.resource, "canonical", "") != webhook.PATH for route in app.router.routes()
    )
    async with serving(app) as client:
        health = await (await client.get("/healthz")).json()
        assert "procore" not in health
        assert (await client.post(webhook.PATH, data=b"{}")).status in (404, 405)


async def test_healthz_says_how_the_link_is(server: Running, procore: FakeProcore) -> None:
    health = await (await server.client.get("/healthz")).json()
    assert health["procore"]["state"] == "ok"
    assert health["procore"]["last_reconcile"] is not None
    assert health["procore"]["writebacks_waiting"] == 0


async def outcome(server: Running) -> str:
    await server.link.idle()
    rows = await deliveries(server.services)
    return str(rows[-1].outcome)


async def test_deliveries_that_are_not_ours_to_follow_are_ignored(
    server: Running, procore: FakeProcore
) -> None:
    other_list = procore.add_code("40-100", "Elsewhere", list_id=99)
    assert await server.deliver({**procore.delivery("create", 1), "company_id": 77}) == 204
    assert "another Procore company" in await outcome(server)
    assert (
        await server.deliver({**procore.delivery("create", 1), "resource_name": "Projects"}) == 204
    )
    assert "not a standard cost code" in await outcome(server)
    assert await server.deliver(procore.delivery("create", other_list)) == 204
    assert "another cost code list" in await outcome(server)
    assert await server.deliver(procore.delivery("delete", 123)) == 204
    assert "never seen" in await outcome(server)
    assert "40-100" not in await codes(server.services)


async def test_a_code_gone_by_the_time_of_its_update_counts_as_deleted(
    server: Running, procore: FakeProcore
) -> None:
    code_id = procore.add_code("41-100", "Short-lived")
    await server.link.reconcile()
    del procore.codes[code_id]
    assert await server.deliver(procore.delivery("update", code_id)) == 204
    assert (await outcome(server)).startswith("deleted")
    assert (await codes(server.services))["41-100"].state == "rejected"


async def test_a_code_that_gets_codes_under_it_becomes_a_division(
    server: Running, procore: FakeProcore
) -> None:
    parent = procore.add_code("42", "Landscaping")
    await server.link.reconcile()
    assert (await codes(server.services))["42"].state == "ready"  # a code, for now
    child = procore.add_code("42-100", "Planting", parent)
    assert await server.deliver(procore.delivery("create", child)) == 204
    await server.link.idle()
    found = await codes(server.services)
    assert found["42"].state == "rejected"
    assert (found["42-100"].division, found["42-100"].state) == ("Landscaping", "ready")
    procore.codes[parent]["name"] = "Landscape and planting"
    assert await server.deliver(procore.delivery("update", parent)) == 204
    await server.link.idle()
    assert (await codes(server.services))["42-100"].division == "Landscape and planting"
