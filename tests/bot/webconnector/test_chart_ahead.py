"""A chart sync through the real /qbwc, read and stored ahead of the Web Connector's transaction.

The answer is parsed and compared with the table before receiveResponseXML's write transaction,
and its rows are written in short background transactions (bot/webconnector/chartahead.py):
the sync must still end exactly as before, a pick must get its save in while a chart is being
stored, and an answer whose ticket moved on in the meantime must be judged as it always was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestServer
from sqlalchemy import func
from sqlmodel import col, select

from bot.accounts import chart
from bot.accounts.chart import Purpose
from bot.accounts.index import AccountIndex
from bot.accounts.memory import DEFERRED_THRESHOLD
from bot.app import build_app
from bot.core import Core
from bot.server import serve
from bot.store import db
from bot.store.models import AppSetting, GLAccount, QbwcJob, QbwcTicket
from bot.webconnector.backend import QbwcBackend
from bot.webconnector.chartahead import ChartAhead
from bot.webconnector.states import JobState
from qbd.simulator import QuickBooksSimulator, UpdateReport
from tests.builders import web_connector
from tests.waiting import eventually, gc_thresholds_settled

ACCOUNTS = 5_000
"""More than one chunk of rows (chart.WRITE_CHUNK) in a new chart."""


def _quickbooks(count: int) -> QuickBooksSimulator:
    quickbooks = QuickBooksSimulator()
    for n in range(count):
        quickbooks.add_account(
            f"Division {n // 100}:Cost {n:06d}", "Expense" if n % 4 else "Income", number=str(n)
        )
    return quickbooks


@asynccontextmanager
async def _qbwc(services: Core, backend: QbwcBackend | None = None) -> AsyncIterator[str]:
    app = build_app(services)
    if backend is not None:
        app = dataclasses.replace(app, qbwc=backend)
    server = TestServer(serve(app))
    await server.start_server()
    try:
        yield str(server.make_url("/qbwc"))
    finally:
        await server.close()


async def _sync(services: Core, url: str, quickbooks: QuickBooksSimulator) -> UpdateReport:
    async with db.session_scope(services.sessions) as session:
        await chart.queue_sync(session, requested_by="U_ADMIN")
    connector = web_connector(url, quickbooks)
    return await connector.run_update()


async def _job(services: Core) -> QbwcJob:
    async with services.sessions() as session:
        statement = select(QbwcJob).order_by(col(QbwcJob.id).desc()).limit(1)
        return (await session.exec(statement)).one()


async def _accounts(services: Core) -> dict[str, GLAccount]:
    async with services.sessions() as session:
        return {a.list_id: a for a in (await session.exec(select(GLAccount))).all()}


async def test_a_sync_stores_changes_and_deactivates_as_before_and_the_index_finds_it(
    services: Core,
) -> None:
    quickbooks = _quickbooks(ACCOUNTS)
    index = AccountIndex(services.sessions, check_every=0)
    async with _qbwc(services) as url:
        assert (await _sync(services, url, quickbooks)).percents == [100]
        first = await _job(services)
        assert first.state == JobState.DONE and json.loads(first.result or "{}")["new"] == ACCOUNTS
        assert len(await _accounts(services)) == ACCOUNTS
        await index.refresh()
        assert [a.number for a in await index.search(query="004321", purpose=Purpose.EXPENSE)] == [
            "4321"
        ]
        gone = quickbooks.accounts.pop(0)
        quickbooks.accounts[0].full_name = "Renamed:Zebra cost"
        quickbooks.add_account("Brand new income", "Income", number="990001")
        assert (await _sync(services, url, quickbooks)).percents == [100]
    second = await _job(services)
    assert second.state == JobState.DONE
    assert json.loads(second.result or "{}") == {
        "new": 1,
        "changed": 1,
        "inactivated": 1,
        "unchanged": ACCOUNTS - 2,
    }
    stored = await _accounts(services)
    assert not stored[gone.list_id].active and stored[quickbooks.accounts[0].list_id].active
    await index.refresh()
    assert [a.full_name for a in await index.search(query="zebra", purpose=Purpose.INCOME)] == [
        "Renamed:Zebra cost"
    ]
    assert [a.number for a in await index.search(query="brand new", purpose=Purpose.INCOME)] == [
        "990001"
    ]
    assert await index.search(query=gone.full_name.lower(), purpose=Purpose.INCOME) == []


class ParsedFlagBackend(QbwcBackend):
    """Says when the chart's answer has been parsed (before any of it is written)."""

    def __init__(self, services: Core) -> None:
        super().__init__(services)
        self.parsed = asyncio.Event()

    async def _parse_chart(self, raw_in_flight: str, response: str) -> ChartAhead | None:
        parsed = await super()._parse_chart(raw_in_flight, response)
        self.parsed.set()
        return parsed


