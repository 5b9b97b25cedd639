"""Picks made at the same moment: one transaction, each pick judged and answered on its own."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select

from bot.accounts.chart import Purpose
from bot.core import Core
from bot.costcodes.domain import ListAt, ListFilter
from bot.errors import ConflictError, NotFound
from bot.review import listing
from bot.review.picks import AccountPick
from bot.review.picksave import PickSaver, Untracked
from bot.store import db
from bot.store.models import AuditEvent, CostCode, GLAccount, PostedMessage
from tests.conftest import FakeClock
from tests.statements import statements_sent

AT = ListAt(channel="C1", ts="1.000001", list_filter=ListFilter.READY, page=0)


async def _setup(services: Core, clock: FakeClock) -> tuple[list[int], list[int], int]:
    async with db.session_scope(services.sessions) as session:
        accounts = [
            GLAccount(list_id=f"L{n}", name=f"A{n}", full_name=f"A{n}", account_type="Income")
            for n in range(3)
        ]
        codes = [CostCode(code=f"03-{n}00", description="Concrete") for n in range(4)]
        session.add_all([*accounts, *codes])
    async with db.session_scope(services.sessions) as session:
        copy = await listing.find_or_adopt(session, AT, clock())
        copy.shown = "," + ",".join(str(c.id) for c in codes) + ","
    return [a.id or 0 for a in accounts], [c.id or 0 for c in codes], copy.id or 0


def _pick(code_id: int, purpose: Purpose, account: int | None, seen: int | None = None) -> Any:
    return AccountPick(AT, code_id, 1, purpose, account, seen_account_id=seen)


async def test_picks_at_the_same_moment_share_one_transaction_and_each_gets_its_answer(
    services: Core, clock: FakeClock
) -> None:
    (a0, a1, a2), (c0, c1, c2, c3), copy = await _setup(services, clock)
    async with db.session_scope(services.sessions) as session:  # someone picked c2 just before
        code = await session.get(CostCode, c2)
        assert code is not None
        code.income_account_id, code.version = a2, 2
    saver = PickSaver(services.sessions)
    picks = [
        ("U1", _pick(c0, Purpose.INCOME, a0)),
        ("U2", _pick(c0, Purpose.EXPENSE, a1)),  # same row: no conflict
        ("U3", _pick(c1, Purpose.INCOME, a1)),
        ("U4", _pick(c2, Purpose.INCOME, a0)),  # a stale copy of c2
        ("U5", _pick(c3, Purpose.EXPENSE, None)),  # already so
    ]
    with statements_sent(services.engine.sync_engine) as sent:
        outcomes = await asyncio.gather(
            *(saver.save(actor, pick, clock()) for actor, pick in picks),
            return_exceptions=True,
        )
    reads = [sql for sql in sent if sql.startswith("SELECT")]

    assert outcomes[:3] == [copy, copy, copy] and outcomes[4] is None
    assert isinstance(outcomes[3], ConflictError) and "03-200 was changed" in str(outcomes[3])
    # Five picks, one transaction, and in it one read of the codes and one of the accounts and
    # copies (PostgreSQL locks the copies it marks inside the marking UPDATE).
    tables = [[part.split()[0] for part in sql.split("FROM ")[1:]] for sql in reads]
    assert tables == [["cost_code"], ["gl_account", "posted_message"]]
    async with services.sessions() as session:
        stored = {c.id: c for c in (await session.exec(select(CostCode))).all()}
        events = (await session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))).all()
        marked = await session.get(PostedMessage, copy)
    assert (stored[c0].income_account_id, stored[c0].expense_account_id) == (a0, a1)
    assert (stored[c0].version, stored[c0].updated_by) == (3, "U2")  # two picks, two versions
    assert (stored[c1].income_account_id, stored[c1].version) == (a1, 2)
    assert (stored[c2].income_account_id, stored[c2].version) == (a2, 2)  # the conflict: untouched
    assert stored[c3].version == 1
    assert [(e.actor, e.action, e.cost_code_id) for e in events] == [
        ("U1", "pick income", c0),
        ("U2", "pick expense", c0),
        ("U3", "pick income", c1),
    ]
    assert json.loads(events[1].before or "") == {"expense_account_id": None}
    assert json.loads(events[1].after or "") == {"expense_account_id": a1}
    assert marked is not None and marked.dirty and marked.urgent
    assert marked.last_change_by == "U3"


async def test_picks_arriving_while_a_transaction_runs_are_saved_in_the_next(
    services: Core, clock: FakeClock
) -> None:
    (a0, a1, _), (c0, c1, _, _), copy = await _setup(services, clock)
    saver = PickSaver(services.sessions)
    first = asyncio.ensure_future(saver.save("U1", _pick(c0, Purpose.INCOME, a0), clock()))
    await asyncio.sleep(0)  # the first is on its way to the writer
    later = await saver.save("U2", _pick(c1, Purpose.INCOME, a1), clock())
    assert (await first, later) == (copy, copy)
    async with services.sessions() as session:
        stored = {c.id: c.income_account_id for c in (await session.exec(select(CostCode))).all()}
    assert (stored[c0], stored[c1]) == (a0, a1)


async def test_a_failed_transaction_saves_none_of_its_picks_and_tells_each(
    services: Core, clock: FakeClock
) -> None:
    (a0, a1, _), (c0, c1, _, _), copy = await _setup(services, clock)

    def refuse(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if sql.startswith("INSERT INTO audit_event"):
            raise RuntimeError("disk full")

    saver = PickSaver(services.sessions)
    event.listen(services.engine.sync_engine, "before_cursor_execute", refuse)
    try:
        outcomes = await asyncio.gather(
            saver.save("U1", _pick(c0, Purpose.INCOME, a0), clock()),
            saver.save("U2", _pick(c1, Purpose.INCOME, a1), clock()),
            return_exceptions=True,
        )
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", refuse)
    assert all(
        isinstance(outcome, Exception) and "disk full" in str(outcome) for outcome in outcomes
    )
    async with services.sessions() as session:
        stored = (await session.exec(select(CostCode))).all()
    assert {(c.income_account_id, c.version) for c in stored} == {(None, 1)}
    assert saver._saving is None  # ready for the next picks
    assert await saver.save("U1", _pick(c0, Purpose.INCOME, a0), clock())


async def test_when_the_database_cannot_be_reached_the_waiting_picks_fail_and_nothing_spins(
    services: Core, clock: FakeClock
) -> None:
    (a0, _, _), (c0, _, _, _), copy = await _setup(services, clock)
    tries: list[int] = []

    class Unreachable:
        """A session factory whose database is down."""

        kw: dict[str, Any] = {}

        def __call__(self) -> Any:
            tries.append(1)
            raise ConnectionError("database unreachable")

    saver = PickSaver(Unreachable())  # type: ignore[arg-type]
    outcome = await asyncio.wait_for(
        asyncio.gather(
            saver.save("U1", _pick(c0, Purpose.INCOME, a0), clock()),
            return_exceptions=True,
        ),
        timeout=5,
    )
    assert isinstance(outcome[0], ConnectionError)
    assert len(tries) == 1 and saver._saving is None


async def test_an_account_refused_or_a_copy_not_kept_stops_only_that_pick(
    services: Core, clock: FakeClock
) -> None:
    (a0, a1, a2), (c0, c1, c2, c3), copy = await _setup(services, clock)
    async with db.session_scope(services.sessions) as session:
        account = await session.get(GLAccount, a2)
        assert account is not None
        account.active = False  # a chart sync made it inactive
    elsewhere = ListAt(channel="C1", ts="9.999999", list_filter=ListFilter.READY, page=0)
    saver = PickSaver(services.sessions)
    outcomes = await asyncio.gather(
        saver.save("U1", _pick(c0, Purpose.INCOME, a2), clock()),  # inactive account
        saver.save("U2", _pick(c1, Purpose.INCOME, 999_999), clock()),  # not in the chart
        saver.save("U3", AccountPick(elsewhere, c2, 1, Purpose.INCOME, a0), clock()),
        saver.save("U4", _pick(999_999, Purpose.INCOME, a0), clock()),  # the code is gone
        saver.save("U5", _pick(c3, Purpose.INCOME, a1), clock()),
        return_exceptions=True,
    )

    for refused in outcomes[:2]:
        assert isinstance(refused, NotFound) and "no longer in QuickBooks" in str(refused)
    assert outcomes[2] is Untracked.COPY  # saved on its own by the caller, which adopts the copy
    assert isinstance(outcomes[3], NotFound) and "cost code no longer exists" in str(outcomes[3])
    assert outcomes[4] == copy
    async with services.sessions() as session:
        stored = {c.id: c for c in (await session.exec(select(CostCode))).all()}
        events = (await session.exec(select(AuditEvent))).all()
        copies = (await session.exec(select(PostedMessage))).all()
    assert [(c.income_account_id, c.version) for c in (stored[c0], stored[c1], stored[c2])] == [
        (None, 1)
    ] * 3
    assert (stored[c3].income_account_id, stored[c3].version) == (a1, 2)
    assert [(e.actor, e.cost_code_id) for e in events] == [("U5", c3)]
    assert [c.ts for c in copies] == [AT.ts]  # the copy not kept was not adopted here
