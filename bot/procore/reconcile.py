"""Procore's list brought in through the import's rules, compared with what was last seen.

Only codes that differ from the mirror (`procore_code`) are applied, so a second run changes
nothing, and a code someone rejected in Slack stays rejected until Procore changes it. Divisions
(codes that are parents of others) are never cost codes: they name their children's division.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.costcodes import intake, rules, statemachine
from bot.costcodes.domain import State, Surface
from bot.procore.source import SourceCode
from bot.store.models import CostCode, ProcoreCode

log = logging.getLogger(__name__)

ACTOR = "procore"
SURFACE = Surface.PROCORE
SOURCE = "procore"
DELETED = "deleted in Procore"
BECAME_DIVISION = "is a division in Procore (it has codes under it), not a cost code"
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Item:
    """A Procore code with what its place in the tree means for it."""

    code: SourceCode
    division: str | None
    is_division: bool


@dataclass(slots=True)
class ReconcileReport:
    read: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    """Taken out of Ready to Export (deleted in Procore, or a division now)."""
    after_export: list[str] = field(default_factory=list)
    """Changed or deleted in Procore after export: recorded, QuickBooks untouched."""
    refused: list[tuple[str, str]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.resent or self.removed or self.after_export)

    def words(self) -> str:
        parts = [
            f"{self.read} read",
            f"{len(self.added)} new",
            f"{len(self.updated)} updated",
            f"{len(self.resent)} re-sent",
            f"{len(self.removed)} taken out of Ready to Export",
            f"{len(self.after_export)} changed after export",
            f"{len(self.refused)} held back",
        ]
        return ", ".join(parts)


def division_name(parent: SourceCode) -> str:
    return rules.normalise(parent.name) or rules.normalise(parent.full_code)


def items_from(codes: Sequence[SourceCode]) -> list[Item]:
    """Every code of a full read, with its division and whether it is one."""
    by_id = {code.id: code for code in codes}
    parents = {code.parent_id for code in codes if code.parent_id is not None}
    items = []
    for code in codes:
        parent = by_id.get(code.parent_id) if code.parent_id is not None else None
        items.append(Item(code, division_name(parent) if parent else None, code.id in parents))
    return items


async def mirror_rows(session: AsyncSession, ids: Iterable[int]) -> dict[int, ProcoreCode]:
    found: dict[int, ProcoreCode] = {}
    id_list = list(ids)
    for start in range(0, len(id_list), _CHUNK):
        chunk = id_list[start : start + _CHUNK]
        rows = (await session.exec(select(ProcoreCode).where(col(ProcoreCode.id).in_(chunk)))).all()
        found.update((row.id, row) for row in rows)
    return found


def _same(row: ProcoreCode | None, item: Item) -> bool:
    # A held-back code is looked at again every time: what held it back may have gone away.
    return (
        row is not None
        and not row.deleted
        and row.problem is None
        and (
            row.full_code,
            row.name,
            row.division,
            row.is_division,
            row.parent_id,
        )
        == (
            item.code.full_code,
            item.code.name,
            item.division,
            item.is_division,
            item.code.parent_id,
        )
    )


async def apply_items(
    session: AsyncSession, items: Sequence[Item], report: ReconcileReport, now: datetime
) -> None:
    """Apply every item that differs from the mirror, then remember what was seen."""
    mirror = await mirror_rows(session, (item.code.id for item in items))
    changed = [item for item in items if not _same(mirror.get(item.code.id), item)]
    report.unchanged += len(items) - len(changed)
    problems: dict[int, str | None] = {}
    for item in changed:
        if item.is_division:
            await take_out(session, item.code.id, BECAME_DIVISION, report)
            problems[item.code.id] = None
    leaves = [item for item in changed if not item.is_division]
    records = (
        (index, {"code": it.code.full_code, "description": it.code.name, "division": it.division})
        for index, it in enumerate(leaves)
    )
    rows, refused = intake.check_rows(records, unit="entry")
    for problem in refused:
        item = leaves[problem.line]
        problems[item.code.id] = problem.reason
        report.refused.append((problem.code or item.code.full_code, problem.reason))
    for row in rows:
        item = leaves[row.line]
        held = await _apply_leaf(session, item, row, report)
        problems[item.code.id] = held
        if held:
            report.refused.append((row.code, held))
    for item in changed:
        await _remember(session, mirror.get(item.code.id), item, problems.get(item.code.id), now)


async def _remember(
    session: AsyncSession, row: ProcoreCode | None, item: Item, problem: str | None, now: datetime
) -> None:
    if row is None:
        row = ProcoreCode(id=item.code.id, full_code="", name="")
    row.parent_id = item.code.parent_id
    row.full_code = item.code.full_code
    row.name = item.code.name
    row.division = item.division
    row.is_division = item.is_division
    row.deleted = False
    row.problem = problem
    row.updated_at = now
    session.add(row)


async def _find(session: AsyncSession, procore_id: int, code: str) -> CostCode | None:
    linked = (await session.exec(select(CostCode).where(CostCode.procore_id == procore_id))).first()
    if linked is not None:
        return linked
    return (await session.exec(select(CostCode).where(CostCode.code == code))).first()


async def _apply_leaf(
    session: AsyncSession, item: Item, row: intake.Row, report: ReconcileReport
) -> str | None:
    """Bring one checked code in; returns a reason when it has to be held back."""
    pid = item.code.id
    code = await _find(session, pid, row.code)
    if code is not None and code.procore_id not in (None, pid):
        earlier = await session.get(ProcoreCode, code.procore_id)
        if earlier is not None and not earlier.deleted:
            return f"another Procore code (id {code.procore_id}) already has the code {row.code}"
        # Deleted in Procore and made again under a new id: the same code, followed anew.
    if code is None:
        await intake.apply_rows(session, [row], actor=ACTOR, surface=SURFACE, source=SOURCE)
        await _link(session, row.code, pid)
        report.added.append(row.code)
        return None
    if code.code != row.code:
        taken = (await session.exec(select(CostCode.id).where(CostCode.code == row.code))).first()
        if taken is not None:
            return f"another cost code already has the code {row.code}"
    wanted = {"code": row.code, "description": row.description, "division": row.division}
    changes: dict[str, object] = {k: v for k, v in wanted.items() if getattr(code, k) != v}
    if code.procore_id != pid:
        changes.update(procore_id=pid, source=SOURCE)
    await _change(session, code, changes, pid, report)
    return None


async def _change(
    session: AsyncSession,
    code: CostCode,
    changes: dict[str, object],
    pid: int,
    report: ReconcileReport,
) -> None:
    """Apply what differs, as the code's state allows (as an import would)."""
    state = State(code.state)
    first_link = code.procore_id is None and set(changes) == {"procore_id", "source"}
    if not changes:
        report.unchanged += 1
    elif first_link and state is State.REJECTED:
        await _link(session, code.code, pid)  # someone rejected it; Procore changed nothing
        report.unchanged += 1
    elif state is State.REJECTED:
        await statemachine.transition(
            session, code=code, target=State.READY, actor=ACTOR, surface=SURFACE,
            changes=changes, detail="changed in Procore",
        )  # fmt: skip
        report.resent.append(code.code)
    elif state in statemachine.EDITABLE:
        await statemachine.edit(
            session, code=code, changes=changes, actor=ACTOR, surface=SURFACE, action="update"
        )
        report.updated.append(code.code)
    else:
        await _after_export(session, code, changes, report)


