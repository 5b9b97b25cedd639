from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import select

from bot.core import Core
from bot.costcodes import rows, statemachine
from bot.costcodes.domain import State, Surface
from bot.errors import ConflictError, InvalidTransition
from bot.store import db
from bot.store.models import AuditEvent, CostCode


async def _add(services: Core, code: str = "03-300", state: State = State.READY) -> CostCode:
    async with db.session_scope(services.sessions) as session:
        row = CostCode(code=code, description="Cast-in-place concrete", state=state.value)
        session.add(row)
    return row


async def _fresh(services: Core, code_id: int) -> CostCode:
    async with services.sessions() as session:
        return await statemachine.get_code(session, code_id)


async def test_transition_writes_state_version_and_audit(services: Core) -> None:
    row = await _add(services)
    async with db.session_scope(services.sessions) as session:
        code = await statemachine.get_code(session, row.id or 0)
        await statemachine.transition(
            session, code=code, target=State.QUEUED, actor="U1", surface=Surface.SLACK
        )
    stored = await _fresh(services, row.id or 0)
    assert (stored.state, stored.version, stored.updated_by) == ("queued", 2, "U1")
    async with services.sessions() as session:
        (event,) = (await session.exec(select(AuditEvent))).all()
    assert (event.actor, event.surface, event.action, event.code) == (
        "U1",
        "slack",
        "export",
        "03-300",
    )
    assert json.loads(event.before or "") == {"state": "ready"}
    assert json.loads(event.after or "") == {"state": "queued"}


async def test_the_compare_and_set_is_the_only_write_of_the_code(services: Core) -> None:
    row = await _add(services)
    async with db.session_scope(services.sessions) as session:
        code = await statemachine.get_code(session, row.id or 0)
        await statemachine.edit(
            session,
            code=code,
            changes={"division": "03"},
            actor="U1",
            surface=Surface.SLACK,
            action="edit",
        )
        # The object shows what was written, and the ORM has nothing left to write again.
        assert (code.division, code.version, code.updated_by) == ("03", 2, "U1")
        assert code not in session.dirty
    stored = await _fresh(services, row.id or 0)
    assert (stored.division, stored.version) == ("03", 2)


async def test_unknown_transition_is_refused_and_nothing_written(services: Core) -> None:
    row = await _add(services, state=State.SUCCESS)
    async with db.session_scope(services.sessions) as session:
        code = await statemachine.get_code(session, row.id or 0)
        with pytest.raises(InvalidTransition, match="success cannot become rejected"):
            await statemachine.transition(
                session, code=code, target=State.REJECTED, actor="U1", surface=Surface.SLACK
            )
    assert (await _fresh(services, row.id or 0)).version == 1


async def test_stale_copy_gets_a_conflict(services: Core) -> None:
    row = await _add(services)
    stale = await _fresh(services, row.id or 0)
    async with db.session_scope(services.sessions) as session:
        current = await statemachine.get_code(session, row.id or 0)
        await statemachine.edit(
            session,
            code=current,
            changes={"description": "Poured concrete"},
            actor="U1",
            surface=Surface.SLACK,
            action="update",
        )
    with pytest.raises(ConflictError, match="changed by someone else"):
        async with db.session_scope(services.sessions) as session:
            await statemachine.transition(
                session, code=stale, target=State.REJECTED, actor="U2", surface=Surface.SLACK
            )
    stored = await _fresh(services, row.id or 0)
    assert (stored.state, stored.description, stored.version) == ("ready", "Poured concrete", 2)


async def test_concurrent_reject_and_export_exactly_one_wins(services: Core) -> None:
    row = await _add(services)
    first = await _fresh(services, row.id or 0)
    second = await _fresh(services, row.id or 0)

    async def attempt(code: CostCode, target: State, actor: str) -> str:
        try:
            async with db.session_scope(services.sessions) as session:
                await statemachine.transition(
                    session, code=code, target=target, actor=actor, surface=Surface.SLACK
                )
                await asyncio.sleep(0.05)  # hold the transaction open while the other one runs
        except ConflictError:
            return "conflict"
        return "won"

    results = await asyncio.gather(
        attempt(first, State.REJECTED, "U1"), attempt(second, State.QUEUED, "U2")
    )
    assert sorted(results) == ["conflict", "won"]
    stored = await _fresh(services, row.id or 0)
    assert stored.version == 2
    assert stored.state == ("rejected" if results[0] == "won" else "queued")
    async with services.sessions() as session:
        events = (await session.exec(select(AuditEvent))).all()
    assert len(events) == 1


async def test_transition_many_skips_codes_moved_by_someone_else(services: Core) -> None:
    rows = [await _add(services, code=f"03-{n}00") for n in range(1, 4)]
    ids = [row.id or 0 for row in rows]
    async with db.session_scope(services.sessions) as session:
        await statemachine.transition(
            session,
            code=await statemachine.get_code(session, ids[0]),
            target=State.QUEUED,
            actor="U1",
            surface=Surface.SLACK,
        )
    async with db.session_scope(services.sessions) as session:
        moved = await statemachine.transition_many(
            session,
            ids=ids,
            source=State.READY,
            target=State.REJECTED,
            actor="U2",
            surface=Surface.SLACK,
        )
    assert sorted(code for _, code in moved) == ["03-200", "03-300"]
    assert (await _fresh(services, ids[0])).state == "queued"
    assert (await _fresh(services, ids[1])).version == 2


