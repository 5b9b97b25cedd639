"""Big answers are parsed in a thread, with quick interpreter switches while it runs."""

from __future__ import annotations

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
