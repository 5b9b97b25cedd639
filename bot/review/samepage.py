"""Copies of the list showing the same page share one read of it.

When 20 people pick on the same page, every pick marks all 20 copies, and each rendering read
the same page again: ten statements, ~8 ms of the event loop each, 90 % of the server's CPU in a
burst (issue 17). A rendering may use a page another rendering read, if that read began after
this copy's mark was read: then it shows every change the mark counts (bot.slack.refresher's
rule, "the mark is read before what it renders"). Read stamps from one counter order the two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable

from bot.costcodes.domain import ListPage
from bot.slack.refresher import stamp

KEPT = 64
"""Pages kept, the most recently read: only readings started after a copy's mark are of use."""


class SamePage:
    """`read(key, read_after, load)`: a page read after `read_after`, by this caller or another."""

    def __init__(self) -> None:
        self._latest: dict[Hashable, tuple[int, asyncio.Future[ListPage]]] = {}

    async def read(
        self, key: Hashable, read_after: int, load: Callable[[], Awaitable[ListPage]]
    ) -> ListPage:
        started, reading = self._latest.get(key, (0, None))
        if reading is not None and started > read_after:
            await asyncio.wait([reading])  # this caller's own cancellation still comes through
            if not reading.cancelled() and reading.exception() is None:
                return reading.result()
            # That reading failed (its renderer hears why): read it here.
        return await self._load(key, load)

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[ListPage]]) -> ListPage:
        reading: asyncio.Future[ListPage] = asyncio.get_running_loop().create_future()
        entry = (stamp(), reading)
        self._latest.pop(key, None)
        self._latest[key] = entry
        while len(self._latest) > KEPT:
            del self._latest[next(iter(self._latest))]
        try:
            page = await load()
        except BaseException as exc:
            if self._latest.get(key) is entry:
                del self._latest[key]
            if isinstance(exc, asyncio.CancelledError):
                reading.cancel()
            else:
                reading.set_exception(exc)
                reading.exception()  # retrieved: waiters may have gone, it is raised below anyway
            raise
        reading.set_result(page)
        return page
