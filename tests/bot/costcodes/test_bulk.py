"""The division counts of the list's "Apply to division…" select, counted by the database."""

from __future__ import annotations

from collections import Counter

from bot.core import Core
from bot.costcodes import bulk
from bot.costcodes.domain import State
from bot.review.suggest import division_of
from bot.store import db
from bot.store.models import CostCode

CODES = [
    ("03-100", None, State.READY),
    ("03-200", "", State.READY),
    ("03-300", "  ", State.READY),
    ("03-400", "Concrete", State.READY),
    ("04-100", " Concrete ", State.READY),  # the same division, as one person typed it
    ("0-5-1", None, State.READY),  # only the part before the first dash
    ("NODASH", None, State.READY),
    ("-LEAD", None, State.READY),  # an empty part before the dash
    ("09-100", None, State.SUCCESS),  # not Ready: not counted
    ("10-100", "Specialties", State.REJECTED),
]


async def test_divisions_counts_ready_codes_as_division_of_names_each(services: Core) -> None:
    async with db.session_scope(services.sessions) as session:
        for code, division, state in CODES:
            session.add(CostCode(code=code, description=code, division=division, state=state))
    async with services.sessions() as session:
        counted = await bulk.divisions(session)
    expected = Counter(division_of(c, d) for c, d, state in CODES if state is State.READY)
    assert counted == sorted(expected.items())
    assert counted == [("", 1), ("0", 1), ("03", 3), ("Concrete", 2), ("NODASH", 1)]
