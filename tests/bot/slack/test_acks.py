"""Acks before re-renders: the writer queue's three lines, and work that waits for acks."""

from __future__ import annotations

import asyncio

from bot.slack import acks
from bot.store.writegate import WriteGate, acknowledged


async def test_saves_awaited_by_an_ack_go_before_after_ack_work_and_background() -> None:
    gate = WriteGate()
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with gate.hold(background=True):
            await release.wait()

    async def write(name: str, *, background: bool = False, after_ack: bool = False) -> None:
        if after_ack:
            acknowledged()  # in this task only, as a listener does once Slack is answered
        async with gate.hold(background=background):
            order.append(name)

    held = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiting = [
        asyncio.create_task(write("other copy", background=True)),
        asyncio.create_task(write("own copy", after_ack=True)),
        asyncio.create_task(write("save 1")),
        asyncio.create_task(write("own copy 2", after_ack=True)),
        asyncio.create_task(write("save 2")),
    ]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(held, *waiting)
    assert order == ["save 1", "save 2", "own copy", "own copy 2", "other copy"]


async def test_after_acks_waits_for_the_requests_waiting_then_and_no_later_ones() -> None:
    first = acks.Waiting()
    after = asyncio.create_task(acks.after_acks(poll=0))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not after.done()  # `first` has not been answered
    later = acks.Waiting()  # arrives while the work waits: it does not hold it back
    first.done()
    await asyncio.wait_for(after, 5)
    later.done()


async def test_a_request_counts_as_waiting_until_its_listener_ends_at_the_latest() -> None:
    with acks.waiting():
        after = asyncio.create_task(acks.after_acks(poll=0))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not after.done()
    await asyncio.wait_for(after, 5)
