"""Waiting in tests for work that runs on its own after an ack (Bolt listeners, refreshes).

Every poll in the tests goes through here, so a wait has one pace and one way to fail: it
says what it was waiting for instead of running on silently or hanging.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from typing import Any

from bot.accounts.memory import DEFERRED_THRESHOLD

POLL_SECONDS = 0.02


async def eventually(
    check: Callable[[], Any], seconds: float = 10.0, what: Callable[[], Any] | None = None
) -> Any:
    """What `check` returns once it is truthy; fails the test after `seconds` (saying `what`)."""

    async def awaited() -> Any:
        return check()

    return await eventually_awaited(awaited, seconds, what)


async def eventually_awaited(
    check: Callable[[], Awaitable[Any]],
    seconds: float = 10.0,
    what: Callable[[], Any] | None = None,
) -> Any:
    """Like `eventually`, for a check that must await (a query, a request)."""
    for _ in range(int(seconds / POLL_SECONDS)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(POLL_SECONDS)
    seen = f": {what()}" if what is not None else ""
    raise AssertionError(f"still not there after {seconds} s{seen}")


async def gc_thresholds_settled() -> tuple[int, ...]:
    """The collector's thresholds once no chart sync defers full collections any more.

    An earlier test's sync gives them back 0.5 s after it ends (bot.accounts.memory), so a test
    that starts sooner would otherwise take the deferred ones for the normal ones."""
    await eventually(lambda: gc.get_threshold()[2] != DEFERRED_THRESHOLD)
    return gc.get_threshold()
