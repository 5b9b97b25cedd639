"""SQLite's writer queue: first come first served, people's work before background work."""

from __future__ import annotations

import asyncio

import pytest

from bot.core import Core
from bot.store import db
from bot.store.writegate import WriteGate
from bot.webconnector.backend import QbwcBackend


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


async def test_a_web_connector_call_waits_behind_a_slack_ack(services: Core) -> None:
    """The Web Connector waits minutes for an answer, a Slack ack 3 s (issue 17, goal 2)."""
    if db.write_gate(services.sessions) is None:
        pytest.skip("PostgreSQL has no writer queue: its writers do not wait for one another")
    order: list[str] = []
    release = asyncio.Event()

    async def chunk_of_a_sync() -> None:  # holds the writer while the other two queue
        async with db.session_scope(services.sessions, background=True):
            await release.wait()

    async def web_connector_login() -> None:
        assert (await QbwcBackend(services).authenticate("costcodes", "test-password"))[1]
        order.append("web connector")

    async def pick() -> None:
        async with db.session_scope(services.sessions):
            order.append("pick")

    held = asyncio.create_task(chunk_of_a_sync())
    await asyncio.sleep(0.05)
    login = asyncio.create_task(web_connector_login())
    await asyncio.sleep(0.05)  # queued first
    saved = asyncio.create_task(pick())
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(held, login, saved)
    assert order == ["pick", "web connector"]
