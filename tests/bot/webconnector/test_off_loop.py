"""Big answers are parsed in a thread, with quick interpreter switches while it runs."""

from __future__ import annotations

import asyncio
import sys
import threading

from bot.webconnector.backend import PARSE_OFF_LOOP_BYTES, _off_loop


async def test_a_big_answer_is_parsed_in_a_thread_with_1_ms_switches_then_5_again() -> None:
    before = sys.getswitchinterval()
    seen: dict[str, object] = {}

    def parse(response: str) -> int:
        seen["thread"] = threading.current_thread() is not threading.main_thread()
        seen["interval"] = sys.getswitchinterval()
        return len(response)

    big = "x" * (PARSE_OFF_LOOP_BYTES + 1)
    assert await _off_loop(parse, big) == len(big)
    assert seen == {"thread": True, "interval": 0.001}
    assert sys.getswitchinterval() == before

    assert await _off_loop(parse, "small") == 5  # on the loop, nothing changed
    assert seen == {"thread": False, "interval": before}


async def test_two_big_answers_parsed_at_once_leave_the_interval_as_it_was() -> None:
    before = sys.getswitchinterval()
    second_in, first_done = threading.Event(), threading.Event()

    def first(response: str) -> int:
        second_in.wait(5)  # both are parsing now; the first ends first
        return 1

    def second(response: str) -> int:
        second_in.set()
        first_done.wait(5)
        return 2

    big = "x" * (PARSE_OFF_LOOP_BYTES + 1)
    early = asyncio.ensure_future(_off_loop(first, big))
    await asyncio.sleep(0.05)  # the first is in its thread
    late = asyncio.ensure_future(_off_loop(second, big))
    assert await early == 1
    assert sys.getswitchinterval() == 0.001  # the second is still parsing
    first_done.set()
    assert await late == 2
    assert sys.getswitchinterval() == before
