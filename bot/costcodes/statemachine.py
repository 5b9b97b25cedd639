"""The one state machine for cost codes: every change is a compare-and-set on the row, audited.

Nothing here reads a row, awaits, and writes it back: each write names the version (or the state)
it expects in its WHERE clause, so two processes racing on one code cannot both win. It is also
the only writer of `state`, from a code's first insert on, and every time it stamps comes from
the session's clock (`db.now`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, bindparam, func, insert, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.costcodes.domain import State, Surface
from bot.costcodes.rows import COLUMNS, TABLE, CodeRow
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


_AUDIT_JSON = json.JSONEncoder(default=str, sort_keys=True)
"""json.dumps(..., default=str, sort_keys=True) without a new encoder for each of the 200 audit
values of a Web Connector answer."""


def _jsonable(values: Mapping[str, Any]) -> str:
    return _AUDIT_JSON.encode(dict(values))


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
    conn = await session.connection()
    result = await conn.execute(insert(TABLE).returning(TABLE.c.id, TABLE.c.code), values)
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
    _editable(code, changes)
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


@dataclass(frozen=True, slots=True)
class Edit:
    """One `edit` of several made together by `edit_each`."""

    code: CostCode
    changes: Mapping[str, Any]
    actor: str
    action: str


async def edit_each(session: AsyncSession, edits: Sequence[Edit], *, surface: Surface) -> None:
    """`edit` for several at once, in order (one code may be edited twice): one compare-and-set
    executemany and one audit insert, whatever their number.

    For SQLite, where picks made at the same moment are saved in one transaction (bot.review.
    picksave): the codes were read in it, under the write lock. Each edit's code object shows it
    afterwards, as `edit` leaves it; a row that changed anyway rolls the whole transaction back.
    """
    now = db.now(session)
    read: dict[int, int] = {}  # code id -> version as read, before the first of its edits
    audits: list[dict[str, Any]] = []
    for edit in edits:
        code = edit.code
        _editable(code, edit.changes)
        assert code.id is not None
        read.setdefault(code.id, code.version)
        before = {key: getattr(code, key) for key in edit.changes}
        written = {**edit.changes, "version": code.version + 1}
        for key, value in {**written, "updated_at": now, "updated_by": edit.actor}.items():
            set_committed_value(code, key, value)
        audits.append(
            _audit_row(
                now,
                edit.actor,
                surface,
                edit.action,
                code.id,
                code.code,
                _jsonable(before),
                _jsonable(edit.changes),
            )
        )
    if not edits:
        return
    codes = {edit.code.id: edit.code for edit in edits}
    columns = [*sorted({key for edit in edits for key in edit.changes}), "version", "updated_by"]
    rows = [
        (code_id, version, {key: getattr(codes[code_id], key) for key in columns})
        for code_id, version in read.items()
    ]
    await _update_each(session, rows, columns, {"updated_at": now})
    await _insert_audits(session, audits)


def _editable(code: CostCode, changes: Mapping[str, Any]) -> None:
    _without_state(changes)
    if State(code.state) not in EDITABLE:
        raise InvalidTransition(
            f"{code.code} is {State(code.state).value} and can no longer be changed"
        )


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


async def transition_selected(
    session: AsyncSession,
    *,
    selected: Select[Any],
    params: Mapping[str, Any] | None = None,
    source: State,
    target: State,
    actor: str,
    surface: Surface,
    changes: Mapping[str, Any] | None = None,
    detail: str | None = None,
) -> list[CodeRow]:
    """Move the codes `selected` (a SELECT of ids, with its order and limit, and its bound
    `params`) that are in `source` and not locked by another transaction; returns them as
    written. One statement: the Web Connector's claim of its next 100 codes reads and moves them
    at once, and the moved rows come back (no second read of the same rows). The statement is
    built once for each `selected` (a caller's constant) and move.

    The compare-and-set is the read: it names `source`, and on PostgreSQL it locks the rows it
    picks (`FOR UPDATE SKIP LOCKED`, which checks the state again on the row it locks), so each
    is still in `source` when the UPDATE writes it; on SQLite the write transaction holds the
    whole database. The UPDATE then finds the rows by id alone: with the state in its WHERE
    too, PostgreSQL chose a scan of every queued code whenever its statistics were older than
    the queue (an export started a moment after the codes arrived), 12 ms instead of 2.
    """
    action = action_for(source, target)
    changed = _without_state(changes)
    statement = _selected_moved(
        selected, source, target, tuple(sorted(changed)), db.is_sqlite_session(session)
    )
    bound = {
        **(params or {}),
        **{f"v_{key}": value for key, value in changed.items()},
        "now": db.now(session),
        "actor": actor,
    }
    conn = await session.connection()
    moved = sorted(CodeRow(*row) for row in await conn.execute(statement, bound))
    await audit_many(
        session,
        actor=actor,
        surface=surface,
        action=action,
        codes=[(code.id, code.code) for code in moved],
        before={"state": source.value},
        after={**changed, "state": target.value},
        detail=detail,
    )
    return moved


@functools.lru_cache(maxsize=16)
def _selected_moved(
    selected: Select[Any], source: State, target: State, columns: tuple[str, ...], sqlite: bool
) -> Executable:
    picked = selected.where(TABLE.c.state == source.value)
    if not sqlite:
        picked = picked.with_for_update(skip_locked=True)
    # A CTE, so PostgreSQL runs the SELECT (and its LIMIT, FOR UPDATE) once: as a plain IN
    # subquery its plan may rescan it and move more rows than the LIMIT.
    cte = picked.cte("picked")
    return (
        update(TABLE)
        .where(TABLE.c.id.in_(select(cte.c.id)))
        .values(
            {
                **{key: bindparam(f"v_{key}") for key in columns},
                "state": target.value,
                "version": TABLE.c.version + 1,
                "updated_at": bindparam("now"),
                "updated_by": bindparam("actor"),
            }
        )
        .returning(*COLUMNS)
    )


async def transition_each(
    session: AsyncSession,
    *,
    moves: Sequence[tuple[CodeRow, Mapping[str, Any]]],
    target: State,
    actor: str,
    surface: Surface,
) -> list[CodeRow]:
    """Move several codes, each as read (state and version) and with its own changes, to `target`.

    A Web Connector answer settles 100 codes: one compare-and-set (on each row's id and version,
    `_update_each`) per set of changed columns, and one audit insert. The caller read the codes
    in this transaction with their rows locked (`rows.lock`; on SQLite the write transaction
    holds the whole database), so the compare-and-set cannot lose; a miss anyway raises
    ConflictError and the transaction rolls back. Returns the codes as written (all of them).
    """
    moved: list[CodeRow] = []
    for start in range(0, len(moves), _CHUNK):
        moved.extend(
            await _move_chunk(session, moves[start : start + _CHUNK], target, actor, surface)
        )
    return moved


async def _move_chunk(
    session: AsyncSession,
    moves: Sequence[tuple[CodeRow, Mapping[str, Any]]],
    target: State,
    actor: str,
    surface: Surface,
) -> list[CodeRow]:
    if not moves:
        return []
    now = db.now(session)
    checked = [(code, _without_state(changes)) for code, changes in moves]
    actions = {code.id: action_for(State(code.state), target) for code, _ in checked}
    await _compare_and_set_each(session, checked, target, now=now, actor=actor)
    audits = [
        _audit_row(
            now,
            actor,
            surface,
            actions[code.id],
            code.id,
            code.code,
            _jsonable({"state": code.state}),
            _jsonable({"state": target.value, **changes}),
        )
        for code, changes in checked
    ]
    await _insert_audits(session, audits)
    return [
        code._replace(
            state=target.value,
            version=code.version + 1,
            **{key: value for key, value in changes.items() if key in _ROW_FIELDS},
        )
        for code, changes in checked
    ]


_ROW_FIELDS = frozenset(CodeRow._fields)


async def _compare_and_set_each(
    session: AsyncSession,
    moves: Sequence[tuple[CodeRow, Mapping[str, Any]]],
    target: State,
    *,
    now: datetime,
    actor: str,
) -> None:
    by_columns: dict[tuple[str, ...], list[tuple[int, int, Mapping[str, Any]]]] = {}
    for code, changes in moves:
        by_columns.setdefault(tuple(sorted(changes)), []).append((code.id, code.version, changes))
    same = {"state": target.value, "updated_at": now, "updated_by": actor}
    for columns, rows in by_columns.items():
        await _update_each(session, rows, columns, same, bump_version=True)


async def _update_each(
    session: AsyncSession,
    rows: Sequence[tuple[int, int, Mapping[str, Any]]],
    columns: Sequence[str],
    same: Mapping[str, Any],
    *,
    bump_version: bool = False,
) -> None:
    """One compiled compare-and-set for many codes: each row is (id, version as read, its own
    values of `columns`); `same` is written to all of them, and with `bump_version` the version
    goes up by one (else it is one of `columns`). If any code's version moved, nothing is saved.

    PostgreSQL gets one UPDATE joined to arrays of the rows' values (one statement, and its row
    count says whether every code was still as read); SQLite an executemany, whose row count it
    gives. asyncpg counts no executemany's rows, and the 100 executions took 1.3 ms longer.
    """
    shared = {f"s_{key}": value for key, value in same.items()}
    shape = (tuple(columns), tuple(same), bump_version)
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        arrays = {
            "a_b_id": [code_id for code_id, _, _ in rows],
            "a_b_version": [version for _, version, _ in rows],
            **{f"a_v_{k}": [values[k] for _, _, values in rows] for k in columns},
        }
        result = await conn.execute(_each_moved_arrays(*shape), {**arrays, **shared})
    else:
        params = [
            {"b_id": code_id, "b_version": version, **{f"v_{k}": values[k] for k in columns}}
            for code_id, version, values in rows
        ]
        result = await conn.execute(_each_moved(*shape), [{**p, **shared} for p in params])
    if result.rowcount != len(rows):
        raise ConflictError(
            f"{len(rows) - result.rowcount} of {len(rows)} codes changed while they were "
            "being saved; nothing was saved."
        )


def _each_values(
    own: Mapping[str, Any], same: tuple[str, ...], bump_version: bool
) -> dict[str, Any]:
    """The SET of `_update_each`: each row's `own` values, the `same` ones, the version."""
    values = {**own, **{key: bindparam(f"s_{key}") for key in same}}
    if bump_version:
        values["version"] = TABLE.c.version + 1
    return values


