"""The interpreter lock while a thread runs seconds of Python beside the event loop.

A big chart's parse and its comparison with the table run in threads (issue 17, goal 2). Such a
thread holds the interpreter lock between its C parts; every other thread, the event loop's and
the database driver's, waits up to the switch interval (5 ms by default) each time it wants the
lock back, so each step of a Slack ack waited 5 ms behind it. While such work runs, the interval
is 1 ms.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

QUICK_SWITCH_SECONDS = 0.001


@contextmanager
def quick_switches() -> Iterator[None]:
    """The switch interval is 1 ms while the block runs (counted: two at once leave it as it
    was when the last one ends)."""
    if _state.running == 0:
        _state.before = sys.getswitchinterval()
        sys.setswitchinterval(min(_state.before, QUICK_SWITCH_SECONDS))
    _state.running += 1
    try:
        yield
    finally:
        _state.running -= 1
        if _state.running == 0:
            sys.setswitchinterval(_state.before)


class _State:
    def __init__(self) -> None:
        self.running = 0
        """Blocks inside `quick_switches` now."""
        self.before = sys.getswitchinterval()
        """The interval from before the first of them."""


_state = _State()
