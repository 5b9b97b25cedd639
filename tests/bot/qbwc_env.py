"""A running server with the real /qbwc, a QuickBooks simulator and a Web Connector simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp.test_utils import TestServer
from sqlmodel import col, select

from bot.accounts import chart as accounts
from bot.core import Services
from bot.costcodes import intake
from bot.costcodes.assign import assign_pattern
from bot.costcodes.domain import Surface
from bot.export.start import ExportStart, start_export
from bot.sandbox.example_data import example_quickbooks
from bot.server import build_web_app
from bot.store import db
from bot.store.models import CostCode
from qbd.simulator import QuickBooksSimulator, WebConnectorSimulator


@dataclass
class Env:
    services: Services
    server: TestServer
    quickbooks: QuickBooksSimulator
    connector: WebConnectorSimulator

    async def sync_accounts(self) -> None:
        async with db.session_scope(self.services.sessions) as session:
            await accounts.queue_sync(session, requested_by="U_ADMIN")
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
        async with self.services.sessions() as session:
            rows = (await session.exec(select(CostCode).order_by(col(CostCode.code)))).all()
        return {row.code: row for row in rows}


@asynccontextmanager
async def qbwc_env(services: Services) -> AsyncIterator[Env]:
    server = TestServer(build_web_app(services))
    await server.start_server()
    quickbooks = example_quickbooks()
    connector = WebConnectorSimulator(
        str(server.make_url("/qbwc")), quickbooks, username="costcodes", password="test-password"
    )
    try:
        yield Env(services, server, quickbooks, connector)
    finally:
        await server.close()