@functools.lru_cache(maxsize=64)
def _each_moved(columns: tuple[str, ...], same: tuple[str, ...], bump_version: bool) -> Executable:
    """The compare-and-set `_update_each` runs on SQLite, built once for each shape of change
    (a Web Connector answer runs one or two of them; building one cost more than running it)."""
    own: dict[str, Any] = {key: bindparam(f"v_{key}") for key in columns}
    return (
        update(TABLE)
        .where(TABLE.c.id == bindparam("b_id"), TABLE.c.version == bindparam("b_version"))
        .values(_each_values(own, same, bump_version))
    )


@functools.lru_cache(maxsize=64)
def _each_moved_arrays(
    columns: tuple[str, ...], same: tuple[str, ...], bump_version: bool
) -> Executable:
    """The same compare-and-set on PostgreSQL: the rows' values come as one array per column."""
    typed = {"b_id": TABLE.c.id.type, "b_version": TABLE.c.version.type}
    typed.update({f"v_{key}": TABLE.c[key].type for key in columns})
    arrays = (func.unnest(bindparam(f"a_{n}", type_=ARRAY(t))).label(n) for n, t in typed.items())
    given = select(*arrays).subquery("given")
    own = {key: given.c[f"v_{key}"] for key in columns}
    return (
        update(TABLE)
        .where(TABLE.c.id == given.c.b_id, TABLE.c.version == given.c.b_version)
        .values(_each_values(own, same, bump_version))
    )


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
    # A plain INSERT, not an ORM object left for the flush: a pick's save is this, the
    # compare-and-set and the copies' mark, and the unit of work cost more than the statement.
    row = _audit_row(
        db.now(session),
        actor,
        surface,
        action,
        code.id if code else None,
        code.code if code else None,
        _jsonable(before) if before is not None else None,
        _jsonable(after) if after is not None else None,
        detail,
    )
    await _insert_audits(session, [row])


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
        _audit_row(now, actor, surface, action, code_id, code, before_text, after_text, detail)
        for code_id, code in codes
    ]
    await _insert_audits(session, rows)


def _audit_row(
    at: datetime,
    actor: str,
    surface: Surface,
    action: str,
    code_id: int | None,
    code: str | None,
    before: str | None,
    after: str | None,
    detail: str | None = None,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor,
        "surface": surface.value,
        "action": action,
        "cost_code_id": code_id,
        "code": code,
        "before": before,
        "after": after,
        "detail": detail,
    }


async def _insert_audits(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Audit rows as plain INSERTs (one statement for all), never ORM objects left for the flush."""
    conn = await session.connection()
    await conn.execute(_AUDIT_INSERT, list(rows))


_AUDIT_INSERT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


async def get_code(session: AsyncSession, code_id: int) -> CostCode:
    found = await session.get(CostCode, code_id)
    if found is None:
        raise NotFound("That cost code no longer exists.")
    return found
