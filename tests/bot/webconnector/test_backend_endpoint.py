from __future__ import annotations

import dataclasses

from aiohttp.test_utils import TestClient
from sqlalchemy import func
from sqlmodel import select

from bot.accounts import chart
from bot.core import Core
from bot.store import db
from bot.store.models import AuditEvent, GLAccount, QbwcTicket
from qbd.simulator import QuickBooksSimulator
from tests.builders import served, web_connector

SOAP_ACTION = '"http://developer.intuit.com/authenticate"'

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<authenticate xmlns="http://developer.intuit.com/"><strUserName>&lol3;</strUserName>
<strPassword>x</strPassword></authenticate></soap:Body></soap:Envelope>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<authenticate xmlns="http://developer.intuit.com/"><strUserName>&secret;</strUserName>
<strPassword>x</strPassword></authenticate></soap:Body></soap:Envelope>"""


async def _post(client: TestClient, body: bytes) -> tuple[int, str]:
    response = await client.post(
        "/qbwc", data=body, headers={"Content-Type": "text/xml", "SOAPAction": SOAP_ACTION}
    )
    return response.status, await response.text()


async def test_hostile_xml_is_refused_with_a_soap_fault(services: Core) -> None:
    async with served(services) as client:
        for body in (BILLION_LAUGHS, EXTERNAL_ENTITY, b"<not-soap", b"\x00\x01binary"):
            status, text = await _post(client, body)
            assert status == 500 and "<soap:Fault>" in text, text
            assert "lollol" not in text and "root:" not in text
    async with services.sessions() as session:
        assert (await session.exec(select(func.count()).select_from(QbwcTicket))).one() == 0


async def test_body_over_the_limit_is_refused_before_reading(services: Core) -> None:
    services = dataclasses.replace(
        services, settings=services.settings.model_copy(update={"qbwc_max_body_mb": 1})
    )
    async with served(services) as client:
        status, text = await _post(client, b"<x>" + b"a" * (2 * 1024 * 1024) + b"</x>")
    assert status == 413 and "<soap:Fault>" in text and "<html" not in text.lower()


async def test_wsdl_is_served(services: Core) -> None:
    async with served(services) as client:
        response = await client.get("/qbwc?wsdl")
        text = await response.text()
    assert response.status == 200 and "sendRequestXML" in text and "wsdl:definitions" in text


async def test_a_100000_account_chart_is_accepted_and_stored(services: Core) -> None:
    quickbooks = QuickBooksSimulator()
    for n in range(100_000):
        quickbooks.add_account(
            f"Division {n // 500}:Cost account {n:06d} for long-running construction projects",
            "Expense" if n % 4 else "Income",
            number=str(100_000 + n),
        )
    async with db.session_scope(services.sessions) as session:
        await chart.queue_sync(session, requested_by="U_ADMIN")
    async with served(services) as client:
        connector = web_connector(str(client.make_url("/qbwc")), quickbooks)
        report = await connector.run_update()
    assert report.fault is None and report.percents == [100]
    assert len(quickbooks.messages) == 1
    async with services.sessions() as session:
        count = (await session.exec(select(func.count()).select_from(GLAccount))).one()
        audit = (await session.exec(select(func.count()).select_from(AuditEvent))).one()
        found = await chart.search_accounts(session, query="099999", purpose=chart.Purpose.EXPENSE)
    assert count == 100_000 and audit == 0
    assert [a.number for a in found] == ["199999"]
