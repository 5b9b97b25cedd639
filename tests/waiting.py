"""Waiting in tests for work that runs on its own after an ack (Bolt listeners, refreshes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

POLL_SECONDS = 0.02


async def eventually(
    check: Callable[[], Any], seconds: float = 10.0, what: Callable[[], Any] | None = None
) -> Any:
    """What `check` returns once it is truthy; fails the test after `seconds` (saying `what`)."""
    for _ in range(int(seconds / POLL_SECONDS)):
        found = check()
        if found:
            return found
        await asyncio.sleep(POLL_SECONDS)
    seen = f": {what()}" if what is not None else ""
    raise AssertionError(f"still not there after {seconds} s{seen}")
