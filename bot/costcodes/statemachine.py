"""The one state machine for cost codes: every change is a compare-and-set on the row, audited.

Nothing here reads a row, awaits, and writes it back: each write names the version (or the state)
it expects in its WHERE clause, so two processes racing on one code cannot both win. It is also
the only writer of `state`, from a code's first insert on, and every time it stamps comes from
the session's clock (`db.now`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import case, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.costcodes.domain import State, Surface
from bot.errors import ConflictError, InvalidTransition, NotFound
from bot.store import db
from bot.store.models import AuditEvent, CostCode

# (from, to) -> the action recorded in the audit log.
TRANSITIONS: dict[tuple[State, State], str] = {
    (State.READY, State.QUEUED): "export",
    (State.READY, State.REJECTED): "reject",
    (State.REJECTED, State.READY): "resend",
    (State.QUEUED, State.EXPORTING): "send",
    (State.QUEUED, State.READY): "unqueue",
    (State.QUEUED, State.FAILED): "fail",
    (State.EXPORTING, State.SUCCESS): "succeed",
    (State.EXPORTING, State.FAILED): "fail",
    (State.EXPORTING, State.QUEUED): "requeue",
    (State.FAILED, State.QUEUED): "retry",
    (State.FAILED, State.READY): "reopen",
}

EDITABLE = frozenset({State.READY, State.FAILED})
"""States in which a code's accounts and description may change."""

_CHUNK = 500


def action_for(source: State, target: State) -> str:
    try:
        return TRANSITIONS[(source, target)]
    except KeyError:
        raise InvalidTransition(
            f"a code that is {source.value} cannot become {target.value}"
        ) from None


def _jsonable(values: Mapping[str, Any]) -> str:
    return json.dumps(dict(values), default=str, sort_keys=True)


