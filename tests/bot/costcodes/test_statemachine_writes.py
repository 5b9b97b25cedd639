"""A cost code's state is written only by the state machine's moves, from its first insert on."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core import Core
from bot.costcodes import rows, statemachine
from bot.costcodes.domain import State, Surface
from bot.store import db
from bot.store.models import AuditEvent, CostCode
from tests.conftest import FakeClock

SNEAKY = {"state": State.SUCCESS.value, "description": "changed"}


async def _created(services: Core) -> CostCode:
    async with db.session_scope(services.sessions) as session:
        ((code_id, _),) = await statemachine.create(
            session,
            rows=[{"code": "03-300", "description": "Concrete", "source": "test"}],
            actor="cli:test",
            surface=Surface.CLI,
            detail="test",
        )
        return await statemachine.get_code(session, code_id)


async def test_a_new_code_is_ready_audited_and_stamped_by_the_clock(
    services: Core, clock: FakeClock
) -> None:
    code = await _created(services)
    assert (code.state, code.version, code.updated_by) == ("ready", 1, "cli:test")
    assert code.created_at == code.updated_at == clock()
    async with services.sessions() as session:
        (event,) = (await session.exec(select(AuditEvent))).all()
    assert (event.action, event.code, event.detail, event.at) == (
        "import",
        "03-300",
        "test",
        clock(),
    )
    assert json.loads(event.after or "") == {"state": "ready"}


async def test_a_new_code_cannot_be_given_another_first_state(services: Core) -> None:
    with pytest.raises(ValueError, match="never through `changes`"):
        async with db.session_scope(services.sessions) as session:
            await statemachine.create(
                session,
                rows=[{"code": "03-300", "description": "Concrete", **SNEAKY}],
                actor="cli:test",
                surface=Surface.CLI,
            )
    async with services.sessions() as session:
        assert (await session.exec(select(CostCode))).all() == []


Move = Callable[[AsyncSession, CostCode], Awaitable[object]]
MOVES: dict[str, Move] = {
    "transition": lambda s, code: statemachine.transition(
        s, code=code, target=State.QUEUED, actor="U1", surface=Surface.SLACK, changes=SNEAKY
    ),
    "edit": lambda s, code: statemachine.edit(
        s, code=code, changes=SNEAKY, actor="U1", surface=Surface.SLACK, action="edit"
    ),
    "transition_many": lambda s, code: statemachine.transition_many(
        s,
        ids=[code.id or 0],
        source=State.READY,
        target=State.QUEUED,
        actor="U1",
        surface=Surface.SLACK,
        changes=SNEAKY,
    ),
    "transition_each": lambda s, code: _each(s, code),
}


async def _each(session: AsyncSession, code: CostCode) -> object:
    (row,) = await rows.lock(session, [code.id or 0])
    return await statemachine.transition_each(
        session, moves=[(row, SNEAKY)], target=State.QUEUED, actor="U1", surface=Surface.SLACK
    )


@pytest.mark.parametrize("move", sorted(MOVES))
async def test_changes_may_not_carry_a_state(services: Core, move: str) -> None:
    created = await _created(services)
    with pytest.raises(ValueError, match="never through `changes`"):
        async with db.session_scope(services.sessions) as session:
            code = await statemachine.get_code(session, created.id or 0)
            await MOVES[move](session, code)
    async with services.sessions() as session:
        stored = await statemachine.get_code(session, created.id or 0)
        events = (await session.exec(select(AuditEvent.action))).all()
    assert (stored.state, stored.description, stored.version) == ("ready", "Concrete", 1)
    assert events == ["import"]