async def _after_export(
    session: AsyncSession, code: CostCode, changes: dict[str, object], report: ReconcileReport
) -> None:
    """Record the change; QuickBooks already holds the item (or is about to) and is untouched."""
    if "procore_id" in changes:
        await _link(session, code.code, int(str(changes.pop("procore_id"))), code.procore_id)
        changes.pop("source", None)
    if not changes:
        return
    done = State(code.state) is State.SUCCESS
    detail = "changed in Procore after export" if done else "changed in Procore during export"
    await statemachine.audit(
        session,
        actor=ACTOR,
        surface=SURFACE,
        action="procore change",
        code=code,
        before={key: getattr(code, key) for key in changes},
        after=changes,
        detail=f"{detail}; QuickBooks untouched",
    )
    report.after_export.append(code.code)


async def _link(
    session: AsyncSession, code: str, procore_id: int, replacing: int | None = None
) -> None:
    # Only changes the link it expects, so it needs no version: no one's edit is overwritten.
    expected = (
        col(CostCode.procore_id).is_(None)
        if replacing is None
        else col(CostCode.procore_id) == replacing
    )
    statement = (
        update(CostCode)
        .where(col(CostCode.code) == code, expected)
        .values(procore_id=procore_id, source=SOURCE)
        .execution_options(synchronize_session=False)
    )
    await session.exec(statement)


async def take_out(
    session: AsyncSession, procore_id: int, reason: str, report: ReconcileReport
) -> None:
    """Take the code out of Ready to Export (it stays, Rejected, for the record)."""
    code = (await session.exec(select(CostCode).where(CostCode.procore_id == procore_id))).first()
    if code is None:
        return
    state = State(code.state)
    if state is State.FAILED:
        code = await statemachine.transition(
            session, code=code, target=State.READY, actor=ACTOR, surface=SURFACE, detail=reason
        )
        state = State.READY
    if state is State.READY:
        await statemachine.transition(
            session, code=code, target=State.REJECTED, actor=ACTOR, surface=SURFACE, detail=reason
        )
        report.removed.append(code.code)
    elif state is not State.REJECTED:
        when = "after export" if state is State.SUCCESS else "during export"
        await statemachine.audit(
            session,
            actor=ACTOR,
            surface=SURFACE,
            action="procore change",
            code=code,
            detail=f"{reason} {when}; QuickBooks untouched",
        )
        report.after_export.append(code.code)


async def mark_deleted(
    session: AsyncSession, row: ProcoreCode, report: ReconcileReport, now: datetime
) -> None:
    if row.deleted:
        return
    await take_out(session, row.id, DELETED, report)
    row.deleted = True
    row.updated_at = now
    session.add(row)


async def apply_full_read(
    session: AsyncSession, codes: Sequence[SourceCode], now: datetime
) -> ReconcileReport:
    """A whole list: new and changed codes in, codes no longer there out."""
    report = ReconcileReport(read=len(codes))
    # Deletions first: a code deleted and made again under a new id is then followed anew.
    present = {code.id for code in codes}
    known = (
        await session.exec(select(ProcoreCode).where(col(ProcoreCode.deleted).is_(False)))
    ).all()
    for row in known:
        if row.id not in present:
            await mark_deleted(session, row, report, now)
    await apply_items(session, items_from(codes), report, now)
    return report
