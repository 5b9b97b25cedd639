"""A chart is compared with the table in a thread, with quick interpreter switches meanwhile."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

from bot.accounts import chart
from bot.core import Core
from bot.store import db
from qbd.qbxml.types import AccountInfo


async def test_a_chart_is_compared_off_the_event_loop_with_1_ms_switches(services: Core) -> None:
    """Compared on the loop, picks waited 200–400 ms behind it (issue 17, goal 2)."""
    before = sys.getswitchinterval()
    seen: dict[str, object] = {}

    def accounts() -> Iterator[AccountInfo]:
        seen["thread"] = threading.current_thread() is not threading.main_thread()
        seen["interval"] = sys.getswitchinterval()
        yield AccountInfo("80-PLAN", "Rentals:Cranes", "Cranes", "4100", "Income", True)

    async with db.session_scope(services.sessions) as session:
        await chart.apply_chart(
            session, [AccountInfo("70-GONE", "Old", "Old", None, "Income", True)]
        )
        plan = await chart.plan_chart(session, accounts(), now=db.now(session))
    assert seen == {"thread": True, "interval": 0.001}
    assert sys.getswitchinterval() == before
    assert (plan.counts.new, plan.counts.inactivated, plan.counts.unchanged) == (1, 1, 0)
