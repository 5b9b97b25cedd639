"""GL accounts: the picker search and applying a chart of accounts synced from QuickBooks."""

from __future__ import annotations

import asyncio
import csv
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Row, ScalarSelect, bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts import memory
from bot.costcodes.domain import AccountView
from bot.errors import NotFound
from bot.interpreter import quick_switches
from bot.store import db
from bot.store.models import AppSetting, GLAccount, QbwcJob
from bot.webconnector.states import WAITING_JOB
from qbd.qbxml.types import AccountInfo

ACCOUNTS_SYNC = "accounts_sync"
SEARCH_LIMIT = 100
"""Slack's external_select shows at most 100 options."""
_CHUNK = 500
WRITE_CHUNK = 500
"""Rows a sync writes in one transaction of its own, the longest a pick waits for: 2,000 held
SQLite's writer for 50–90 ms (issue 17, goal 2), 500 for about a quarter of that."""
_READ_PART = 250
"""Existing rows read per round trip to the database while a sync compares."""


class Purpose(StrEnum):
    """Which picker asks: each shows its own account types first."""

    INCOME = "income"
    EXPENSE = "expense"


PREFERRED_TYPES: dict[Purpose, tuple[str, ...]] = {
    Purpose.INCOME: ("Income", "OtherIncome"),
    Purpose.EXPENSE: ("Expense", "OtherExpense", "CostOfGoodsSold"),
}


def search_text(number: str | None, full_name: str, name: str) -> str:
    return f"{number or ''} {full_name} {name}".lower()


def to_view(account: GLAccount) -> AccountView:
    assert account.id is not None
    return AccountView(
        id=account.id,
        full_name=account.full_name,
        number=account.number,
        account_type=account.account_type,
        active=account.active,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_accounts(
    session: AsyncSession, *, query: str, purpose: Purpose, limit: int = SEARCH_LIMIT
) -> list[AccountView]:
    """Active accounts whose number or name contains `query` (any case), preferred types first.

    The same search in SQL: the pickers use `bot.accounts.index` (fast over 100,000 accounts),
    whose tests and benchmark hold it to this definition.
    """
    preferred = PREFERRED_TYPES[purpose]
    found: list[GLAccount] = []
    for wanted in (True, False):
        if len(found) >= limit:
            break
        type_filter = col(GLAccount.account_type).in_(preferred)
        statement = select(GLAccount).where(
            col(GLAccount.active).is_(True), type_filter if wanted else ~type_filter
        )
        needle = query.strip().lower()
        if needle:
            statement = statement.where(
                col(GLAccount.search_text).like(f"%{_escape_like(needle)}%", escape="\\")
            )
        statement = statement.order_by(col(GLAccount.full_name)).limit(limit - len(found))
        found.extend((await session.exec(statement)).all())
    return [to_view(account) for account in found]


async def get_account(session: AsyncSession, account_id: int) -> GLAccount:
    account = await session.get(GLAccount, account_id)
    require_active(account.active if account is not None else None)
    assert account is not None
    return account


def is_active(account_id: int) -> ScalarSelect[bool]:
    """Whether the account may be picked, as a subquery (NULL when it is not in the chart)."""
    return select(col(GLAccount.active)).where(col(GLAccount.id) == account_id).scalar_subquery()


def require_active(active: bool | None) -> None:
    """`is_active`'s answer: an account gone from the chart or inactive may not be picked."""
    if not active:
        raise NotFound("That GL account is no longer in QuickBooks; please pick another.")


async def find_account(session: AsyncSession, name_or_number: str) -> GLAccount:
    """An active account by exact full name or number (the operator's CLI spelling)."""
    wanted = name_or_number.strip()
    statement = select(GLAccount).where(
        col(GLAccount.active).is_(True),
        (col(GLAccount.full_name) == wanted) | (col(GLAccount.number) == wanted),
    )
    matches = (await session.exec(statement)).all()
    if len(matches) != 1:
        problem = "no active GL account" if not matches else "more than one GL account"
        raise NotFound(f'There is {problem} with the full name or number "{wanted}".')
    return matches[0]


@dataclass(frozen=True, slots=True)
class SyncCounts:
    """What an account sync changed, for the reply in Slack and the CLI."""

    new: int
    changed: int
    inactivated: int
    unchanged: int


@dataclass(slots=True)
class ChartPlan:
    """What applying a chart will write, worked out from a read of the table (no write lock)."""

    now: datetime
    new_rows: list[dict[str, object]]
    changes: list[dict[str, object]]
    """Changed accounts' new values, each with its row's id as `row_id`."""
    gone: list[int]
    unchanged: int

    @property
    def counts(self) -> SyncCounts:
        return SyncCounts(len(self.new_rows), len(self.changes), len(self.gone), self.unchanged)

    @property
    def rows(self) -> int:
        return len(self.new_rows) + len(self.changes)


async def apply_chart(
    session: AsyncSession, accounts: Iterable[AccountInfo], *, now: datetime | None = None
) -> SyncCounts:
    """Make the table match QuickBooks' chart: upsert by ListID; accounts gone become inactive.

    All in the caller's transaction; the Web Connector instead writes a plan's rows in short
    transactions of their own (`write_rows`) and only finishes in its transaction.
    """
    plan = await plan_chart(session, accounts, now=now or db.now(session))
    await _write(session, plan.new_rows, plan.changes)
    return await finish_chart(session, plan)


async def plan_chart(
    session: AsyncSession, accounts: Iterable[AccountInfo], *, now: datetime
) -> ChartPlan:
    """Compare QuickBooks' chart with the table; any session will do, a read one is enough.

    A chart of 100,000 accounts is seconds of Python: it is read as plain rows, not ORM objects,
    and compared in a thread with 1 ms switches (`bot.interpreter`), so Slack acks and searches
    go on while a sync is applied (bench/chart_acks.py). Compared on the loop in slices, picks
    waited 200–400 ms behind it: every statement of theirs waited for the loop's turn and the
    database's threads for the interpreter lock (issue 17, goal 2).
    """
    existing = await _existing(session)
    with quick_switches():
        plan = await asyncio.to_thread(_compare, existing, accounts, now)
    await memory.drop(existing)
    return plan


def _compare(
    existing: dict[str, Row[Any]], accounts: Iterable[AccountInfo], now: datetime
) -> ChartPlan:
    """Pure Python over the whole chart: in a thread, so the event loop and the database's
    threads take turns with it every millisecond instead of queueing behind its slices."""
    seen: set[str] = set()
    plan = ChartPlan(now=now, new_rows=[], changes=[], gone=[], unchanged=0)
    for info in accounts:
        seen.add(info.list_id)
        values = _values(info)
        current = existing.get(info.list_id)
        if current is None:
            plan.new_rows.append(
                {**values, "list_id": info.list_id, "last_synced": now, "created_at": now}
                | {"updated_at": now}
            )
        elif tuple(values.values()) != tuple(current[2:]):
            plan.changes.append(
                {**values, "row_id": current.id, "last_synced": now} | {"updated_at": now}
            )
        else:
            plan.unchanged += 1  # last_synced is left as it was: no write for an unchanged account
    # A set difference, in C: a Python loop over 100,000 rows here took ~90 ms.
    missing = (existing[list_id] for list_id in existing.keys() - seen)
    plan.gone = sorted(row.id for row in missing if row.active)
    return plan


async def write_rows(sessions: db.SessionFactory, plan: ChartPlan) -> None:
    """A plan's new and changed rows, `WRITE_CHUNK` at a time, each chunk its own short
    transaction at the back of SQLite's writer queue: picks and their acks go between chunks.

    Rows written before a crash stay; the sync asked again converges, as rows are by ListID.
    """
    for rows, is_new in ((plan.new_rows, True), (plan.changes, False)):
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start : start + WRITE_CHUNK]
            async with db.session_scope(sessions, background=True) as session:
                await _write(session, chunk if is_new else [], [] if is_new else chunk)


