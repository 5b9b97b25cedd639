from __future__ import annotations

from lxml import etree
from sqlmodel import select

from bot.accounts import chart
from bot.core import Core
from bot.sandbox.example_data import COST_CODES, example_accounts
from bot.store import db
from bot.store.models import AuditEvent, QbwcJob
from tests.builders import cli


async def _seed(services: Core) -> None:
    async with db.session_scope(services.sessions) as session:
        await chart.apply_chart(session, example_accounts())
    assert (await cli(services, "import", str(COST_CODES)))[0] == 0


async def test_qwc_keeps_its_ids_and_requires_https(services: Core) -> None:
    code, first, _ = await cli(services, "qwc", "--url", "https://bot.example.com/qbwc")
    assert code == 0
    root = etree.fromstring(first.encode())
    assert root.findtext("AppURL") == "https://bot.example.com/qbwc"
    assert root.findtext("AppSupport") == "https://bot.example.com/healthz"
    assert root.findtext("UserName") == "costcodes" and root.findtext("QBType") == "QBFS"
    assert root.findtext("Scheduler/RunEveryNMinutes") == "15"
    _, second, _ = await cli(services, "qwc", "--url", "https://bot.example.com", "--minutes", "5")
    again = etree.fromstring(second.encode())
    assert again.findtext("OwnerID") == root.findtext("OwnerID")
    assert again.findtext("FileID") == root.findtext("FileID")
    assert again.findtext("AppURL") == "https://bot.example.com/qbwc"
    code, out, err = await cli(services, "qwc", "--url", "http://bot.example.com/qbwc")
    assert code == 2 and out == "" and "https" in err
    assert (await cli(services, "qwc", "--url", "http://localhost:3000/qbwc"))[0] == 0


async def test_accounts_sync_queues_one_job(services: Core) -> None:
    code, out, _ = await cli(services, "accounts", "sync")
    assert code == 0 and "queued" in out
    code, out, _ = await cli(services, "accounts", "sync")
    assert code == 0 and "already waiting" in out
    async with services.sessions() as session:
        jobs = (await session.exec(select(QbwcJob))).all()
    assert [(j.kind, j.state) for j in jobs] == [("accounts_sync", "pending")]


async def test_assign_by_glob_then_export(services: Core) -> None:
    await _seed(services)
    code, out, _ = await cli(
        services, "assign", "03-*", "--income", "4000", "--expense", "Job Costs:Job Materials"
    )
    assert code == 0 and "Assigned accounts to 13 cost codes" in out
    code, out, _ = await cli(services, "assign", "03-*", "--income", "Construction Income")
    assert "Assigned accounts to 13" in out
    code, out, _ = await cli(services, "export")
    assert code == 0 and "Queued 13 cost codes" in out
    assert "01-100: stays in Ready to Export: no GL Account – Income picked" in out
    code, out, _ = await cli(services, "export")
    assert code == 1 and "already running" in out
    async with services.sessions() as session:
        actions = (await session.exec(select(AuditEvent.action, AuditEvent.surface))).all()
    assert ("assign", "cli") in actions and ("export", "cli") in actions


async def test_assign_refuses_unknown_accounts_and_patterns(services: Core) -> None:
    await _seed(services)
    code, _, err = await cli(services, "assign", "03-*", "--income", "Nope")
    assert code == 1 and 'no active GL account with the full name or number "Nope"' in err
    code, _, err = await cli(services, "assign", "99-*", "--income", "4000")
    assert code == 1 and 'No cost code matches "99-*"' in err


async def test_status_shows_the_web_connector_contact(services: Core) -> None:
    code, out, _ = await cli(services, "status")
    assert code == 0 and out.splitlines()[-2] == "Web Connector last contact: never"
