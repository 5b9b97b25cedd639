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

Until then, no automatic full collection runs while a big answer is handled: each would walk the
sync's objects with the event loop waiting (`full_collections_deferred`).
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

AFTER_SECONDS = 0.5
"""Long enough for the Web Connector's answer to be acknowledged and its request dropped."""


def release_sync_garbage() -> None:
    """Call once a sync is stored: a full collection runs shortly, off this request's back."""
    if _deferring.saved is None:  # else the collection that ends the deferral is on its way
        asyncio.get_running_loop().call_later(AFTER_SECONDS, gc.collect)


DROP_TURN = 1_000
"""Objects freed between two turns of the event loop when a sync lets go of its rows."""


async def drop(items: list[Any] | dict[Any, Any]) -> None:
    """Empty a sync's big list or dict a part at a time, the event loop getting a turn between.

    Freeing 100,000 rows or parsed accounts is one C call when the last reference goes, and
    it held the loop for ~100 ms at the end of a sync (issue 17, goal 2); emptied here, each
    part is a fraction of a millisecond.
    """
    while items:
        if isinstance(items, list):
            del items[-DROP_TURN:]
        else:
            for _ in range(min(DROP_TURN, len(items))):
                items.popitem()
        await asyncio.sleep(0)


DEFERRED_THRESHOLD = 1_000_000
"""Young collections before a full one while a sync runs: in effect, none until it ends."""


@contextmanager
def full_collections_deferred() -> Iterator[None]:
    """While a big chart is parsed, compared and stored, no automatic full collection runs.

    A 100,000-account sync holds a few hundred thousand objects until it ends, and each full
    collection meanwhile walks all of them with the interpreter lock held: 50–140 ms in which
    the event loop, and every Slack ack, waits (seen five times in one sync; bench/README.md,
    goal 2). Young collections go on as before. The thresholds come back only after the full
    collection `AFTER_SECONDS` after the last sync at once ends: restored at once, the first
    allocation would start a full collection inside the request (see above; seen as +60 MB).
    A timer thread runs it, so it runs even if the event loop stops first.
    """
    with _deferring.lock:
        if _deferring.saved is None:
            _deferring.saved = gc.get_threshold()
            young, middle, *_ = _deferring.saved
            gc.set_threshold(young, middle, DEFERRED_THRESHOLD)
        _deferring.syncs += 1
    try:
        yield
    finally:
        with _deferring.lock:
            _deferring.syncs -= 1
            if _deferring.syncs == 0:
                timer = threading.Timer(AFTER_SECONDS, _collect_and_restore)
                timer.daemon = True
                timer.start()


def _collect_and_restore() -> None:
    gc.collect()  # counts start again from zero: no full collection is due when they come back
    with _deferring.lock:
        if _deferring.syncs == 0 and _deferring.saved is not None:
            gc.set_threshold(*_deferring.saved)
            _deferring.saved = None


class _Deferring:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.syncs = 0
        """Syncs deferring full collections now."""
        self.saved: tuple[int, ...] | None = None
        """The thresholds from before the deferral, while it lasts (until its collection)."""


_deferring = _Deferring()
