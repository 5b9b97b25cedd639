"""Slack requests of this process still waiting for their ack, so work after acks can yield.

A pick is acknowledged once saved, and then re-renders copies: its own at once, everyone else's
in the background. That work shares one event loop with the next people's requests; when 20
people pick at the same instant, 20 renders of ~5 ms each in front of the 20th save cost it over
100 ms (issue 17). A request registers here from the moment the Slack door has it until its
listener acknowledges it (`waiting`, `current`), and work that follows an ack first lets the
requests that are waiting at that moment be acknowledged (`after_acks`). Only those: a request
that arrives later does not hold it back again, so under steady traffic the renders are delayed
by one round of acks, never starved.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from bot.store.writegate import acknowledged

LIMIT_SECONDS = 1.0
"""The longest after-ack work waits; a save may hold its ack for 2 s (handlers.errors)."""
RESPONSE_SECONDS = 0.001
"""After the acks: a moment for their responses to be written (handlers.errors.guarded returns
each to Bolt as soon as it is made) before after-ack work takes the event loop."""

_pending: dict[int, asyncio.Future[None]] = {}
_numbers = itertools.count()


class Waiting:
    """One request before its ack; `done()` (idempotent) once Slack has been answered."""

    def __init__(self) -> None:
        self._number = next(_numbers)
        self._answered = asyncio.get_running_loop().create_future()
        _pending[self._number] = self._answered

    async def answered(self, limit: float) -> None:
        """Return once `done()` (or after `limit` s)."""
        await asyncio.wait({self._answered}, timeout=limit)

    def is_done(self) -> bool:
        return self._answered.done()

    def done(self) -> None:
        _pending.pop(self._number, None)
        if not self._answered.done():
            self._answered.set_result(None)
        acknowledged()  # this task's later writes queue after other people's acks


_current: ContextVar[Waiting | None] = ContextVar("slack_request", default=None)


@contextmanager
def waiting() -> Iterator[Waiting]:
    """While the Slack door answers a request: it counts as waiting from its arrival, before Bolt
    has read it, until `done()` (its listener's ack), at the latest when the block ends."""
    request = Waiting()
    token = _current.set(request)
    try:
        yield request
    finally:
        _current.reset(token)
        request.done()


def current() -> Waiting:
    """The request the door is answering in this task, or (without a door) a new one."""
    request = _current.get()
    return request if request is not None and not request.is_done() else Waiting()


async def after_acks(limit: float = LIMIT_SECONDS, poll: float = RESPONSE_SECONDS) -> None:
    """Return once every request waiting now has been acknowledged (or after `limit` s).

    Then a moment more, so those acks (and the caller's own) are on their way to Slack before
    the caller's work takes the event loop.
    """
    loop = asyncio.get_running_loop()
    ahead = [f for f in _pending.values() if not f.done() and f.get_loop() is loop]
    if ahead:
        await asyncio.wait(ahead, timeout=limit)
    await asyncio.sleep(poll)


async def between_steps() -> None:
    """Inside after-ack work, between its steps (a render's reads, its blocks, its send): if
    requests have arrived since it began, let them be acknowledged first; else go straight on."""
    loop = asyncio.get_running_loop()
    if any(not f.done() and f.get_loop() is loop for f in _pending.values()):
        await after_acks()
