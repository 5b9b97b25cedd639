"""A chart sync through /qbwc stores every account and then gives its churned memory back.

The memory itself is measured by bench/memory.py, never here; what a test can hold is that the
sync still stores and finds every account, and that a full collection (which empties CPython's
free lists, bot.accounts.memory) follows an accounts answer and only that.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.accounts import chart
from bot.accounts.index import AccountIndex
from bot.accounts.memory import (
    AFTER_SECONDS,
    DEFERRED_THRESHOLD,
    DROP_TURN,
    drop,
    full_collections_deferred,
)
from bot.core import Core
from bot.store import db
from bot.store.models import GLAccount
from qbd.simulator import QuickBooksSimulator
from tests.builders import served, web_connector
from tests.waiting import eventually, gc_thresholds_settled


@pytest.fixture
def full_collections() -> Iterator[list[int]]:
    """Full collections started while automatic collection is off: only explicit ones count."""
    started: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            started.append(1)

    was_enabled = gc.isenabled()
    gc.disable()
    gc.callbacks.append(record)
    try:
        yield started
    finally:
        gc.callbacks.remove(record)
        if was_enabled:
            gc.enable()


async def _update(services: Core, quickbooks: QuickBooksSimulator) -> list[int]:
    async with served(services) as client:
        report = await web_connector(str(client.make_url("/qbwc")), quickbooks).run_update()
    assert report.fault is None
    return report.percents


async def test_a_synced_chart_is_stored_found_and_its_garbage_collected(
    services: Core, full_collections: list[int]
) -> None:
    quickbooks = QuickBooksSimulator()
    for n in range(3_000):
        quickbooks.add_account(
            f"Division {n // 100}:Cost {n:05d}", "Expense", number=str(50_000 + n)
        )
    assert await _update(services, quickbooks) == []  # nothing asked: no sync, no collection
    await asyncio.sleep(AFTER_SECONDS * 2)
    assert full_collections == []
    for synced in (1, 2):  # a new chart, then the same chart again
        async with db.session_scope(services.sessions) as session:
            await chart.queue_sync(session, requested_by="U_ADMIN")
        assert await _update(services, quickbooks) == [100]
        await eventually(lambda synced=synced: len(full_collections) == synced)  # type: ignore[misc]
    async with services.sessions() as session:
        count = (await session.exec(select(func.count()).select_from(GLAccount))).one()
    assert count == 3_000
    index = AccountIndex(services.sessions)
    try:
        found = await index.search(query="cost 02999", purpose=chart.Purpose.EXPENSE)
        everything = await index.search(query="division", purpose=chart.Purpose.EXPENSE)
    finally:
        await index.close()
    assert [a.number for a in found] == ["52999"]
    assert len(everything) == chart.SEARCH_LIMIT


async def test_full_collections_wait_while_syncs_run_and_the_thresholds_come_back() -> None:
    before = await gc_thresholds_settled()
    deferred = (before[0], before[1], DEFERRED_THRESHOLD)
    with full_collections_deferred():
        assert gc.get_threshold() == deferred
        with full_collections_deferred():  # a second sync at once
            assert gc.get_threshold() == deferred
        assert gc.get_threshold() == deferred  # the first is still running
    # Not at once: the next allocation would start a full collection inside the request.
    assert gc.get_threshold() == deferred
    await eventually(lambda: gc.get_threshold() == before)
    with pytest.raises(RuntimeError), full_collections_deferred():
        raise RuntimeError("the sync failed")
    await eventually(lambda: gc.get_threshold() == before)


async def test_a_sync_starting_before_the_collection_keeps_the_deferral(
    full_collections: list[int],
) -> None:
    before = gc.get_threshold()
    with full_collections_deferred():
        pass
    with full_collections_deferred():  # the next answer, before the first one's collection
        await asyncio.sleep(AFTER_SECONDS * 2)
        assert full_collections == [1]  # the first one's collection ran...
        assert gc.get_threshold()[2] == DEFERRED_THRESHOLD  # ...and this sync still defers
    await eventually(lambda: gc.get_threshold() == before and len(full_collections) == 2)


async def test_a_sync_lets_go_of_its_rows_a_part_at_a_time() -> None:
    """Freed in one go, 100,000 rows held the event loop ~100 ms (issue 17, goal 2)."""
    rows = [object() for _ in range(DROP_TURN * 3 + 1)]
    by_list_id = {n: object() for n in range(DROP_TURN * 2)}
    turns = 0

    async def others() -> None:  # whatever else the loop runs meanwhile (a Slack ack)
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    running = asyncio.create_task(others())
    await asyncio.sleep(0)
    await drop(rows)
    await drop(by_list_id)
    running.cancel()
    assert rows == [] and by_list_id == {}
    assert turns >= 5  # four parts of the list, two of the dict: the loop ran between them
