"""`kill -9` of the server at any moment of an export, then a restart on the same database."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import update
from sqlmodel import col, select

from bot.core import Core
from bot.costcodes.assign import assign_pattern
from bot.costcodes.domain import Surface
from bot.sandbox.example_data import example_quickbooks
from bot.store import db
from bot.store.models import CostCode, QbwcTicket
from qbd.simulator import QuickBooksSimulator, WebConnectorSimulator
from tests.e2e.conftest import MakeServer, remote_driver
from tests.e2e.served import Served
from tests.fakes.slack_api import FakeSlack
from tests.handlers.slack_driver import texts
from tests.waiting import eventually


class ServerGone(Exception):
    """The Web Connector's call failed because the server was killed under it."""


class CrashingConnector(WebConnectorSimulator):
    """A Web Connector whose server is killed at chosen calls: `plan[(operation, n)]`.

    `restart` kills and restarts the server before the call (QuickBooks was working on the
    request meanwhile), `kill` kills it while the call is being handled.
    """

    def __init__(self, served: Served, qb: QuickBooksSimulator, plan: dict[Any, str]) -> None:
        super().__init__(
            f"{served.url}/qbwc",
            qb,
            username="costcodes",
            password="test-password",
            max_round_trips=1,
        )
        self.served = served
        self.plan = plan
        self.counts: Counter[str] = Counter()

    async def _call(
        self, session: aiohttp.ClientSession, operation: str, *args: str
    ) -> str | int | list[str]:
        self.counts[operation] += 1
        step = self.plan.get((operation, self.counts[operation]))
        if step == "restart":
            await self.served.kill()
            await self.served.start()
        if step != "kill":
            return await super()._call(session, operation, *args)
        call = asyncio.ensure_future(super()._call(session, operation, *args))
        await asyncio.sleep(0.02)  # the server is applying the answer (or building the request)
        await self.served.kill()
        try:
            await call
        except aiohttp.ClientError as exc:
            raise ServerGone(operation) from exc
        raise ServerGone(f"{operation} (answered just before the kill)")


async def _age_open_sessions(services: Core) -> None:
    """As if the Web Connector's next scheduled update came minutes later."""
    long_ago = datetime.now(UTC) - timedelta(minutes=3)
    async with db.session_scope(services.sessions) as session:
        await session.exec(
            update(QbwcTicket).where(col(QbwcTicket.state) == "open").values(last_seen_at=long_ago)
        )


async def test_kill_9_at_every_moment_of_an_export_still_ends_in_one_item_per_code(
    make_server: MakeServer, fake_slack: FakeSlack, services: Core
) -> None:
    async with db.session_scope(services.sessions) as session:
        await assign_pattern(
            session, pattern="*", income="4010", expense=None, actor="cli:test", surface=Surface.CLI
        )
    served = make_server()
    await served.start()
    qb = example_quickbooks()
    async with aiohttp.ClientSession(base_url=served.url) as http:
        slack = await remote_driver(http, fake_slack, services)
        assert await slack.command() == 200
        listing = await eventually(lambda: slack.posted() and slack.posted()[0])
        assert await slack.click(listing, "export-codes") == 200
        await eventually(lambda: "Export started by" in texts(listing))

    # 1. The server dies while QuickBooks adds the first 100 items; the answer reaches the new one.
    first = await CrashingConnector(served, qb, {("receiveResponseXML", 1): "restart"}).run_update()
    assert first.percents and 0 < first.percents[-1] < 100, first
    # 2. Killed between two updates.
    await served.kill()
    await served.start()
    # 3. Killed while it builds the next request, then while it applies an answer.
    for operation in ("sendRequestXML", "receiveResponseXML"):
        try:
            await CrashingConnector(served, qb, {(operation, 1): "kill"}).run_update()
        except ServerGone:
            pass
        await served.start()
        await _age_open_sessions(services)
    # 4. Ordinary updates until the Web Connector has nothing left to do.
    for _ in range(6):
        report = await CrashingConnector(served, qb, {}).run_update()
        if report.stopped == "none":
            break
    else:
        raise AssertionError("the export never finished")

    async with services.sessions() as session:
        states = Counter((await session.exec(select(CostCode.state))).all())
        names = (await session.exec(select(CostCode.code))).all()
    assert states == {"success": 143}
    items = Counter(item.name for item in qb.items)
    assert items == Counter(names)  # every code exactly one Service item, none twice

    def finals() -> list[object]:
        return [
            call
            for call in fake_slack.of("chat.postMessage")
            if call.args.get("thread_ts") == listing.ts and call.args.get("reply_broadcast")
        ]

    await eventually(finals, seconds=30)
    await eventually(lambda: "143 exported, 0 waiting" in texts(listing), seconds=30)
    assert "Export Status: Success" in texts(listing)
    status = next(m for m in slack.posted() if m.thread_ts == listing.ts)
    await eventually(
        lambda: status.text.endswith("all done."), seconds=30, what=lambda: status.text
    )
    await asyncio.sleep(2.5)  # more refresher passes: nothing is posted twice
    assert len(finals()) == 1
