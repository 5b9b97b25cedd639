"""The switch interval is 1 ms while threads run seconds of Python, and comes back after."""

from __future__ import annotations

import sys

import pytest

from bot.interpreter import QUICK_SWITCH_SECONDS, quick_switches


def test_quick_switches_nest_and_leave_the_interval_as_it_was() -> None:
    before = sys.getswitchinterval()
    with quick_switches():
        assert sys.getswitchinterval() == QUICK_SWITCH_SECONDS
        with quick_switches():  # a parse and a comparison at once
            assert sys.getswitchinterval() == QUICK_SWITCH_SECONDS
        assert sys.getswitchinterval() == QUICK_SWITCH_SECONDS  # the first is still running
    assert sys.getswitchinterval() == before
    with pytest.raises(RuntimeError), quick_switches():
        raise RuntimeError("the thread's work failed")
    assert sys.getswitchinterval() == before