async def _write(
    session: AsyncSession, new_rows: list[dict[str, object]], changes: list[dict[str, object]]
) -> None:
    table = GLAccount.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    for start in range(0, len(new_rows), _CHUNK):
        await conn.execute(insert(table), new_rows[start : start + _CHUNK])
    if changes:  # one statement for them all, each row's values bound by name
        await conn.execute(update(table).where(table.c.id == bindparam("row_id")), changes)


async def finish_chart(session: AsyncSession, plan: ChartPlan) -> SyncCounts:
    """The last step of a sync: accounts gone become inactive and every index hears of it."""
    now = plan.now
    for start in range(0, len(plan.gone), _CHUNK):
        await session.exec(
            update(GLAccount)
            .where(col(GLAccount.id).in_(plan.gone[start : start + _CHUNK]))
            .values(active=False, last_synced=now, updated_at=now)
        )
    if plan.rows or plan.gone:
        await bump_version(session, now)
    return plan.counts


async def _existing(session: AsyncSession) -> dict[str, Row[Any]]:
    """Every account as (list_id, id, *_FIELDS), by ListID, read a partition at a time."""
    table = GLAccount.__table__  # type: ignore[attr-defined]
    statement = sa_select(table.c.list_id, table.c.id, *(table.c[name] for name in _FIELDS))
    conn = await session.connection()
    found: dict[str, Row[Any]] = {}
    result = await conn.stream(statement)
    async for rows in result.partitions(_READ_PART):
        found.update((row.list_id, row) for row in rows)
    return found


async def bump_version(session: AsyncSession, now: datetime) -> None:
    """Tell every process's account index that the chart changed."""
    stamp = now.isoformat() + "/" + uuid.uuid4().hex[:8]
    found = await session.get(AppSetting, "accounts_version")
    if found is None:
        session.add(AppSetting(key="accounts_version", value=stamp))
    else:
        found.value = stamp


_FIELDS = ("name", "full_name", "number", "account_type", "active", "search_text")


def _values(info: AccountInfo) -> dict[str, object]:
    """The stored fields of an account, in `_FIELDS` order (compared to a row as a tuple)."""
    return {
        "name": info.name,
        "full_name": info.full_name,
        "number": info.number,
        "account_type": info.account_type,
        "active": info.active,
        "search_text": search_text(info.number, info.full_name, info.name),
    }


def read_accounts_csv(path: Path) -> list[AccountInfo]:
    """A chart of accounts as CSV, like the example one (bot/sandbox/example_data.py)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [
            AccountInfo(
                list_id=row["list_id"],
                full_name=row["full_name"],
                name=row["name"],
                number=row["number"] or None,
                account_type=row["account_type"],
                active=row["active"].strip().lower() == "true",
            )
            for row in csv.DictReader(handle)
        ]


async def queue_sync(
    session: AsyncSession,
    *,
    requested_by: str,
    channel: str | None = None,
    thread_ts: str | None = None,
) -> tuple[QbwcJob, bool]:
    """Ask the Web Connector for the chart of accounts; (job, False) when one is already waiting."""
    statement = select(QbwcJob).where(
        col(QbwcJob.kind) == ACCOUNTS_SYNC, col(QbwcJob.state).in_(WAITING_JOB)
    )
    waiting = (await session.exec(statement)).first()
    if waiting is not None:
        return waiting, False
    now = db.now(session)
    job = QbwcJob(
        kind=ACCOUNTS_SYNC,
        requested_by=requested_by,
        channel=channel,
        thread_ts=thread_ts,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    await session.flush()
    return job, True
