"""One queue for SQLite's single writer in this process, people's work before background work.

SQLite lets one transaction write at a time. A second writer that finds the lock taken waits
inside SQLite's busy handler, which naps 1 to 100 ms and retries, with no queue: under a burst of
picks and re-renders a pick can lose that race again and again and wait for seconds before its
ack. Writers of one process therefore queue here first, in order, and a transaction a person is
waiting on (a pick, a page turn) goes before background work (re-rendering other copies).
Other processes still meet in SQLite's lock; PostgreSQL needs none of this.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteGate:
    """A lock with two queues: `hold()` for people's work, `hold(background=True)` for the rest."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._background: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def hold(self, *, background: bool = False) -> AsyncIterator[None]:
        await self._acquire(self._background if background else self._urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, queue: deque[asyncio.Future[None]]) -> None:
        if not self._held and not self._urgent and not self._background:
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
        for queue in (self._urgent, self._background):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)  # the lock passes straight to the next in line
                    return
        self._held = False
