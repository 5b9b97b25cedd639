"""Give back the memory a chart sync churned through, so the server does not grow sync after sync.

A 100,000-account sync makes and drops some million small objects (rows, ORM objects, parsed
accounts). CPython keeps up to 2,000 dropped tuples of each size on free lists for reuse, and
those tuples lie scattered over the allocator's 1 MiB arenas; an arena goes back to the system
only when nothing in it is alive, so a few thousand kept tuples held ~20 MiB after each sync
(bench/README.md, "Server memory"). A full collection empties the free lists; with the start-up
heap frozen (`bot.server.freeze_startup_heap`) it walks only what was made since, a few ms.
"""

from __future__ import annotations

import gc


def release_sync_garbage() -> int:
    """Call once a sync's session is closed and its objects are dropped; returns what gc found."""
    return gc.collect()