async def test_a_pick_is_saved_while_a_big_chart_is_still_being_stored(services: Core) -> None:
    quickbooks = _quickbooks(20_000)
    backend = ParsedFlagBackend(services)
    async with _qbwc(services, backend) as url:
        update = asyncio.create_task(_sync(services, url, quickbooks))
        await asyncio.wait_for(backend.parsed.wait(), timeout=60)
        # The save a pick makes before its ack: it no longer waits for the sync to be stored.
        async with db.session_scope(services.sessions) as session:
            session.add(AppSetting(key="pick", value="saved"))
            job = (await session.exec(select(QbwcJob))).one()
            stored = (await session.exec(select(func.count()).select_from(GLAccount))).one()
        saved_while_syncing = not update.done()
        report = await update
    assert saved_while_syncing and job.state != JobState.DONE and stored < 20_000
    assert report.percents == [100] and (await _job(services)).state == JobState.DONE
    assert len(await _accounts(services)) == 20_000


class MovedOnBackend(QbwcBackend):
    """The ticket's in-flight record changes between the peek and the write transaction."""

    async def _parse_chart(self, raw_in_flight: str, response: str) -> ChartAhead | None:
        parsed = await super()._parse_chart(raw_in_flight, response)
        assert parsed is not None  # the answer itself is good
        async with db.session_scope(self.services.sessions) as session:
            for ticket in (await session.exec(select(QbwcTicket))).all():
                ticket.in_flight = None  # as if its request had been answered already
        return parsed


async def test_an_in_flight_record_changed_after_the_peek_falls_back_to_the_old_path(
    services: Core,
) -> None:
    quickbooks = _quickbooks(ACCOUNTS)
    async with _qbwc(services, MovedOnBackend(services)) as url:
        report = await _sync(services, url, quickbooks)
    assert report.percents == [-1]  # refused: nothing of this session was waiting for it
    async with services.sessions() as session:
        ticket = (await session.exec(select(QbwcTicket))).one()
        version = await session.get(AppSetting, "accounts_version")
    assert "no request of this session was waiting" in (ticket.last_error or "")
    assert await _accounts(services) == {} and version is None
    assert (await _job(services)).state != JobState.DONE


class ThresholdsSeenBackend(QbwcBackend):
    """Notes the collector's thresholds while the chart's answer is being read."""

    def __init__(self, services: Core) -> None:
        super().__init__(services)
        self.seen: list[tuple[int, ...]] = []

    async def _parse_chart(self, raw_in_flight: str, response: str) -> ChartAhead | None:
        self.seen.append(gc.get_threshold())
        return await super()._parse_chart(raw_in_flight, response)


async def test_no_full_collection_is_due_while_a_big_chart_is_handled(services: Core) -> None:
    """Each would walk the sync's objects while Slack acks wait (issue 17, goal 2)."""
    before = await gc_thresholds_settled()
    backend = ThresholdsSeenBackend(services)
    async with _qbwc(services, backend) as url:
        report = await _sync(services, url, _quickbooks(ACCOUNTS))
    assert report.percents == [100]
    assert backend.seen == [(before[0], before[1], DEFERRED_THRESHOLD)]
    await eventually(lambda: gc.get_threshold() == before)  # after the collection that follows
