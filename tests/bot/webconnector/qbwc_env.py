"""A running server with the real /qbwc, a QuickBooks simulator and a Web Connector simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp.test_utils import TestServer

from bot.accounts import chart as accounts
from bot.core import Services
from bot.costcodes import intake
from bot.costcodes.assign import assign_pattern
from bot.costcodes.domain import Surface
from bot.export.start import ExportStart, start_export
from bot.store import db
from bot.store.models import CostCode
from qbd.simulator import QuickBooksSimulator, WebConnectorSimulator
from tests import builders
from tests.conftest import EXAMPLES


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
        return await builders.codes(self.services)


def quickbooks_with_examples() -> QuickBooksSimulator:
    quickbooks = QuickBooksSimulator()
    for account in accounts.read_accounts_csv(EXAMPLES / "gl_accounts.csv"):
        quickbooks.add_account(
            account.full_name, account.account_type, number=account.number, active=account.active
        )
    return quickbooks


@asynccontextmanager
async def qbwc_env(services: Services) -> AsyncIterator[Env]:
    async with builders.served(services) as client:
        quickbooks = quickbooks_with_examples()
        connector = WebConnectorSimulator(
            str(client.make_url("/qbwc")),
            quickbooks,
            username="costcodes",
            password="test-password",
        )
        yield Env(services, client.server, quickbooks, connector)
