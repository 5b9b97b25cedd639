"""Two `costcodes serve` processes on one database behind a balancer that alternates requests."""

from __future__ import annotations

import asyncio
import os
from collections import Counter

import aiohttp
import pytest
from sqlmodel import select

from bot.core import Core
from bot.sandbox.example_data import example_quickbooks
from bot.store.models import CostCode, ExportBatch
from tests.builders import web_connector
from tests.e2e.conftest import MakeServer, remote_driver
from tests.e2e.served import balanced
from tests.fakes.slack_api import FakeSlack
from tests.handlers.slack_driver import CHANNEL, OTHER, texts
from tests.handlers.test_no_lost_clicks import (
    _codes,
    _income_account,
    _page_body,
    _pick_body,
    _shown_page,
)
from tests.waiting import eventually

# Several servers share PostgreSQL in production (DESIGN §7). On SQLite, writers in two processes
# wait for each other's file lock by sleeping, so a burst of picks runs past the ack budget.
pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="two server processes share PostgreSQL only"
)


async def test_two_servers_lose_nothing_and_export_each_code_once(
    make_server: MakeServer, fake_slack: FakeSlack, services: Core
) -> None:
    servers = [make_server(), make_server()]
    await asyncio.gather(*(server.start() for server in servers))  # they migrate one at a time
    async with (
        balanced([server.url for server in servers]) as balancer,
        aiohttp.ClientSession(base_url=balancer.url) as http,
    ):
        slack = await remote_driver(http, fake_slack, services)
        assert await slack.command() == 200
        listing = await eventually(lambda: slack.posted() and slack.posted()[0])
        assert await slack.command(user=OTHER) == 200
        paged = await eventually(lambda: len(slack.posted()) == 2 and slack.posted()[1])
        account = await _income_account(slack)
        picked = await _codes(slack, 30)

        async def picks_then_export() -> None:
            bodies = [_pick_body(slack, listing, code, account, "pick-income") for code in picked]
            answers = await asyncio.gather(*(slack.send(body) for body in bodies))
            assert [status for status, _ in answers] == [200] * 30
            assert await slack.click(listing, "export-codes") == 200

        async def page_turns() -> None:
            for page in range(1, 15):
                status, _ = await slack.send(_page_body(slack, paged, page, OTHER))
                assert status == 200

        await asyncio.gather(picks_then_export(), page_turns())

        async def batch() -> ExportBatch | None:
            async with services.sessions() as session:
                return (await session.exec(select(ExportBatch))).first()

        for _ in range(200):
            if await batch() is not None:
                break
            await asyncio.sleep(0.05)
        found = await batch()
        assert found is not None and found.total == 30  # every acknowledged pick was seen
        # The last page turn is shown, and no rendering went back to an earlier page.
        await eventually(lambda: "Page 15 of 15" in texts(paged), seconds=20)
        shown = [
            _shown_page(call.args["blocks"])
            for call in fake_slack.of("chat.update")
            if call.args["ts"] == paged.ts
        ]
        assert shown == sorted(shown) and shown[-1] == 14, shown

        quickbooks = example_quickbooks()
        connector = web_connector(f"{balancer.url}/qbwc", quickbooks)
        report = await connector.run_update()
        assert report.percents[-1] == 100, report

        await eventually(lambda: "30 exported, 0 waiting" in texts(listing), seconds=20)

        def finals() -> list[object]:
            return [
                call
                for call in fake_slack.of("chat.postMessage")
                if call.args.get("thread_ts") == listing.ts and call.args.get("reply_broadcast")
            ]

        await eventually(finals, seconds=20)
        await asyncio.sleep(2.5)  # two more refresher passes in each process: nothing repeats
        assert len(finals()) == 1
        assert "Export Status: Success" in texts(listing)
        # 30 codes left Ready to Export: the other copy's list is shorter, its last page is 12.
        await eventually(lambda: "Page 12 of 12" in texts(paged), seconds=20)
        assert set(balancer.statuses) == {200}, Counter(balancer.statuses)

    items = Counter(item.name for item in quickbooks.items)
    assert items == Counter(code.code for code in picked)  # each exactly once
    async with services.sessions() as session:
        states = Counter((await session.exec(select(CostCode.state))).all())
    assert states == {"success": 30, "ready": 113}
    assert CHANNEL == listing.channel