def _without_state(changes: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """`changes` ride along with a move; a state in them would bypass TRANSITIONS."""
    if changes and "state" in changes:
        raise ValueError("a code's state changes only by its target, never through `changes`")
    return changes or {}


async def create(
    session: AsyncSession,
    *,
    rows: Sequence[Mapping[str, Any]],
    actor: str,
    surface: Surface,
    detail: str | None = None,
) -> list[tuple[int, str]]:
    """Insert new codes, each Ready to Export (a code's first state), audited as imported.

    Core executemany: one compiled statement for all rows, not one ORM object per row.
    Returns (id, code) of each.
    """
    if not rows:
        return []
    now = db.now(session)
    values = [
        {
            **_without_state(row),
            "state": State.READY.value,
            "version": 1,
            "updated_by": actor,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
    ]
    table = CostCode.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    result = await conn.execute(insert(table).returning(table.c.id, table.c.code), values)
    created = [(row.id, row.code) for row in result]
    await audit_many(
        session,
        actor=actor,
        surface=surface,
        action="import",
        codes=created,
        before=None,
        after={"state": State.READY.value},
        detail=detail,
    )
    return created


async def transition(
    session: AsyncSession,
    *,
    code: CostCode,
    target: State,
    actor: str,
    surface: Surface,
    changes: Mapping[str, Any] | None = None,
    detail: str | None = None,
) -> CostCode:
    """Move one code, as read (state and version), to `target`; ConflictError if it changed."""
    source = State(code.state)
    action = action_for(source, target)
    values = {**_without_state(changes), "state": target.value}
    await _compare_and_set(session, code=code, values=values, actor=actor)
    await audit(
        session,
        actor=actor,
        surface=surface,
        action=action,
        code=code,
        before={"state": source.value},
        after=values,
        detail=detail,
    )
    return code


async def edit(
    session: AsyncSession,
    *,
    code: CostCode,
    changes: Mapping[str, Any],
    actor: str,
    surface: Surface,
    action: str,
) -> CostCode:
    """Change fields of an editable code without changing its state (e.g. an account pick)."""
    _without_state(changes)
    if State(code.state) not in EDITABLE:
        raise InvalidTransition(
            f"{code.code} is {State(code.state).value} and can no longer be changed"
        )
    before = {key: getattr(code, key) for key in changes}
    await _compare_and_set(session, code=code, values=changes, actor=actor)
    await audit(
        session,
        actor=actor,
        surface=surface,
        action=action,
        code=code,
        before=before,
        after=changes,
    )
    return code


async def _compare_and_set(
    session: AsyncSession, *, code: CostCode, values: Mapping[str, Any], actor: str
) -> None:
    assert code.id is not None
    now = db.now(session)
    statement = (
        update(CostCode)
        .where(col(CostCode.id) == code.id, col(CostCode.version) == code.version)
        .values(**values, version=code.version + 1, updated_at=now, updated_by=actor)
        .execution_options(synchronize_session=False)
    )
    result = await session.exec(statement)
    if result.rowcount != 1:
        raise ConflictError.changed(code.code)
    # The row is written: show the object as it now is without the ORM writing it a second time.
    written = {**values, "version": code.version + 1, "updated_at": now, "updated_by": actor}
    for key, value in written.items():
        set_committed_value(code, key, value)


async def transition_many(
    session: AsyncSession,
    *,
    ids: Iterable[int],
    source: State,
    target: State,
    actor: str,
    surface: Surface,
    changes: Mapping[str, Any] | None = None,
    detail: str | None = None,
) -> list[tuple[int, str]]:
    """Move every listed code that is still in `source` to `target`; returns (id, code) moved.

    The WHERE on the state is the compare-and-set: codes another process moved first are skipped,
    never overwritten.
    """
    action = action_for(source, target)
    values = {**_without_state(changes), "state": target.value}
    moved: list[tuple[int, str]] = []
    id_list = list(ids)
    now = db.now(session)
    for start in range(0, len(id_list), _CHUNK):
        chunk = id_list[start : start + _CHUNK]
        statement = (
            update(CostCode)
            .where(col(CostCode.id).in_(chunk), col(CostCode.state) == source.value)
            .values(
                **values,
                version=CostCode.version + 1,
                updated_at=now,
                updated_by=actor,
            )
            .returning(col(CostCode.id), col(CostCode.code))
            .execution_options(synchronize_session=False)
        )
        rows = (await session.exec(statement)).all()
        moved.extend((row[0], row[1]) for row in rows)
    await audit_many(
        session,
        actor=actor,
        surface=surface,
        action=action,
        codes=moved,
        before={"state": source.value},
        after=values,
        detail=detail,
    )
    return moved


async def transition_each(
    session: AsyncSession,
    *,
    moves: Sequence[tuple[CostCode, Mapping[str, Any]]],
    target: State,
    actor: str,
    surface: Surface,
) -> list[CostCode]:
    """Move several codes, each as read (state and version) and with its own changes, to `target`.

    One UPDATE a chunk instead of one a code (a Web Connector answer settles 100 codes): each
    row's values and expected version are CASE expressions on its id, so the compare-and-set is
    still per row. Codes another process changed first are skipped; returns the codes moved.
    """
    moved: list[CostCode] = []
    for start in range(0, len(moves), _CHUNK):
        moved.extend(
            await _move_chunk(session, moves[start : start + _CHUNK], target, actor, surface)
        )
    return moved


async def _move_chunk(
    session: AsyncSession,
    moves: Sequence[tuple[CostCode, Mapping[str, Any]]],
    target: State,
    actor: str,
    surface: Surface,
) -> list[CostCode]:
    if not moves:
        return []
    by_id = {code.id: (code, _without_state(changes)) for code, changes in moves}
    actions = {code.id: action_for(State(code.state), target) for code, _ in moves}
    keys = sorted({key for _, changes in moves for key in changes})
    ident = col(CostCode.id)
    values: dict[str, Any] = {
        key: case(
            {code.id: changes[key] for code, changes in moves if key in changes},
            value=ident,
            else_=getattr(CostCode, key),
        )
        for key in keys
    }
    now = db.now(session)
    expected = case({code.id: code.version for code, _ in moves}, value=ident)
    statement = (
        update(CostCode)
        .where(ident.in_(list(by_id)), col(CostCode.version) == expected)
        .values(
            **values,
            state=target.value,
            version=col(CostCode.version) + 1,
            updated_at=now,
            updated_by=actor,
        )
        .returning(ident)
        .execution_options(synchronize_session=False)
    )
    done = set((await session.exec(statement)).scalars().all())
    moved: list[CostCode] = []
    rows: list[dict[str, Any]] = []
    for code_id in done:
        code, changes = by_id[code_id]
        source = code.state
        written = {**changes, "state": target.value, "version": code.version + 1}
        for key, value in {**written, "updated_at": now, "updated_by": actor}.items():
            set_committed_value(code, key, value)
        moved.append(code)
        rows.append(
            {
                "at": now,
                "actor": actor,
                "surface": surface.value,
                "action": actions[code_id],
                "cost_code_id": code_id,
                "code": code.code,
                "before": _jsonable({"state": source}),
                "after": _jsonable({"state": target.value, **changes}),
                "detail": None,
            }
        )
    if rows:
        conn = await session.connection()
        await conn.execute(insert(AuditEvent.__table__), rows)  # type: ignore[attr-defined]
    return moved


async def audit(
    session: AsyncSession,
    *,
    actor: str,
    surface: Surface,
    action: str,
    code: CostCode | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        AuditEvent(
            at=db.now(session),
            actor=actor,
            surface=surface.value,
            action=action,
            cost_code_id=code.id if code else None,
            code=code.code if code else None,
            before=_jsonable(before) if before is not None else None,
            after=_jsonable(after) if after is not None else None,
            detail=detail,
        )
    )


async def audit_many(
    session: AsyncSession,
    *,
    actor: str,
    surface: Surface,
    action: str,
    codes: Sequence[tuple[int, str]],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    detail: str | None = None,
) -> None:
    if not codes:
        return
    now = db.now(session)
    before_text = _jsonable(before) if before is not None else None
    after_text = _jsonable(after) if after is not None else None
    rows = [
        {
            "at": now,
            "actor": actor,
            "surface": surface.value,
            "action": action,
            "cost_code_id": code_id,
            "code": code,
            "before": before_text,
            "after": after_text,
            "detail": detail,
        }
        for code_id, code in codes
    ]
    conn = await session.connection()
    await conn.execute(insert(AuditEvent.__table__), rows)  # type: ignore[attr-defined]


async def get_code(session: AsyncSession, code_id: int) -> CostCode:
    found = await session.get(CostCode, code_id)
    if found is None:
        raise NotFound("That cost code no longer exists.")
    return found
