"""A listener's ack is Slack's answer the moment it is made; the listener goes on after it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.slack import acks
from handlers import errors
from tests.handlers.conftest import slack_parts
from tests.handlers.slack_driver import SlackDriver


def _args(**extra: Any) -> Any:
    context = AsyncBoltContext({"user_id": "U1", "channel_id": "C1"})
    return SimpleNamespace(context=context, ack=AsyncAck(), body={}, respond=None, **extra)


async def test_the_ack_is_returned_while_the_listener_goes_on() -> None:
    later = asyncio.Event()
    finished: list[str] = []

    async def listener(ack: AsyncAck) -> None:
        await ack(text="saved")
        await later.wait()  # a re-render after the ack
        finished.append("render")

    run = errors.guarded(listener)
    response = await asyncio.wait_for(run(_args()), 5)

    assert response is not None and response.status == 200 and "saved" in response.body
    assert finished == [] and any(not t.done() for t in errors.listeners_running())
    later.set()
    await asyncio.wait_for(asyncio.gather(*errors.listeners_running()), 5)
    assert finished == ["render"] and errors.listeners_running() == []


async def test_a_listener_failing_before_its_ack_is_answered_before_the_person_is_told() -> None:
    told = asyncio.Event()
    release = asyncio.Event()

    class Client:
        async def chat_postEphemeral(self, **message: Any) -> None:
            told.set()
            await release.wait()  # Slack's Web API is slow today

    async def listener(ack: AsyncAck) -> None:
        raise RuntimeError("the search index is gone")

    run = errors.guarded(listener)
    response = await asyncio.wait_for(run(_args(client=Client())), 5)

    assert response is not None and response.status == 200  # Slack never sees a 500
    await asyncio.wait_for(told.wait(), 5)  # and the person hears about it after
    release.set()
    await asyncio.wait_for(asyncio.gather(*errors.listeners_running()), 5)


async def test_a_listener_without_ack_lets_bolt_answer_at_once() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def listener(event: dict[str, Any]) -> None:  # an Events API listener
        started.set()
        await release.wait()

    run = errors.guarded(listener)
    assert await asyncio.wait_for(run(_args(event={})), 5) is None  # Bolt acknowledges it
    await asyncio.wait_for(started.wait(), 5)
    release.set()
    await asyncio.wait_for(asyncio.gather(*errors.listeners_running()), 5)


def test_the_app_hands_bolt_the_ack_itself(slack: SlackDriver) -> None:
    # Bolt's default mode would poll for the ack every 10 ms instead.
    assert slack_parts(slack).bolt.process_before_response


async def test_a_request_counts_as_waiting_from_the_door_on_before_bolt_reaches_a_listener(
    slack: SlackDriver,
) -> None:
    renders: list[asyncio.Task[None]] = []
    done_early: list[bool] = []

    async def render_meanwhile(next_: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        # After-ack work of someone else's click starts while Bolt is still reading this one.
        render = asyncio.create_task(acks.after_acks(poll=0))
        renders.append(render)
        for _ in range(5):
            await asyncio.sleep(0)
        done_early.append(render.done())
        return await next_()

    slack_parts(slack).bolt.middleware(render_meanwhile)
    assert await slack.command("help") == 200

    assert done_early == [False]  # it waited for this request's ack
    await asyncio.wait_for(renders[0], 5)
