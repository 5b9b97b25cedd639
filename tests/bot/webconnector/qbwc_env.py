"""A running server with the real /qbwc, a QuickBooks simulator and a Web Connector simulator.

Also single SOAP calls to that /qbwc, for the tests that forge or fuzz what the Web Connector
would send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp.test_utils import TestServer

from bot.accounts import chart
from bot.core import Core
from bot.costcodes import intake
from bot.costcodes.assign import assign_pattern
from bot.costcodes.domain import Surface
from bot.export.start import ExportStart, start_export
from bot.sandbox.example_data import example_quickbooks
from bot.store import db
from bot.store.models import CostCode
from qbd.simulator import HCP_RESPONSE, QuickBooksSimulator, WebConnectorSimulator
from qbd.simulator.soapclient import envelope, read_result
from qbd.soap import QBWC_NS
from tests import builders


@dataclass
class Env:
    services: Core
    server: TestServer
    quickbooks: QuickBooksSimulator
    connector: WebConnectorSimulator

    async def sync_accounts(self) -> None:
        async with db.session_scope(self.services.sessions) as session:
            await chart.queue_sync(session, requested_by="U_ADMIN")
        report = await self.connector.run_update()
        assert report.percents[-1] == 100, report

    async def add_codes(self, rows: list[tuple[str, str]]) -> None:
        checked = [intake.Row(n, code, desc, None) for n, (code, desc) in enumerate(rows, 2)]
        async with db.session_scope(self.services.sessions) as session:
            await intake.apply_rows(
                session, checked, actor="cli:test", surface=Surface.CLI, source="test"
            )

    async def assign(self, pattern: str, income: str, expense: str | None = None) -> None:
        async with db.session_scope(self.services.sessions) as session:
            await assign_pattern(
                session,
                pattern=pattern,
                income=income,
                expense=expense,
                actor="cli:test",
                surface=Surface.CLI,
            )

    async def export(self, actor: str = "U_ADMIN") -> ExportStart:
        async with db.session_scope(self.services.sessions) as session:
            return await start_export(session, actor=actor, surface=Surface.SLACK)

    async def codes(self) -> dict[str, CostCode]:
        return await builders.codes(self.services)


@asynccontextmanager
async def qbwc_env(services: Core) -> AsyncIterator[Env]:
    async with builders.served(services) as client:
        quickbooks = example_quickbooks()
        connector = builders.web_connector(str(client.make_url("/qbwc")), quickbooks)
        yield Env(services, client.server, quickbooks, connector)


# -- one SOAP call at a time, as the Web Connector sends it (for forged and fuzzed answers) --

COMPANY = r"C:\Users\Public\Documents\Intuit\QuickBooks\Northwind.qbw"
SESSION_TABLES = ("qbwc_ticket", "qbwc_job")
"""What a refused answer may change: the session's own record, and the job going back to wait."""


async def call(env: Env, operation: str, *args: str) -> str | int | list[str]:
    """One SOAP call to the real /qbwc, as the Web Connector sends it."""
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{QBWC_NS}{operation}"'}
    async with aiohttp.ClientSession() as http:
        url = str(env.server.make_url("/qbwc"))
        async with http.post(url, data=envelope(operation, *args), headers=headers) as response:
            assert response.status == 200, await response.text()
            return read_result(operation, await response.read())


async def open_session(env: Env) -> str:
    ticket, status = await call(env, "authenticate", "costcodes", "test-password")  # type: ignore[misc]
    assert status == ""
    return str(ticket)


async def send(env: Env, ticket: str) -> str:
    request = await call(env, "sendRequestXML", ticket, HCP_RESPONSE, COMPANY, "US", "13", "0")
    assert isinstance(request, str) and request
    return request
