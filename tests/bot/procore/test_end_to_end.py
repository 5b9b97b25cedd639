"""Procore to Slack to QuickBooks and back, through the real app: signed Slack requests, the Web
Connector simulator, and the fake Procore over HTTP."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from bot.core import Core
from bot.procore.link import PROCORE, ProcoreLink
from bot.sandbox.example_data import example_quickbooks
from bot.store import db
from bot.store.models import AuditEvent, CostCode
from tests.bot.procore.conftest import TOKEN, Sleeps, running
from tests.fakes.procore_api import CLIENT_ID, FakeProcore, settings_for
from tests.handlers.conftest import MakeDriver
from tests.handlers.slack_driver import SlackDriver, texts
from tests.handlers.test_export import INCOME, connector, pick


def general_conditions(procore: FakeProcore) -> tuple[int, int]:
    division = procore.add_code("00", "General Conditions")
    return (
        procore.add_code("00-100", "Mobilization", division),
        procore.add_code("00-200", "Permits and fees", division),
    )


async def started(
    make_driver: MakeDriver, procore: FakeProcore, sleeps: Sleeps
) -> tuple[SlackDriver, ProcoreLink]:
    slack = await make_driver(**settings_for(procore))
    link = slack.client.app[PROCORE]
    link.client.sleep = sleeps
    await link.idle()  # the start-up reconcile
    return slack, link


async def export_both(slack: SlackDriver) -> dict[str, CostCode]:
    """Codes from Procore are in the list; pick their Income account, Export, one update."""
    await slack.command()
    listing = slack.posted()[0]
    assert "*00-100*" in texts(listing) and "Mobilization" in texts(listing)
    assert "Permits and fees" in texts(listing)
    await pick(slack, "00-100", INCOME)
    await pick(slack, "00-200", INCOME)
    await slack.click(slack.posted()[0], "export-codes")
    report = await connector(slack, example_quickbooks()).run_update()
    assert report.percents[-1] == 100
    async with slack.services.sessions() as session:
        rows = (await session.exec(select(CostCode).where(CostCode.source == "procore"))).all()
    found = {row.code: row for row in rows}
    assert {row.state for row in found.values()} == {"success"}
    return found


async def audit_count(services: Core) -> int:
    async with services.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(AuditEvent))).one())


async def test_codes_from_procore_are_exported_and_their_listids_go_back_once(
    make_driver: MakeDriver, procore: FakeProcore, sleeps: Sleeps
) -> None:
    first, second = general_conditions(procore)
    slack, link = await started(make_driver, procore, sleeps)
    found = await export_both(slack)
    await link.tick()
    await link.tick()
    assert sorted(procore.written()) == sorted(
        [(first, found["00-100"].qb_list_id), (second, found["00-200"].qb_list_id)]
    )
    assert len(procore.written()) == 2
    # Procore announces our own write-back: as our echo, and (say) relayed by another app.
    before = await audit_count(slack.services)
    for app_id in (CLIENT_ID, "another-app"):
        delivery = procore.delivery("update", first, app_id=app_id)
        response = await slack.client.post(
            "/procore/webhook", json=delivery, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status == 204
    await link.idle()
    assert await audit_count(slack.services) == before
    assert len(procore.written()) == 2
    await slack.command("status")
    assert "Procore link is healthy" in texts(slack.fake.responses[-1])
    assert "write-backs waiting: 0" in texts(slack.fake.responses[-1])


async def test_a_restart_between_success_and_write_back_loses_nothing(
    make_driver: MakeDriver, procore: FakeProcore, sleeps: Sleeps, database_url: str
) -> None:
    first, second = general_conditions(procore)
    slack, link = await started(make_driver, procore, sleeps)
    found = await export_both(slack)
    assert procore.written() == []
    await slack.client.close()  # the process stops before any write-back was sent
    engine = db.make_engine(database_url)
    again = Core(
        slack.services.settings,
        engine,
        db.make_session_factory(engine, clock=slack.services.clock),
        clock=slack.services.clock,
    )
    try:
        async with running(again, sleeps):  # its start-up sends what waits
            pass
        async with running(again, sleeps):  # and another start sends nothing twice
            pass
    finally:
        await engine.dispose()
    assert sorted(procore.written()) == sorted(
        [(first, found["00-100"].qb_list_id), (second, found["00-200"].qb_list_id)]
    )
    assert len(procore.sync_calls) == 1