async def test_edit_refuses_codes_on_their_way_to_quickbooks(services: Core) -> None:
    row = await _add(services, state=State.EXPORTING)
    async with db.session_scope(services.sessions) as session:
        code = await statemachine.get_code(session, row.id or 0)
        with pytest.raises(InvalidTransition, match="can no longer be changed"):
            await statemachine.edit(
                session,
                code=code,
                changes={"description": "x"},
                actor="U1",
                surface=Surface.SLACK,
                action="update",
            )


async def _exporting(services: Core, count: int) -> list[int]:
    rows = [await _add(services, f"05-{n:03d}", State.EXPORTING) for n in range(count)]
    return [row.id or 0 for row in rows]


async def test_transition_each_writes_each_codes_own_values_and_audits_them(
    services: Core,
) -> None:
    ids = await _exporting(services, 3)
    async with db.session_scope(services.sessions) as session:
        codes = await rows.lock(session, ids)
        moves = [
            (codes[0], {"qb_list_id": "L-0", "needs_lookup": False, "last_error": None}),
            (codes[1], {"qb_list_id": "L-1", "needs_lookup": False, "last_error": None}),
            (codes[2], {"qb_list_id": "L-2"}),  # another set of columns: its own statement
        ]
        moved = await statemachine.transition_each(
            session, moves=moves, target=State.SUCCESS, actor="wc", surface=Surface.WEB_CONNECTOR
        )
        # The rows as written, without a read after the write.
        assert [(c.id, c.state, c.version) for c in moved] == [(i, "success", 2) for i in ids]
    stored = [await _fresh(services, code_id) for code_id in ids]
    assert [(c.state, c.qb_list_id, c.version, c.updated_by) for c in stored] == [
        ("success", f"L-{n}", 2, "wc") for n in range(3)
    ]
    async with services.sessions() as session:
        events = (await session.exec(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert [(e.action, e.cost_code_id) for e in events] == [("succeed", i) for i in ids]
    assert json.loads(events[2].after or "") == {"state": "success", "qb_list_id": "L-2"}


async def test_transition_each_rolls_back_when_a_code_changed_since_it_was_read(
    services: Core,
) -> None:
    ids = await _exporting(services, 2)
    async with db.session_scope(services.sessions) as session:
        stale = (await rows.lock(session, [ids[1]]))[0]
    async with db.session_scope(services.sessions) as session:
        current = await statemachine.get_code(session, ids[1])
        await statemachine.transition(
            session, code=current, target=State.FAILED, actor="U1", surface=Surface.SLACK
        )
    with pytest.raises(ConflictError, match="1 of 2 codes changed"):
        async with db.session_scope(services.sessions) as session:
            (first,) = await rows.lock(session, [ids[0]])
            await statemachine.transition_each(
                session,
                moves=[(first, {"qb_list_id": "L-0"}), (stale, {"qb_list_id": "L-1"})],
                target=State.SUCCESS,
                actor="wc",
                surface=Surface.WEB_CONNECTOR,
            )
    stored = [await _fresh(services, code_id) for code_id in ids]
    assert [(c.state, c.qb_list_id) for c in stored] == [("exporting", None), ("failed", None)]


async def test_a_code_read_locked_for_transition_each_waits_out_another_writer(
    services: Core,
) -> None:
    """The contract transition_each relies on: while one transaction holds a code read with
    `rows.lock`, another's compare-and-set on it waits, then loses."""
    (code_id,) = await _exporting(services, 1)
    stale = await _fresh(services, code_id)  # read before the answer locks it
    order: list[str] = []

    async def answer() -> None:
        async with db.session_scope(services.sessions) as session:
            (code,) = await rows.lock(session, [code_id])
            await asyncio.sleep(0.2)  # the other writer tries meanwhile
            await statemachine.transition_each(
                session,
                moves=[(code, {"qb_list_id": "L-9"})],
                target=State.SUCCESS,
                actor="wc",
                surface=Surface.WEB_CONNECTOR,
            )
            order.append("answer")

    async def other() -> str:
        await asyncio.sleep(0.05)
        try:
            async with db.session_scope(services.sessions) as session:
                await statemachine.transition(
                    session, code=stale, target=State.FAILED, actor="U1", surface=Surface.SLACK
                )
        except ConflictError:
            return "lost"
        finally:
            order.append("other")
        return "won"

    _, outcome = await asyncio.gather(answer(), other())
    assert (order, outcome) == (["answer", "other"], "lost")
    stored = await _fresh(services, code_id)
    assert (stored.state, stored.qb_list_id, stored.version) == ("success", "L-9", 2)


async def test_transition_selected_moves_at_most_what_the_select_limits(services: Core) -> None:
    ids = [(await _add(services, f"06-{n:03d}", State.QUEUED)).id for n in range(150)]
    selected = (
        select(CostCode.id)
        .where(CostCode.state == State.QUEUED.value)
        .order_by(CostCode.id)  # type: ignore[arg-type]
        .limit(100)
    )
    async with db.session_scope(services.sessions) as session:
        moved = await statemachine.transition_selected(
            session,
            selected=selected,
            source=State.QUEUED,
            target=State.EXPORTING,
            actor="wc",
            surface=Surface.WEB_CONNECTOR,
            changes={"needs_lookup": True},
            detail="sent to QuickBooks",
        )
        # The rows as written (one statement: no read after the write).
        assert [(c.id, c.state, c.version) for c in moved] == [
            (code_id, "exporting", 2) for code_id in ids[:100]
        ]
    async with services.sessions() as session:
        states = (await session.exec(select(CostCode.state))).all()
        events = (await session.exec(select(AuditEvent))).all()
    assert sorted(states).count("exporting") == 100 and states.count("queued") == 50
    assert {(e.action, e.detail) for e in events} == {("send", "sent to QuickBooks")}
    assert len(events) == 100
