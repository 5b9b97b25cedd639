"""SQLite's writer queue: first come first served, people's work before background work."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.writegate import WriteGate


async def test_writers_go_one_at_a_time_in_order_with_people_first() -> None:
    gate = WriteGate()
    order: list[str] = []
    inside = 0

    release = asyncio.Event()

    async def write(name: str, background: bool) -> None:
        nonlocal inside
        async with gate.hold(background=background):
            inside += 1
            assert inside == 1
            order.append(name)
            if name == "first":
                await release.wait()
            await asyncio.sleep(0)
            inside -= 1

    first = asyncio.create_task(write("first", True))
    await asyncio.sleep(0)  # it holds the gate now
    waiting = [
        asyncio.create_task(write("render 1", True)),
        asyncio.create_task(write("pick 1", False)),
        asyncio.create_task(write("render 2", True)),
        asyncio.create_task(write("pick 2", False)),
    ]
    await asyncio.sleep(0)  # all four are queued
    release.set()
    await asyncio.gather(first, *waiting)
    assert order == ["first", "pick 1", "pick 2", "render 1", "render 2"]


async def test_a_cancelled_waiter_neither_keeps_nor_loses_the_gate() -> None:
    gate = WriteGate()
    release = asyncio.Event()
    done: list[str] = []

    async def holder() -> None:
        async with gate.hold():
            await release.wait()

    async def waiter(name: str) -> None:
        async with gate.hold():
            done.append(name)

    held = asyncio.create_task(holder())
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(waiter("cancelled"))
    later = asyncio.create_task(waiter("later"))
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await held
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await asyncio.wait_for(later, 1)
    assert done == ["later"]
    async with gate.hold():  # and it is free again
        done.append("after")
    assert done == ["later", "after"]
