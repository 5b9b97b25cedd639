"""Give back the memory a chart sync churned through, so the server does not grow sync after sync.

A 100,000-account sync makes and drops some million small objects (rows, ORM objects, parsed
accounts). CPython keeps up to 2,000 dropped tuples of each size on free lists for reuse, and
those tuples lie scattered over the allocator's 1 MiB arenas; an arena goes back to the system
only when nothing in it is alive, so a few thousand kept tuples held ~20 MiB after each sync
(bench/README.md, "Server memory"). A full collection empties the free lists; with the start-up
heap frozen (`bot.server.freeze_startup_heap`) it walks only what was made since, a few ms.

The collection waits until the answer's HTTP request is over: run while the request is still
alive, it would move the request and its ~50 MB body into the oldest generation, where a cycle
around them waits for the next full collection (seen as +70 MB that stayed).
"""

from __future__ import annotations

import asyncio
import gc

AFTER_SECONDS = 0.5
"""Long enough for the Web Connector's answer to be acknowledged and its request dropped."""


def release_sync_garbage() -> None:
    """Call once a sync is stored: a full collection runs shortly, off this request's back."""
    asyncio.get_running_loop().call_later(AFTER_SECONDS, gc.collect)
