from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import select

from bot.core import Core
from bot.costcodes import statemachine
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
