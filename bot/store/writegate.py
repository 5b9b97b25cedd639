"""One queue for SQLite's single writer in this process: acks first, then what people watch.

SQLite lets one transaction write at a time. A second writer that finds the lock taken waits
inside SQLite's busy handler, which naps 1 to 100 ms and retries, with no queue: under a burst of
picks and re-renders a pick can lose that race again and again and wait for seconds before its
ack. Writers of one process therefore queue here first, in three lines:

1. a transaction whose Slack ack waits on it (a pick, a page turn, saved before the ack);
2. work after an ack that a person is looking at (re-rendering the copy they clicked), and the
   Web Connector's calls, which call `acknowledged()` first: it waits minutes for an answer, a
   Slack ack 3 s (in line 1, picks queued behind its transactions during a sync);
3. background work (re-rendering everyone else's copies).

When 20 people pick at once, their 20 saves go before the 20 re-renders those picks cause, so
the last ack waits for 19 short saves rather than for 19 saves and 19 renders (issue 17).
Which of the first two lines a writer joins comes from the context it runs in: a listener's
task calls `acknowledged()` once Slack has been answered. Other processes still meet in SQLite's
lock; PostgreSQL needs none of this.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

_ACKED: contextvars.ContextVar[bool] = contextvars.ContextVar("acknowledged", default=False)


def acknowledged() -> None:
    """From here on, this task's writes are after its ack (line 2, not line 1)."""
    _ACKED.set(True)


class WriteGate:
    """A lock with three queues: acks, then `hold()` after an ack, then `hold(background=True)`."""

    def __init__(self) -> None:
        self._held = False
        self._acks: deque[asyncio.Future[None]] = deque()
        self._watched: deque[asyncio.Future[None]] = deque()
        self._background: deque[asyncio.Future[None]] = deque()
        self._queues = (self._acks, self._watched, self._background)

    @asynccontextmanager
    async def hold(self, *, background: bool = False) -> AsyncIterator[None]:
        if background:
            queue = self._background
        else:
            queue = self._watched if _ACKED.get() else self._acks
        await self._acquire(queue)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, queue: deque[asyncio.Future[None]]) -> None:
        if not self._held and not any(self._queues):
            self._held = True
            return
        turn = asyncio.get_running_loop().create_future()
        queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # the lock was handed over just as we were cancelled
            else:
                queue.remove(turn)
            raise

    def _release(self) -> None:
        for queue in self._queues:
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)  # the lock passes straight to the next in line
                    return
        self._held = False
