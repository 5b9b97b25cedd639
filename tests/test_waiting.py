"""The tests' one way to wait: it hands back what it waited for, and fails saying what it saw."""

from __future__ import annotations

import pytest

from tests.waiting import eventually, eventually_awaited


async def test_the_first_truthy_answer_is_returned() -> None:
    answers = iter([None, [], ["posted"]])
    assert await eventually(lambda: next(answers)) == ["posted"]


async def test_an_awaited_check_is_awaited_each_time() -> None:
    asked: list[int] = []

    async def check() -> int:
        asked.append(1)
        return len(asked) if len(asked) == 3 else 0

    assert await eventually_awaited(check) == 3
    assert len(asked) == 3


async def test_giving_up_says_what_it_saw() -> None:
    async def never() -> None:
        return None

    with pytest.raises(AssertionError, match=r"still not there after 0.1 s: 2 posts"):
        await eventually_awaited(never, seconds=0.1, what=lambda: "2 posts")
    with pytest.raises(AssertionError, match=r"still not there after 0.1 s$"):
        await eventually(lambda: False, seconds=0.1)
